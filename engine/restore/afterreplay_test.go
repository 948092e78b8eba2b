package restore_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.etcd.io/etcd/server/v3/storage/backend"
	"go.etcd.io/etcd/server/v3/storage/mvcc"

	"github.com/etcd-dr/etcd-dr/engine/restore"
	"github.com/etcd-dr/etcd-dr/internal/testkit/restoretest"
)

// AfterReplay (compact's door into the replay) sees etcd's store at the replayed revision, once; its error ends
// the restore with no data dir left.
func TestRestoreAfterReplay(t *testing.T) {
	ch := restoretest.SyntheticChain(t, 50, 2000, 500, 16)
	calls := 0
	seen := func(_ context.Context, kv mvcc.KV, _ backend.Backend) error {
		calls++
		if kv.Rev() != ch.Revision {
			t.Errorf("AfterReplay saw the store at revision %d, want %d", kv.Rev(), ch.Revision)
		}
		return nil
	}
	if _, err := restoreFrom(t, "file://"+ch.Store, 0, restore.Config{DataDir: filepath.Join(t.TempDir(), "etcd"), AfterReplay: seen}); err != nil {
		t.Fatalf("restore: %v", err)
	}
	if calls != 1 {
		t.Fatalf("AfterReplay called %d times, want 1", calls)
	}

	boom := errors.New("boom")
	dataDir := filepath.Join(t.TempDir(), "etcd")
	_, err := restoreFrom(t, "file://"+ch.Store, 0, restore.Config{DataDir: dataDir, AfterReplay: func(context.Context, mvcc.KV, backend.Backend) error { return boom }})
	if !errors.Is(err, boom) {
		t.Fatalf("restore returned %v, want AfterReplay's error", err)
	}
	if _, err := os.Stat(dataDir); !os.IsNotExist(err) {
		t.Fatalf("a failed restore left %s behind (%v)", dataDir, err)
	}

	// ReplayOnly: the replay, its checks and AfterReplay, and no data dir; a pick with nothing to replay is refused.
	calls = 0
	dataDir = filepath.Join(t.TempDir(), "etcd")
	res, err := restoreFrom(t, "file://"+ch.Store, 0, restore.Config{DataDir: dataDir, AfterReplay: seen, ReplayOnly: true})
	if err != nil || calls != 1 || res.Revision != ch.Revision || len(res.Members) != 0 || res.DataDir != "" {
		t.Fatalf("ReplayOnly: %+v, %v, AfterReplay called %d times", res, err, calls)
	}
	if _, err := os.Stat(dataDir); !os.IsNotExist(err) {
		t.Fatalf("ReplayOnly wrote %s (%v)", dataDir, err)
	}
	if _, err := restoreFrom(t, "file://"+ch.Store, ch.FullRevision, restore.Config{DataDir: dataDir, ReplayOnly: true}); err == nil || !strings.Contains(err.Error(), "nothing to replay") {
		t.Fatalf("ReplayOnly of the full snapshot alone: %v, want a refusal", err)
	}
}
