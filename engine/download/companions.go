package download

import (
	"context"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"

	"github.com/etcd-dr/etcd-dr/engine/catalog"
	"github.com/etcd-dr/etcd-dr/engine/fault"
	"github.com/etcd-dr/etcd-dr/store"
)

// maxCompanionBytes bounds a companion copied beside a download: OpenShift's static pod resources are a few MiB.
const maxCompanionBytes = 1 << 30

// writeCompanions copies the files another tool keeps beside the snapshot (OpenShift's static pod resources, k3s's
// record, etcd-manager's meta) into dir, as they are: the restore point is the snapshot and these together.
func writeCompanions(ctx context.Context, st *store.Store, base catalog.Snapshot, dir string, force bool, res *Result) error {
	for _, key := range base.Companions {
		dst := filepath.Join(dir, path.Base(key))
		if _, err := os.Stat(dst); err == nil && !force {
			return &fault.TargetExists{Path: dst, What: "already exists (a file kept beside the snapshot goes there)", ReplaceHelps: true}
		}
		if err := copyRaw(ctx, st, key, dst); err != nil {
			return err
		}
		res.Files = append(res.Files, File{Key: key, Path: dst})
	}
	return nil
}

func copyRaw(ctx context.Context, st *store.Store, key, dst string) error {
	rc, err := st.NewReader(ctx, key)
	if err != nil {
		return fmt.Errorf("read %s: %w", key, err)
	}
	defer rc.Close()
	tmp, err := os.CreateTemp(filepath.Dir(dst), "."+filepath.Base(dst)+".partial-*")
	if err != nil {
		return fmt.Errorf("create %s: %w", dst, err)
	}
	defer os.Remove(tmp.Name()) // our own partial file; gone after the rename
	defer tmp.Close()
	n, err := io.Copy(tmp, io.LimitReader(rc, maxCompanionBytes+1))
	if err != nil {
		return fmt.Errorf("copy %s to %s: %w", key, dst, err)
	}
	if n > maxCompanionBytes {
		return fault.Problems("%s, kept beside the snapshot, is larger than %d bytes: not a companion file; download it by itself", key, maxCompanionBytes)
	}
	if err := tmp.Sync(); err != nil {
		return fmt.Errorf("sync %s: %w", tmp.Name(), err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("close %s: %w", tmp.Name(), err)
	}
	if err := os.Rename(tmp.Name(), dst); err != nil {
		return fmt.Errorf("rename %s to %s: %w", tmp.Name(), dst, err)
	}
	return nil
}
