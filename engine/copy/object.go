package copy

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/etcd-dr/etcd-dr/engine/catalog"
	"github.com/etcd-dr/etcd-dr/engine/download"
	"github.com/etcd-dr/etcd-dr/engine/fault"
	"github.com/etcd-dr/etcd-dr/engine/format"
	"github.com/etcd-dr/etcd-dr/store"
)

// Uploads go as snapshot's full snapshots do (engine/snapshot stream.go): 5 MiB parts, 4 at a time, so memory
// stays constant at any object size and a copy moves as fast as a snapshot upload.
const (
	uploadPartSize    = 5 << 20
	uploadConcurrency = 4
)

// errVerified ends the feed of a verifier that has finished.
var errVerified = errors.New("verification finished")

// copyObject streams one object from the source to the target, its stored bytes unchanged and its metadata with
// it, and commits it at the target only when its bytes checked out; otherwise the target's writer is aborted
// and nothing becomes visible.
func copyObject(ctx context.Context, cfg Config, p planned, m *meter) (err error) {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	snap := p.snap
	if snap != nil {
		s := *snap
		if v := p.src.Metadata[catalog.MetaSHA256]; v != "" {
			s.SHA256 = v // deltas' metadata is not read to list; check the stored bytes against it too
		}
		snap = &s
		if snap.Codec == format.Zip {
			// A k3s archive is checked by its directory (ranged reads), before its bytes are copied as they are.
			if _, err := download.Object(ctx, cfg.Src, *snap, io.Discard, nil, cfg.Decrypt); err != nil {
				return err
			}
			snap = nil
		}
	}
	rc, err := cfg.Src.NewReader(ctx, p.key)
	if err != nil {
		return err
	}
	defer rc.Close()
	w, err := cfg.Dst.NewWriter(ctx, p.dstKey, store.WriteOptions{Metadata: copyMeta(p.src), BufferSize: uploadPartSize, MaxConcurrency: uploadConcurrency})
	if err != nil {
		return fmt.Errorf("target %s: %w", cfg.Dst.URL(), err)
	}
	defer w.Abort() // a no-op after Commit
	src := &readErr{r: rc}
	var n int64
	switch {
	case snap == nil:
		n, err = download.TeeCopy(ctx, counted{w: w, m: m}, src, io.Discard)
	case snap.Encrypted && cfg.Decrypt == nil:
		n, err = rawVerified(ctx, *snap, counted{w: w, m: m}, src)
	default:
		n, err = streamVerified(ctx, cancel, *snap, counted{w: w, m: m}, src, cfg)
	}
	if err != nil {
		if src.err != nil {
			return fmt.Errorf("read %s at the source: %w", p.key, src.err)
		}
		return err
	}
	if n != p.src.Size {
		return fmt.Errorf("read %s at the source: %d bytes, but it holds %d (did it change while being copied?)", p.key, n, p.src.Size)
	}
	if err := w.Commit(); err != nil {
		return fmt.Errorf("target %s: %w", cfg.Dst.URL(), err)
	}
	return keepTime(cfg.Dst, p.dstKey, p.src.ModTime)
}

// keepTime gives a copy on a directory store its source's modification time: etcd-operator (and other tools
// whose names carry no time) date a backup by its file's time, so a copy dated now would look like a new backup
// to list, --max-age and gc. An object store sets its own time on upload; there the copy is dated when copied.
func keepTime(st *store.Store, key string, t time.Time) error {
	p, ok := st.LocalPath(key)
	if !ok || t.IsZero() {
		return nil
	}
	if err := os.Chtimes(p, t, t); err != nil {
		return fmt.Errorf("keep the time of %s at the target %s: %w", key, st.URL(), err)
	}
	return nil
}

// streamVerified copies src to dst while download.Stream checks the same bytes in a goroutine of its own
// (decrypted, decompressed, trailer and metadata sha256): the object's bytes are read once. A verification that
// fails stops the copy.
func streamVerified(ctx context.Context, cancel context.CancelCauseFunc, snap catalog.Snapshot, dst io.Writer, src io.Reader, cfg Config) (int64, error) {
	pr, pw := io.Pipe()
	verified := make(chan error, 1)
	go func() {
		_, err := download.Stream(ctx, snap, pr, io.Discard, nil, cfg.Decrypt)
		pr.CloseWithError(errVerified) // the feed stops waiting for a reader that is gone
		if err != nil {
			cancel(err)
		}
		verified <- err
	}()
	n, err := download.TeeCopy(ctx, dst, src, pw)
	if err != nil {
		pw.CloseWithError(err)
	} else {
		pw.Close()
	}
	verr := <-verified
	switch {
	case verr != nil && !errors.Is(verr, context.Canceled):
		return n, verr // the object's own fault is the better reason, even when it also stopped the copy
	case err != nil:
		if cause := context.Cause(ctx); cause != nil && !errors.Is(cause, context.Canceled) {
			return n, cause
		}
		return n, err
	}
	return n, verr
}

// rawVerified copies an encrypted object that cannot be opened (no identity) checking its stored bytes against
// the sha256 its metadata records; without one its integrity cannot be proven and it is refused.
func rawVerified(ctx context.Context, snap catalog.Snapshot, dst io.Writer, src io.Reader) (int64, error) {
	if snap.SHA256 == "" {
		return 0, &fault.Encrypted{Object: snap.Key}
	}
	h := sha256.New()
	n, err := download.TeeCopy(ctx, dst, src, h)
	if err != nil {
		return n, err
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != snap.SHA256 {
		return n, fault.Problems("object %s: stored bytes hash to sha256 %s but its metadata records %s: the object changed or is corrupt", snap.Key, got[:16], snap.SHA256)
	}
	return n, nil
}

// readErr remembers a read error of the source, to tell a failing store (exit 1) from corrupt bytes (exit 3).
type readErr struct {
	r   io.Reader
	err error
}

func (r *readErr) Read(p []byte) (int, error) {
	n, err := r.r.Read(p)
	if err != nil && err != io.EOF {
		r.err = err
	}
	return n, err
}

// tailSize is how much of an object's end is compared: the sha256 trailer of a plain snapshot or delta; for a
// compressed one the end of the stream with its own checksum (gzip CRC-32 and length, zlib Adler-32, zstd
// xxhash); for an age file the last chunk's authentication tag.
const tailSize = 32

// sameAtTarget decides whether the target already holds the object under its key: same size, same end (each
// format's own checksum, see tailSize), and the same stored-bytes sha256 when the source records one. It returns
// why it is skipped, or a problem when a different object holds the key (never replaced: a copy deletes nothing).
func sameAtTarget(ctx context.Context, cfg Config, it item, src, dst store.Object) (string, error) {
	differs := func(what string) error {
		return fault.Problems("%s is already at the target %s but %s; not replaced (a copy never deletes): move it away at the target, or copy into another store",
			it.dstKey, cfg.Dst.URL(), what)
	}
	if dst.Size != src.Size {
		return "", differs(fmt.Sprintf("holds %d bytes there and %d at the source", dst.Size, src.Size))
	}
	n := min(int64(tailSize), src.Size)
	a, err := tail(ctx, cfg.Src, it.key, src.Size, n)
	if err != nil {
		return "", fmt.Errorf("read the end of %s at the source: %w", it.key, err)
	}
	b, err := tail(ctx, cfg.Dst, it.dstKey, dst.Size, n)
	if err != nil {
		return "", fmt.Errorf("read the end of %s at the target %s: %w", it.dstKey, cfg.Dst.URL(), err)
	}
	if !bytes.Equal(a, b) {
		return "", differs("its bytes differ (same size, another checksum)")
	}
	if want := src.Metadata[catalog.MetaSHA256]; want != "" {
		d, err := cfg.Dst.Attributes(ctx, it.dstKey)
		if err != nil {
			return "", fmt.Errorf("read the metadata of %s at the target %s: %w", it.dstKey, cfg.Dst.URL(), err)
		}
		if got := d.Metadata[catalog.MetaSHA256]; got != want {
			return "", differs(fmt.Sprintf("its metadata records sha256 %q, the source's %q", got, want))
		}
	}
	return "already at the target: same size and checksum", nil
}

// tail reads the last n bytes of an object of size bytes.
func tail(ctx context.Context, st *store.Store, key string, size, n int64) ([]byte, error) {
	if n == 0 {
		return nil, nil
	}
	rc, err := st.NewRangeReader(ctx, key, size-n, n)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	return io.ReadAll(rc)
}
