package exporter

import (
	"context"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/require"

	"github.com/etcd-dr/etcd-dr/engine"
	"github.com/etcd-dr/etcd-dr/internal/fixture"
)

// A cluster of only encrypted talos-backup snapshots (revisions read when picked) has no restorable-revision
// series rather than a 0 that looks like lost data, and says its revision is on demand; a cluster of plain
// snapshots reports its revision.
func TestExporterRevisionOnDemand(t *testing.T) {
	ctx := context.Background()
	w, err := fixture.WriteWild(ctx, t.TempDir())
	require.NoError(t, err)
	repo, err := engine.Open(ctx, "file://"+w.Dir, engine.Options{})
	require.NoError(t, err)
	defer repo.Close()
	e := New(Config{Repo: repo})
	require.NoError(t, e.Refresh(ctx))
	reg := prometheus.NewPedanticRegistry()
	require.NoError(t, reg.Register(e))
	require.NoError(t, testutil.GatherAndCompare(reg, strings.NewReader(`
# HELP etcddr_cluster_revision_on_demand 1 when the cluster's newest backup is a compressed or encrypted snapshot of another tool whose revision is read only when picked: the restorable revision is then a lower bound, or absent.
# TYPE etcddr_cluster_revision_on_demand gauge
etcddr_cluster_revision_on_demand{cluster="cron"} 1
etcddr_cluster_revision_on_demand{cluster="k3s"} 1
etcddr_cluster_revision_on_demand{cluster="kops/backups/etcd/main"} 1
etcddr_cluster_revision_on_demand{cluster="openshift"} 0
etcddr_cluster_revision_on_demand{cluster="talos-prod"} 1
`), "etcddr_cluster_revision_on_demand"))
	n, err := testutil.GatherAndCount(reg, "etcddr_cluster_restorable_revision")
	require.NoError(t, err)
	require.Equal(t, 3, n, "cron, k3s (older plain snapshots: a lower bound) and openshift; none for talos-prod or kops")
	mfs, err := reg.Gather()
	require.NoError(t, err)
	for _, mf := range mfs {
		if mf.GetName() != "etcddr_cluster_restorable_revision" {
			continue
		}
		for _, m := range mf.GetMetric() {
			require.NotZero(t, m.GetGauge().GetValue(), m.String())
		}
	}
}
