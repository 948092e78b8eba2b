package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"golang.org/x/sys/unix"
)

// metadataXattr is the extended attribute that holds an object's metadata on a directory store (JSON of the map).
//
// Why not gocloud's fileblob sidecars: fileblob writes "<object>.attrs" beside every object, and
// etcd-backup-restore's local store parses "Full-<rev>-<rev>-<time>.gz.attrs" as one more full snapshot (".gz" as
// its compression, "attrs" ignored), so it would try to restore from a JSON file. An extended attribute travels with
// the file and is invisible to every directory walker.
const metadataXattr = "user.etcd-dr.metadata"

// fileblobSidecar is the suffix of the metadata files gocloud's fileblob writes beside objects.
const fileblobSidecar = ".attrs"

// fileWriter writes one object of a directory store: a temporary file beside its final name (named as fileblob
// names its own, so List hides it), synced to disk, its metadata set as an extended attribute, then renamed into
// place and the directory synced. fileblob neither syncs nor avoids sidecars; a backup on a persistent volume
// must survive the host crashing right after the daemon said it was written.
type fileWriter struct {
	ctx  context.Context
	f    *os.File
	path string
	meta map[string]string
}

func newFileWriter(ctx context.Context, path string, meta map[string]string) (*fileWriter, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, err
	}
	for {
		tmp := fmt.Sprintf("%s.%x.tmp", path, time.Now().UnixNano())
		f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if errors.Is(err, os.ErrExist) {
			continue
		}
		if err != nil {
			return nil, err
		}
		return &fileWriter{ctx: ctx, f: f, path: path, meta: meta}, nil
	}
}

func (w *fileWriter) Write(p []byte) (int, error) {
	if err := w.ctx.Err(); err != nil {
		return 0, err
	}
	return w.f.Write(p)
}

func (w *fileWriter) commit() error {
	if err := w.ctx.Err(); err != nil {
		w.abort()
		return err
	}
	err := w.f.Sync()
	if err == nil && len(w.meta) > 0 {
		err = setMetadataXattr(w.f, w.meta)
	}
	if cerr := w.f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(w.f.Name(), w.path)
	}
	if err != nil {
		os.Remove(w.f.Name()) // our own temporary file
		return err
	}
	// A sidecar left by an older write describes the object this one replaced.
	if err := os.Remove(w.path + fileblobSidecar); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	return syncDir(filepath.Dir(w.path))
}

func (w *fileWriter) abort() {
	w.f.Close()
	os.Remove(w.f.Name()) // our own temporary file
}

// setMetadataXattr records meta on f. A filesystem without user extended attributes (some NFS mounts) keeps
// the object without them: it then reads like an etcd-backup-restore object, whose names carry no etcd version.
func setMetadataXattr(f *os.File, meta map[string]string) error {
	b, err := json.Marshal(meta)
	if err != nil {
		return err
	}
	if err := unix.Fsetxattr(int(f.Fd()), metadataXattr, b, 0); err != nil && !errors.Is(err, unix.ENOTSUP) {
		return fmt.Errorf("set extended attribute %s on %s: %w", metadataXattr, f.Name(), err)
	}
	return nil
}

// metadataFromXattr reads what setMetadataXattr recorded; ok is false when the file has none.
func metadataFromXattr(path string) (meta map[string]string, ok bool, err error) {
	buf := make([]byte, 4096)
	n, err := unix.Getxattr(path, metadataXattr, buf)
	if errors.Is(err, unix.ERANGE) {
		if n, err = unix.Getxattr(path, metadataXattr, nil); err == nil {
			buf = make([]byte, n)
			n, err = unix.Getxattr(path, metadataXattr, buf)
		}
	}
	if errors.Is(err, unix.ENODATA) || errors.Is(err, unix.ENOTSUP) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("read extended attribute %s of %s: %w", metadataXattr, path, err)
	}
	if err := json.Unmarshal(buf[:n], &meta); err != nil {
		return nil, false, fmt.Errorf("extended attribute %s of %s is not etcd-dr metadata: %w", metadataXattr, path, err)
	}
	return meta, true, nil
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
