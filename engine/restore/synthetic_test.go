package restore_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/etcd-dr/etcd-dr/engine/pick"
	"github.com/etcd-dr/etcd-dr/engine/progress"
	"github.com/etcd-dr/etcd-dr/engine/restore"
	"github.com/etcd-dr/etcd-dr/internal/testenv"
	"github.com/etcd-dr/etcd-dr/internal/testkit/restoretest"
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

// A restore cancelled while it replays (SIGTERM, Ctrl-C) stops, and leaves neither a data dir nor its scratch
// folder behind.
func TestRestoreCancelledWhileReplaying(t *testing.T) {
	ch := restoretest.SyntheticChain(t, 100, 20000, 1000, 16)
	ctx, cancel := context.WithCancel(testCtx(t))
	defer cancel()
	st, cat := testenv.OpenCatalog(t, ctx, "file://"+ch.Store)
	r, err := pick.Pick(cat, pick.Config{})
	if err != nil {
		t.Fatal(err)
	}
	dataDir := filepath.Join(t.TempDir(), "etcd")
	cancelled := false
	stop := progress.Func(func(u progress.Update) {
		if u.Phase == "apply" && u.Done > 0 && u.Unit == "events" && !cancelled {
			cancelled = true
			cancel()
		}
	})
	_, err = restore.Restore(ctx, st, r, restore.Config{DataDir: dataDir, Progress: stop})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("restore returned %v, want context.Canceled", err)
	}
	assertNoLeftovers(t, dataDir)
	if _, err := os.Stat(dataDir); !os.IsNotExist(err) {
		t.Fatalf("a cancelled restore left %s", dataDir)
	}
}

// Values bigger than etcd's 1.5 MiB request limit, and a 3-key transaction of them (6 MiB in one revision), replay
// without any message limit (etcd-backup-restore's replay through gRPC failed here).
func TestRestoreBigValues(t *testing.T) {
	ch := restoretest.SyntheticChain(t, 10, 51, 20, 2<<20)
	dataDir := filepath.Join(t.TempDir(), "restored.etcd")
	res, err := restoreFrom(t, "file://"+ch.Store, 0, restore.Config{DataDir: dataDir})
	if err != nil {
		t.Fatalf("restore: %v", err)
	}
	if res.Revision != ch.Revision || res.EventsApplied != int64(ch.Events) {
		t.Fatalf("restored revision %d with %d events, want %d with %d", res.Revision, res.EventsApplied, ch.Revision, ch.Events)
	}
	restoretest.Judge(t, testenv.Binary(t, "etcd"), dataDir, restore.DefaultName, ch.Revision, ch.State)
}
