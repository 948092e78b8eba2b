package initialization_test

import (
	"path/filepath"
	"testing"

	"github.com/etcd-dr/etcd-dr/internal/fixture"
	"github.com/etcd-dr/etcd-dr/internal/testenv"
	"github.com/etcd-dr/etcd-dr/internal/testkit/restoretest"
)

// The same handshake against a real object store — S3 (versitygw) and GCS (fake-gcs-server): an empty data dir
// is restored from it and etcd serves exactly the chain's state.
func TestHandshakeObjectStoreEmptyDataDirRestored(t *testing.T) {
	for _, backend := range testenv.ObjectStores {
		t.Run(backend, func(t *testing.T) {
			url := testenv.StartBucket(t, backend, "backups").URL("etcd")
			testenv.UploadDir(t, url, filepath.Join(restoretest.Root(t), filepath.FromSlash(fixture.StoreBRv1)), "")
			dataDir := filepath.Join(t.TempDir(), "etcd")
			p := startPod(t, url, dataDir, 0)
			restoretest.CheckServes(t, p.client(t), 195, restoretest.State(t, fixture.StoreBRv1, 195))
		})
	}
}
