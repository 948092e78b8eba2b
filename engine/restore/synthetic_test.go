package restore_test

import (
	"path/filepath"
	"testing"

	"github.com/etcd-dr/etcd-dr/engine/restore"
	"github.com/etcd-dr/etcd-dr/engine/restore/restoretest"
	"github.com/etcd-dr/etcd-dr/internal/testenv"
)

// A larger generated chain (overwrites, deletes, 3-key transactions, leases inside and outside the full snapshot)
// restores to exactly its computed state, as the real etcd serves it.
func TestRestoreSyntheticChain(t *testing.T) {
	ch := restoretest.SyntheticChain(t, 2000, 20000, 5000, 64)
	if ch.Deletes == 0 {
		t.Fatal("the generated chain has no deletes")
	}
	dataDir := filepath.Join(t.TempDir(), "restored.etcd")
	res, err := restoreFrom(t, "file://"+ch.Store, 0, restore.Config{DataDir: dataDir})
	if err != nil {
		t.Fatalf("restore: %v", err)
	}
	if res.Revision != ch.Revision || res.EventsApplied != int64(ch.Events) || res.LeasesCreated != 1 {
		t.Fatalf("restored revision %d, %d events, %d leases created; want %d, %d, 1", res.Revision, res.EventsApplied, res.LeasesCreated, ch.Revision, ch.Events)
	}
	t.Logf("restored %d events in %.2fs", res.EventsApplied, res.Seconds)
	restoretest.Judge(t, testenv.Binary(t, "etcd"), dataDir, restore.DefaultName, ch.Revision, ch.State)
}
