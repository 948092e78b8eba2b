package store_test

import (
	"testing"

	"github.com/etcd-dr/etcd-dr/internal/testenv"
)

// gs:// on a real GCS emulator (fake-gcs-server): list, streaming read/write, metadata, atomic commit, abort,
// key checks, as on S3 and Azure.
func TestGCSStore(t *testing.T) {
	g := testenv.StartGCS(t)
	g.Env(t)
	t.Setenv("HOME", t.TempDir()) // no application-default credentials: the emulator needs none
	g.CreateBucket(t, "backups")
	exercise(t, g.URL("backups", "etcd-main"))
}
