package download

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"

	"github.com/etcd-dr/etcd-dr/engine/catalog"
	"github.com/etcd-dr/etcd-dr/engine/crypt"
	"github.com/etcd-dr/etcd-dr/engine/fault"
	"github.com/etcd-dr/etcd-dr/engine/format"
	"github.com/etcd-dr/etcd-dr/engine/progress"
	"github.com/etcd-dr/etcd-dr/store"
)

// Verified is what reading one object proved.
type Verified struct {
	Key string `json:"key"`
	// Bytes is the size after decompression/decryption (what was written out).
	Bytes int64 `json:"bytes"`
	// SHA256 is the hex sha256 of the content without its trailer, as checked against the trailer.
	SHA256 string `json:"sha256"`
	// HasTrailer is false only for full snapshots stored without etcd's appended sha256.
	HasTrailer bool `json:"hasTrailer"`
}

// Object streams one backup object into w: decrypted and decompressed on the fly, its sha256 trailer verified
// (and the stored-bytes sha256 from metadata, when present). m counts bytes written (may be nil).
// A full snapshot without a trailer is an error (its integrity cannot be proven); w has then received every byte.
func Object(ctx context.Context, st *store.Store, snap catalog.Snapshot, w io.Writer, m *progress.Meter, dec crypt.Decrypter) (Verified, error) {
	rc, err := st.NewReader(ctx, snap.Key)
	if err != nil {
		return Verified{Key: snap.Key}, err
	}
	defer rc.Close()
	return verify(ctx, st, snap, rc, w, m, dec)
}

// Stream is Object for stored bytes the caller reads itself (copy tees them to another store while they are
// checked here): raw is the object's bytes as stored. A read error of raw is returned unclassified (I/O), bad
// bytes are a fault.ErrProblems naming the object. k3s zip archives are read by their directory, not as a
// stream: use Object for them.
func Stream(ctx context.Context, snap catalog.Snapshot, raw io.Reader, w io.Writer, m *progress.Meter, dec crypt.Decrypter) (Verified, error) {
	if snap.Codec == format.Zip {
		return Verified{Key: snap.Key}, fmt.Errorf("object %s: a zip archive is verified by its directory (ranged reads), not as a stream", snap.Key)
	}
	return verify(ctx, nil, snap, raw, w, m, dec)
}

// verify checks the stored bytes read from rc (st is needed only for zip archives, whose entry is read by ranged
// reads; rc then only feeds the stored-bytes hash).
func verify(ctx context.Context, st *store.Store, snap catalog.Snapshot, rc io.Reader, w io.Writer, m *progress.Meter, dec crypt.Decrypter) (Verified, error) {
	v := Verified{Key: snap.Key}
	var err error
	src := &trackedReader{r: rc}
	var raw io.Reader = src
	var rawHash = sha256.New()
	if snap.SHA256 != "" {
		raw = io.TeeReader(src, rawHash)
	}
	if snap.Encrypted {
		if dec == nil {
			return v, &fault.Encrypted{Object: snap.Key}
		}
		if raw, err = dec(raw); err != nil {
			return v, fault.Problems("decrypt %s: %v", snap.Key, err)
		}
	}
	var plain io.ReadCloser
	if snap.Codec == format.Zip {
		// k3s/rke2 archives: read by their directory at the end, not as the stream opened above.
		plain, err = openZip(ctx, st, snap.Key, snap.Size)
		if err != nil {
			return v, err
		}
	} else if plain, err = format.NewDecompressor(raw, snap.Codec); err != nil {
		return v, fault.Problems("object %s: %v (the object is corrupt or not %s-compressed)", snap.Key, err, snap.Codec)
	}
	defer plain.Close()
	th := format.NewTrailerHash()
	var copyErr error
	if w == io.Discard && m == nil {
		// Verification only: hash straight from the reader, no second goroutine to feed.
		_, copyErr = io.CopyBuffer(th, plain, make([]byte, copyBufSize))
	} else {
		_, copyErr = TeeCopy(ctx, progress.Writer{W: w, M: m}, plain, th)
	}
	if err := copyErr; err != nil {
		if src.err != nil || ctx.Err() != nil {
			return v, fmt.Errorf("read %s: %w", snap.Key, err)
		}
		return v, fault.Problems("object %s is corrupt: %v after %d bytes (decompressing %s)", snap.Key, err, th.Size(), snap.Codec)
	}
	v.Bytes = th.Size()
	v.SHA256 = th.Sum()
	if snap.SHA256 != "" {
		// Drain what the decompressor left unread so the stored-bytes hash covers the whole object.
		if _, err := io.Copy(io.Discard, raw); err != nil {
			return v, fmt.Errorf("read %s: %w", snap.Key, err)
		}
		if got := hex.EncodeToString(rawHash.Sum(nil)); got != snap.SHA256 {
			return v, fault.Problems("object %s: stored bytes hash to sha256 %s but its metadata records %s: the object changed or is corrupt", snap.Key, got[:16], snap.SHA256)
		}
	}
	return checkTrailer(snap, th, v)
}

// checkTrailer finishes a verification: a full snapshot must carry etcd's sha256 trailer, and every trailer must
// match the content before it.
func checkTrailer(snap catalog.Snapshot, th *format.TrailerHash, v Verified) (Verified, error) {
	v.Bytes = th.Size()
	v.SHA256 = th.Sum()
	if snap.Kind == catalog.Full && !format.HasSnapshotTrailer(v.Bytes) {
		return v, fault.Problems("full snapshot %s (%d bytes) carries no sha256 trailer: it is truncated, or a copied db file rather than a snapshot; its integrity cannot be proven", snap.Key, v.Bytes)
	}
	v.HasTrailer = true
	if err := th.Verify(); err != nil {
		return v, fault.Problems("object %s (revisions %d-%d) failed its checksum: %v", snap.Key, snap.StartRevision, snap.EndRevision, err)
	}
	return v, nil
}

// trackedReader remembers a read error of the store, to tell I/O failures (exit 1) from corrupt bytes (exit 3).
type trackedReader struct {
	r   io.Reader
	err error
}

func (t *trackedReader) Read(p []byte) (int, error) {
	n, err := t.r.Read(p)
	if err != nil && err != io.EOF {
		t.err = err
	}
	return n, err
}
