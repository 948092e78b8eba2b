package engine

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/etcd-dr/etcd-dr/engine/catalog"
)

// A cluster whose newest backup is a compressed or encrypted snapshot of another tool, its revision unread, says
// so instead of reporting the revision 0 it is listed with (or an older snapshot's revision as if it were newest).
func TestHealthRevisionOnDemand(t *testing.T) {
	at := time.Date(2026, 11, 30, 10, 0, 0, 0, time.UTC)
	chain := func(cluster string, rev int64, hours int, lazy bool) catalog.Chain {
		return catalog.Chain{Cluster: cluster, Layout: catalog.Talos, EndRevision: rev, RestorableRevision: rev,
			Base: catalog.Snapshot{Key: cluster + "/x", EndRevision: rev, Time: at.Add(time.Duration(hours) * time.Hour), RevisionOnDemand: lazy}}
	}
	cat := &catalog.Catalog{Chains: []catalog.Chain{
		chain("lazy-only", 0, 0, true), chain("lazy-only", 0, 1, true),
		chain("lazy-newest", 40, 0, false), chain("lazy-newest", 0, 1, true),
		chain("known-newest", 0, 0, true), chain("known-newest", 50, 1, false),
		chain("plain", 60, 0, false),
	}}
	got := map[string]ClusterHealth{}
	for _, h := range Health(cat, nil, at.Add(2*time.Hour), 0) {
		got[h.Cluster] = h
	}
	for name, want := range map[string]struct {
		onDemand bool
		rev      int64
	}{
		"lazy-only":    {true, 0},
		"lazy-newest":  {true, 40},
		"known-newest": {false, 50},
		"plain":        {false, 60},
	} {
		require.Equal(t, want.onDemand, got[name].RevisionOnDemand, name)
		require.Equal(t, want.rev, got[name].RestorableRevision, name)
	}
	require.Equal(t, at.Add(time.Hour), got["lazy-only"].LastBackup, "an unread snapshot still dates the cluster")
}
