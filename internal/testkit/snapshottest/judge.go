// Package snapshottest judges what the snapshotter wrote: the store's newest chain is restored with
// engine/restore and served by the pinned etcd binary, and must equal the live etcd at the chain's revision.
package snapshottest

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/etcd-dr/etcd-dr/engine/catalog"
	"github.com/etcd-dr/etcd-dr/engine/crypt"
	"github.com/etcd-dr/etcd-dr/engine/pick"
	"github.com/etcd-dr/etcd-dr/engine/restore"
	"github.com/etcd-dr/etcd-dr/internal/fixture"
	"github.com/etcd-dr/etcd-dr/internal/testenv"
	"github.com/etcd-dr/etcd-dr/internal/testkit/restoretest"
)

// Catalog loads the store's catalog.
func Catalog(t testing.TB, url string) *catalog.Catalog {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	_, cat := testenv.OpenCatalog(t, ctx, url)
	return cat
}

// Judge restores revision rev (0 = newest) of the store at url and checks that etcd serves, from the restored
// data dir, exactly what live served at that revision. It returns the restore's result.
func Judge(t testing.TB, url string, rev int64, live *clientv3.Client) *restore.Result {
	t.Helper()
	return JudgeWith(t, url, rev, live, nil)
}

// JudgeWith is Judge for encrypted stores: dec opens the .age objects.
func JudgeWith(t testing.TB, url string, rev int64, live *clientv3.Client, dec crypt.Decrypter) *restore.Result {
	t.Helper()
	res, dataDir := Restore(t, url, rev, dec)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	want, err := fixture.State(ctx, live, res.Revision)
	if err != nil {
		t.Fatal(err)
	}
	restoretest.Judge(t, testenv.Binary(t, "etcd"), dataDir, restore.DefaultName, res.Revision, want)
	return res
}

// Restore restores revision rev (0 = newest) of the store at url into a temporary data dir, after checking that
// no chain has gaps or problems, and returns the result and the data dir (restore checks revision and key count).
func Restore(t testing.TB, url string, rev int64, dec crypt.Decrypter) (*restore.Result, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	st, cat := testenv.OpenCatalog(t, ctx, url)
	for _, ch := range cat.Chains {
		if len(ch.Gaps) > 0 || len(ch.Problems) > 0 {
			t.Errorf("chain %s: gaps %v, problems %v", ch.Base.Key, ch.Gaps, ch.Problems)
		}
	}
	if len(cat.Problems) > 0 {
		t.Errorf("store problems: %v", cat.Problems)
	}
	r, err := pick.Pick(cat, pick.Config{Revision: rev})
	if err != nil {
		t.Fatalf("pick: %v", err)
	}
	dataDir := filepath.Join(t.TempDir(), "restored.etcd")
	res, err := restore.Restore(ctx, st, r, restore.Config{DataDir: dataDir, Decrypt: dec})
	if err != nil {
		t.Fatalf("restore revision %d: %v", r.Revision, err)
	}
	return res, dataDir
}
