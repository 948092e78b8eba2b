package initialization_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/etcd-dr/etcd-dr/internal/fixture"
	"github.com/etcd-dr/etcd-dr/internal/testenv"
	"github.com/etcd-dr/etcd-dr/internal/testkit/restoretest"
	"github.com/etcd-dr/etcd-dr/store"
)

// The same handshake against a real object store — S3 (versitygw) and GCS (fake-gcs-server): an empty data dir
// is restored from it and etcd serves exactly the chain's state.
func TestHandshakeObjectStoreEmptyDataDirRestored(t *testing.T) {
	for _, backend := range testenv.ObjectStores {
		t.Run(backend, func(t *testing.T) {
			url := testenv.StartBucket(t, backend, "backups").URL("etcd")
			upload(t, url, filepath.Join(restoretest.Root(t), filepath.FromSlash(fixture.StoreBRv1)))
			dataDir := filepath.Join(t.TempDir(), "etcd")
			p := startPod(t, url, dataDir, 0)
			restoretest.CheckServes(t, p.client(t), 195, restoretest.State(t, fixture.StoreBRv1, 195))
		})
	}
}

// upload puts every file below dir into the store at url, keys relative to dir.
func upload(t *testing.T, url, dir string) {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, url)
	require.NoError(t, err)
	defer st.Close()
	require.NoError(t, filepath.Walk(dir, func(p string, info os.FileInfo, err error) error {
		if err != nil || info.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		w, err := st.NewWriter(ctx, filepath.ToSlash(rel), store.WriteOptions{})
		if err != nil {
			return err
		}
		if _, err := w.Write(b); err != nil {
			w.Abort()
			return err
		}
		return w.Commit()
	}))
}
