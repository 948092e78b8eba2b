// Package format reads and writes the bytes of backup objects: compression, the sha256 trailer that etcd
// appends to snapshots, and etcd-backup-restore's delta (incremental) snapshot encoding.
package format

import (
	"compress/lzw"
	"fmt"
	"io"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zlib"
	"github.com/klauspost/compress/zstd"
)

// Compression names how an object's bytes are compressed.
type Compression string

// Compressions etcd-dr reads; it writes gzip, zstd and none (zlib and lzw only for etcd-backup-restore fixtures).
const (
	None Compression = ""
	Gzip Compression = "gzip"
	Zlib Compression = "zlib"
	LZW  Compression = "lzw"
	Zstd Compression = "zstd"
	// Zip is one Deflate entry in a zip archive (k3s/rke2 --etcd-snapshot-compress); it needs the archive's
	// directory at its end, so it is read through the download package, not NewDecompressor.
	Zip Compression = "zip"
)

// lzwLiteralWidth and lzw.LSB are what etcd-backup-restore uses for ".Z" objects.
const lzwLiteralWidth = 8

var suffixes = map[Compression]string{None: "", Gzip: ".gz", Zlib: ".zlib", LZW: ".Z", Zstd: ".zst", Zip: ".zip"}

// Suffix is the object-name suffix for c (".gz", ".zlib", ".Z", ".zst" or "").
func (c Compression) Suffix() string { return suffixes[c] }

// String is the name shown to users ("none" for no compression).
func (c Compression) String() string {
	if c == None {
		return "none"
	}
	return string(c)
}

// CompressionForSuffix maps an object-name suffix to its compression.
func CompressionForSuffix(s string) (Compression, bool) {
	for c, suf := range suffixes {
		if suf == s {
			return c, true
		}
	}
	return None, false
}

// ParseCompression parses a --compression flag value.
func ParseCompression(s string) (Compression, error) {
	switch s {
	case "gzip":
		return Gzip, nil
	case "zstd":
		return Zstd, nil
	case "none", "":
		return None, nil
	}
	return None, fmt.Errorf("unknown compression %q: use gzip, zstd or none", s)
}

// NewDecompressor streams the uncompressed bytes of r.
func NewDecompressor(r io.Reader, c Compression) (io.ReadCloser, error) {
	switch c {
	case None:
		return io.NopCloser(r), nil
	case Gzip:
		zr, err := gzip.NewReader(r)
		if err != nil {
			return nil, fmt.Errorf("gzip header: %w", err)
		}
		return zr, nil
	case Zlib:
		zr, err := zlib.NewReader(r)
		if err != nil {
			return nil, fmt.Errorf("zlib header: %w", err)
		}
		return zr, nil
	case LZW:
		return lzw.NewReader(r, lzw.LSB, lzwLiteralWidth), nil
	case Zstd:
		zr, err := zstd.NewReader(r, zstd.WithDecoderConcurrency(1), zstd.WithDecoderLowmem(true))
		if err != nil {
			return nil, fmt.Errorf("zstd header: %w", err)
		}
		return zr.IOReadCloser(), nil
	case Zip:
		return nil, fmt.Errorf("a zip archive cannot be read as a stream (its directory is at its end)")
	}
	return nil, fmt.Errorf("unknown compression %q", c)
}

// NewCompressor compresses what is written into w; Close flushes (it does not close w).
func NewCompressor(w io.Writer, c Compression) (io.WriteCloser, error) {
	switch c {
	case None:
		return nopWriteCloser{w}, nil
	case Gzip:
		return gzip.NewWriterLevel(w, gzip.BestSpeed)
	case Zlib:
		return zlib.NewWriterLevel(w, zlib.BestSpeed)
	case LZW:
		return lzw.NewWriter(w, lzw.LSB, lzwLiteralWidth), nil
	case Zstd:
		return zstd.NewWriter(w, zstd.WithEncoderLevel(zstd.SpeedFastest), zstd.WithEncoderConcurrency(1))
	}
	return nil, fmt.Errorf("unknown compression %q", c)
}

type nopWriteCloser struct{ io.Writer }

func (nopWriteCloser) Close() error { return nil }
