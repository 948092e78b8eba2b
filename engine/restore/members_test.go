package restore_test

import (
	"path/filepath"
	"testing"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/etcd-dr/etcd-dr/engine/restore"
	"github.com/etcd-dr/etcd-dr/engine/validate"
	"github.com/etcd-dr/etcd-dr/internal/fixture"
	"github.com/etcd-dr/etcd-dr/internal/testenv"
	"github.com/etcd-dr/etcd-dr/internal/testkit/restoretest"
)

// One replay makes every member's data dir; the three start as a real, healthy 3-member cluster of the pinned
// etcd binary, and every member serves the source's keys at the chain's last revision.
func TestRestoreThreeMembers(t *testing.T) {
	etcd := testenv.Binary(t, "etcd")
	c := testenv.NewCluster(t, 3)
	out := filepath.Join(t.TempDir(), "cluster")
	res, err := restoreFrom(t, restoretest.StoreURL(t, fixture.StoreBRv2), 72, restore.Config{
		DataDir:    out,
		AllMembers: true,
		Cluster:    restore.Cluster{InitialCluster: c.InitialCluster(), Token: c.Token},
	})
	if err != nil {
		t.Fatalf("restore: %v", err)
	}
	if len(res.Members) != 3 {
		t.Fatalf("restored %d members, want 3", len(res.Members))
	}
	ids := map[string]bool{}
	for i, m := range c.Members {
		got := res.Members[i]
		if got.Name != m.Name || got.PeerURLs[0] != m.PeerURL || got.DataDir != filepath.Join(out, m.Name+".etcd") {
			t.Fatalf("member %d restored as %+v, planned %s at %s", i, got, m.Name, m.PeerURL)
		}
		rep := validate.DataDir(got.DataDir, validate.DataDirConfig{})
		if !rep.OK || rep.Revision != 72 || len(rep.Members) != 3 {
			t.Fatalf("member %s data dir: %+v", m.Name, rep)
		}
		ids[rep.ClusterID] = true
		m.DataDir = got.DataDir
	}
	if len(ids) != 1 {
		t.Fatalf("members belong to %d clusters, want 1", len(ids))
	}
	c.Start(t, etcd)
	want := restoretest.State(t, fixture.StoreBRv2, 72)
	for _, m := range c.Members {
		t.Run(m.Name, func(t *testing.T) {
			restoretest.CheckServes(t, m.Client(t), 72, want)
		})
	}
}

// --bump-revision with --mark-compacted: etcd serves the bumped revision, reads at the restored revision are
// compacted away, and the keys are the source's.
func TestRestoreBumpRevision(t *testing.T) {
	dataDir := filepath.Join(t.TempDir(), "restored.etcd")
	const bump = 1000000
	res, err := restoreFrom(t, restoretest.StoreURL(t, fixture.StoreBRv1), 0, restore.Config{DataDir: dataDir, BumpRevision: bump, MarkCompacted: true})
	if err != nil {
		t.Fatalf("restore: %v", err)
	}
	if res.Revision != 195 || res.ServedRevision != 195+bump {
		t.Fatalf("revision %d served %d", res.Revision, res.ServedRevision)
	}
	m := testenv.StartEtcdOnDataDir(t, testenv.Binary(t, "etcd"), dataDir, restore.DefaultName)
	cli := m.Client(t)
	want := restoretest.State(t, fixture.StoreBRv1, 195)
	// Keys keep their source revisions; only the store's revision moved on.
	restoretest.CheckServes(t, cli, 195+bump, want)
	if _, err := cli.Get(testCtx(t), "x", clientv3.WithRev(195)); err == nil {
		t.Fatal("a read at the pre-bump revision succeeded; want it compacted")
	}
}
