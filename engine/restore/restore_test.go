package restore_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/etcd-dr/etcd-dr/engine/fault"
	"github.com/etcd-dr/etcd-dr/engine/pick"
	"github.com/etcd-dr/etcd-dr/engine/restore"
	"github.com/etcd-dr/etcd-dr/internal/fixture"
	"github.com/etcd-dr/etcd-dr/internal/testenv"
	"github.com/etcd-dr/etcd-dr/internal/testkit/restoretest"
)

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// restoreFrom picks rev (0 = newest) in the store at url and restores it with cfg.
func restoreFrom(t *testing.T, url string, rev int64, cfg restore.Config) (*restore.Result, error) {
	t.Helper()
	ctx := testCtx(t)
	st, cat := testenv.OpenCatalog(t, ctx, url)
	r, err := pick.Pick(cat, pick.Config{Revision: rev})
	if err != nil {
		return nil, err
	}
	return restore.Restore(ctx, st, r, cfg)
}

// Every chain of the committed stores restores to exactly the source's keys at the chosen revision, as served
// by the real etcd binary started on the restored data dir.
func TestRestoreChains(t *testing.T) {
	etcd := testenv.Binary(t, "etcd")
	cases := []struct {
		name      string
		store     string
		revision  int64 // 0 = newest
		want      int64
		deltas    int
		etcd      string
		snapshots string
	}{
		{name: "etcdbr-v2 chain with every compression", store: fixture.StoreBRv2, revision: 72, want: 72, deltas: 5},
		{name: "etcdbr-v2 point in time between deltas", store: fixture.StoreBRv2, revision: 62, want: 62, deltas: 4},
		{name: "etcdbr-v2 full snapshot only", store: fixture.StoreBRv2, revision: 22, want: 22},
		{name: "etcdbr-v2 up to the gap", store: fixture.StoreBRv2, revision: 103, want: 103, deltas: 1},
		{name: "etcdbr-v1 newest", store: fixture.StoreBRv1, want: 195, deltas: 1},
		{name: "etcdbr-v1 older chain", store: fixture.StoreBRv1, revision: 164, want: 164, deltas: 2},
		{name: "operator newest", store: fixture.StoreOperator, want: 223},
		{name: "operator 3.5 backup into etcd 3.6", store: fixture.StoreOperator, revision: 15, want: 15},
		{name: "operator 3.6 backup into etcd 3.7", store: fixture.StoreOperator, revision: 209, want: 209, etcd: "etcd-3.7"},
		{name: "etcdbr-v2 3.6 chain into etcd 3.7", store: fixture.StoreBRv2, revision: 72, want: 72, deltas: 5, etcd: "etcd-3.7"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dataDir := filepath.Join(t.TempDir(), "restored.etcd")
			res, err := restoreFrom(t, restoretest.StoreURL(t, tc.store), tc.revision, restore.Config{DataDir: dataDir})
			if err != nil {
				t.Fatalf("restore: %v", err)
			}
			if res.Revision != tc.want || res.DeltasApplied != tc.deltas || res.DataDir != dataDir {
				t.Fatalf("restored revision %d with %d deltas into %s, want %d with %d into %s", res.Revision, res.DeltasApplied, res.DataDir, tc.want, tc.deltas, dataDir)
			}
			want := restoretest.State(t, tc.store, tc.want)
			if tc.deltas > 0 {
				if res.Keys == nil || *res.Keys != int64(len(want)) {
					t.Errorf("restore counted keys %s, the source had %d", countOf(res.Keys), len(want))
				}
			}
			bin := etcd
			if tc.etcd != "" {
				bin = testenv.Binary(t, tc.etcd)
			}
			restoretest.Judge(t, bin, dataDir, restore.DefaultName, tc.want, want)
			assertNoLeftovers(t, dataDir)
		})
	}
}

// A point in time inside a delta restores to exactly the source's keys at that revision. The judge is the
// source's own history: the chain's second full snapshot (revision 93) was taken from the same etcd, uncompacted,
// so etcd restored from it with plain etcdutl serves any older revision as the source had it.
func TestRestorePointInTimeInsideDelta(t *testing.T) {
	etcd := testenv.Binary(t, "etcd")
	full93 := filepath.Join(restoretest.Root(t), fixture.StoreBRv2, "v2", "Full-00000000-00000093-1763900420")
	histDir := filepath.Join(t.TempDir(), "history.etcd")
	testenv.Etcdutl(t, "snapshot", "restore", full93, "--data-dir", histDir, "--name", "history",
		"--initial-cluster", "history=http://127.0.0.1:1", "--initial-advertise-peer-urls", "http://127.0.0.1:1")
	hist := testenv.StartEtcdOnDataDir(t, etcd, histDir, "history").Client(t)
	for _, rev := range []int64{47, 58} {
		t.Run(fmt.Sprint(rev), func(t *testing.T) {
			dataDir := filepath.Join(t.TempDir(), "restored.etcd")
			res, err := restoreFrom(t, restoretest.StoreURL(t, fixture.StoreBRv2), rev, restore.Config{DataDir: dataDir})
			if err != nil {
				t.Fatalf("restore: %v", err)
			}
			if res.Revision != rev {
				t.Fatalf("restored revision %d, want %d", res.Revision, rev)
			}
			want, err := fixture.State(testCtx(t), hist, rev)
			if err != nil {
				t.Fatal(err)
			}
			restoretest.Judge(t, etcd, dataDir, restore.DefaultName, rev, want)
		})
	}
}

func countOf(n *int64) string {
	if n == nil {
		return "(not counted)"
	}
	return fmt.Sprint(*n)
}

// assertNoLeftovers checks that nothing but the data dir (and what the test put there) sits beside it.
func assertNoLeftovers(t *testing.T, dataDir string) {
	t.Helper()
	entries, err := os.ReadDir(filepath.Dir(dataDir))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.Name() != filepath.Base(dataDir) {
			t.Errorf("left beside the data dir: %s", e.Name())
		}
	}
}

func isClass(err, class error) bool { return errors.Is(err, class) }

var _ = fault.ErrRefused

// An existing empty --data-dir (a volume's mount point, typically: it cannot be renamed) is restored into in place,
// the staging folder inside it; a scratch folder a killed restore left there is removed first.
func TestRestoreIntoEmptyDir(t *testing.T) {
	dataDir := filepath.Join(t.TempDir(), "mnt")
	leftover := filepath.Join(dataDir, ".etcd-dr-restore-123")
	if err := os.MkdirAll(filepath.Join(leftover, "data"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(leftover, "lock"), nil, 0o600); err != nil { // its lock, no longer held
		t.Fatal(err)
	}
	res, err := restoreFrom(t, restoretest.StoreURL(t, fixture.StoreBRv1), 0, restore.Config{DataDir: dataDir})
	if err != nil {
		t.Fatalf("restore: %v", err)
	}
	if len(res.Notes) != 1 || !strings.Contains(res.Notes[0], leftover) {
		t.Errorf("notes %q, want one about %s", res.Notes, leftover)
	}
	entries, err := os.ReadDir(dataDir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 || entries[0].Name() != "member" {
		t.Fatalf("data dir holds %v, want only member/", entries)
	}
	restoretest.Judge(t, testenv.Binary(t, "etcd"), dataDir, restore.DefaultName, 195, restoretest.State(t, fixture.StoreBRv1, 195))
}
