// Package copy copies whole backup chains from one store to another: keys and object metadata unchanged, every
// object's bytes verified while they stream (snapshot sha256 trailer, delta sha256, decompression) and committed
// at the target only when they hold; objects already at the target are skipped, so a killed copy re-run copies
// only what is missing. It never deletes, at either end.
package copy

import (
	"path"
	"sort"
	"time"

	"github.com/etcd-dr/etcd-dr/engine/catalog"
)

// Kinds of copied object, as results name them.
const (
	KindFull      = "full"
	KindDelta     = "delta"
	KindCompanion = "companion" // a file another tool keeps beside its snapshot (k3s .metadata, OpenShift resources, ...)
)

// item is one object to copy.
type item struct {
	// key is the object's key at the source store (narrowed to a cluster folder when one was chosen); dstKey its
	// key at the target, relative to the store as given (the cluster folder kept).
	key, dstKey string
	kind        string
	cluster     string
	// snap is what the catalog knows of a full snapshot or delta (verified on the way); nil for a companion.
	snap *catalog.Snapshot
}

// selectChains picks the chains to copy, newest first: per cluster the maxBackups newest (0 = all), each
// holding a backup no older than maxAge (0 = any age). A chain's age is that of its newest object: the chain
// holds a restore point from then.
func selectChains(cat *catalog.Catalog, maxBackups int, maxAge time.Duration, now time.Time) []catalog.Chain {
	byCluster := map[string][]catalog.Chain{}
	for _, ch := range cat.Chains {
		byCluster[ch.Cluster] = append(byCluster[ch.Cluster], ch)
	}
	var out []catalog.Chain
	for _, chains := range byCluster {
		sort.SliceStable(chains, func(i, j int) bool { return newer(chains[i], chains[j]) })
		n := 0
		for _, ch := range chains {
			if maxBackups > 0 && n == maxBackups {
				break
			}
			if maxAge > 0 && now.Sub(newestTime(ch)) > maxAge {
				continue
			}
			out = append(out, ch)
			n++
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		ti, tj := newestTime(out[i]), newestTime(out[j])
		if !ti.Equal(tj) {
			return ti.After(tj)
		}
		if out[i].Cluster != out[j].Cluster {
			return out[i].Cluster < out[j].Cluster
		}
		return newer(out[i], out[j])
	})
	return out
}

// newer orders two chains of one cluster: the higher end revision first, then the later full snapshot.
func newer(a, b catalog.Chain) bool {
	if a.EndRevision != b.EndRevision {
		return a.EndRevision > b.EndRevision
	}
	return a.Base.Time.After(b.Base.Time)
}

// newestTime is the time of the chain's newest object.
func newestTime(ch catalog.Chain) time.Time {
	t := ch.Base.Time
	for _, d := range ch.Deltas {
		if d.Time.After(t) {
			t = d.Time
		}
	}
	return t
}

// items lists the objects of the chains in copy order: per chain its full snapshot, its companions, then its
// deltas in apply order. prefix is the cluster folder the source store was narrowed to ("" = none).
func items(chains []catalog.Chain, prefix string) []item {
	var out []item
	seen := map[string]bool{} // a companion may be shared (an etcd-manager meta is one per folder)
	add := func(it item) {
		if seen[it.key] {
			return
		}
		seen[it.key] = true
		it.dstKey = it.key
		if prefix != "" {
			it.dstKey = path.Join(prefix, it.key)
		}
		out = append(out, it)
	}
	for _, ch := range chains {
		base := ch.Base
		add(item{key: base.Key, kind: KindFull, cluster: ch.Cluster, snap: &base})
		for _, c := range base.Companions {
			add(item{key: c, kind: KindCompanion, cluster: ch.Cluster})
		}
		for i := range ch.Deltas {
			d := ch.Deltas[i]
			add(item{key: d.Key, kind: KindDelta, cluster: ch.Cluster, snap: &d})
		}
	}
	return out
}
