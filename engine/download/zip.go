package download

import (
	"archive/zip"
	"compress/flate"
	"context"
	"fmt"
	"hash/crc32"
	"io"
	"path"
	"strings"

	"github.com/etcd-dr/etcd-dr/engine/fault"
	"github.com/etcd-dr/etcd-dr/store"
)

// maxDeflateRatio is the most Deflate can expand (a 258-byte match per ~2 bits): an entry declaring more than
// this many times its compressed size lies about itself (a zip bomb).
const maxDeflateRatio = 1032

// ZipEntry checks the zip archive k3s/rke2 writes for a snapshot (--etcd-snapshot-compress) from its directory,
// read with a few ranged reads: exactly one Deflate entry, named like the object without .zip, whose declared size
// Deflate can produce from its compressed bytes. Anything else is a problem naming the object.
func ZipEntry(ctx context.Context, st *store.Store, key string, size int64) (*zip.File, error) {
	zr, err := zip.NewReader(st.ReaderAt(ctx, key), size)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, fault.Problems("object %s is not a readable zip archive: %v", key, err)
	}
	if len(zr.File) != 1 {
		return nil, fault.Problems("zip archive %s holds %d entries; a k3s snapshot archive holds exactly one (the db)", key, len(zr.File))
	}
	f := zr.File[0]
	want := strings.TrimSuffix(path.Base(key), ".zip")
	switch {
	case f.Method != zip.Deflate:
		return nil, fault.Problems("zip archive %s: entry %s is not Deflate-compressed (method %d)", key, f.Name, f.Method)
	case path.Base(f.Name) != want:
		return nil, fault.Problems("zip archive %s: its entry is %q, want %q (the archive's own name without .zip)", key, f.Name, want)
	case f.UncompressedSize64 > maxDeflateRatio*(f.CompressedSize64+1):
		return nil, fault.Problems("zip archive %s: entry %s claims %d bytes from %d compressed, more than Deflate can produce (a zip bomb)", key, f.Name, f.UncompressedSize64, f.CompressedSize64)
	}
	return f, nil
}

// openZip streams the entry's db with one ranged read of its compressed bytes, never more than it declares, and
// checks its CRC-32 at the end.
func openZip(ctx context.Context, st *store.Store, key string, size int64) (io.ReadCloser, error) {
	f, err := ZipEntry(ctx, st, key, size)
	if err != nil {
		return nil, err
	}
	off, err := f.DataOffset()
	if err != nil {
		return nil, fault.Problems("zip archive %s: %v", key, err)
	}
	rc, err := st.NewRangeReader(ctx, key, off, int64(f.CompressedSize64))
	if err != nil {
		return nil, err
	}
	return &zipEntryReader{key: key, raw: rc, fl: flate.NewReader(rc), left: int64(f.UncompressedSize64), crc: crc32.NewIEEE(), want: f.CRC32}, nil
}

type zipEntryReader struct {
	key  string
	raw  io.ReadCloser
	fl   io.ReadCloser
	left int64
	crc  interface {
		io.Writer
		Sum32() uint32
	}
	want uint32
}

func (z *zipEntryReader) Read(p []byte) (int, error) {
	if z.left <= 0 {
		// The entry must end where it says: one byte more is a lie (a bomb), an early end a cut archive.
		var one [1]byte
		if n, _ := z.fl.Read(one[:]); n > 0 {
			return 0, fmt.Errorf("zip entry of %s holds more bytes than it declares (a zip bomb or a damaged archive)", z.key)
		}
		if z.crc.Sum32() != z.want {
			return 0, fmt.Errorf("zip entry of %s fails its CRC-32", z.key)
		}
		return 0, io.EOF
	}
	if int64(len(p)) > z.left {
		p = p[:z.left]
	}
	n, err := z.fl.Read(p)
	z.left -= int64(n)
	_, _ = z.crc.Write(p[:n])
	if err == io.EOF && z.left > 0 {
		err = io.ErrUnexpectedEOF
	}
	if err == io.EOF {
		err = nil // checked on the next call
	}
	return n, err
}

func (z *zipEntryReader) Close() error {
	_ = z.fl.Close()
	return z.raw.Close()
}
