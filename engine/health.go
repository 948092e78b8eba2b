package engine

import (
	"context"
	"sort"
	"strings"
	"time"

	"github.com/etcd-dr/etcd-dr/engine/catalog"
	"github.com/etcd-dr/etcd-dr/engine/heartbeat"
)

// ClusterHealth is one cluster's backup health: what list, the exporter and the console's fleet screen show.
// Its JSON is the CLI contract's list "clusters" entry.
type ClusterHealth struct {
	Cluster string `json:"cluster"`
	// Layout names the layouts of its chains ("etcdbr-v2", "etcd-dr+etcdbr-v2"; "-" for none).
	Layout             string `json:"layout"`
	Chains             int    `json:"chains"`
	RestorableRevision int64  `json:"restorableRevision"`
	EndRevision        int64  `json:"endRevision"`
	// LastBackup is the time of its newest object (zero without one); AgeSeconds how long ago that was.
	LastBackup time.Time `json:"lastBackup"`
	AgeSeconds float64   `json:"ageSeconds"`
	Gaps       int       `json:"gaps"`
	Problems   int       `json:"problems"`
	// Leader names the daemon whose fresh heartbeat says it is the backup leader ("" = none).
	Leader string `json:"leader"`
	// TooOld is true when LastBackup is older than the maximum age asked for (or there is no backup at all).
	TooOld bool `json:"tooOld,omitempty"`
	// RevisionOnDemand: the cluster's newest backup is a compressed or encrypted snapshot of another tool whose
	// revision only reading it tells (pick does; listing never downloads a snapshot). RestorableRevision and
	// EndRevision are then those of the older snapshots whose revision is known: a lower bound, or 0 = unknown.
	RevisionOnDemand bool `json:"revisionOnDemand,omitempty"`
}

// Health judges every cluster of cat at now; maxAge > 0 marks clusters whose newest backup is older. Worst first:
// too old, then gaps, then problems, then the oldest; ties by name.
func Health(cat *catalog.Catalog, seen []heartbeat.Seen, now time.Time, maxAge time.Duration) []ClusterHealth {
	byName := map[string]*ClusterHealth{}
	get := func(name string) *ClusterHealth {
		h := byName[name]
		if h == nil {
			h = &ClusterHealth{Cluster: name}
			byName[name] = h
		}
		return h
	}
	layouts := map[string]map[string]bool{}
	newestKnown, newestLazy := map[string]time.Time{}, map[string]time.Time{}
	for _, ch := range cat.Chains {
		h := get(ch.Cluster)
		h.Chains++
		// An unread snapshot's revisions are 0: they count for nothing below, but it may be the newest backup.
		if ch.Base.RevisionOnDemand {
			newestLazy[ch.Cluster] = later(newestLazy[ch.Cluster], ch.Base.Time)
		} else {
			newestKnown[ch.Cluster] = later(newestKnown[ch.Cluster], ch.Base.Time)
		}
		h.RestorableRevision = max(h.RestorableRevision, ch.Restores())
		h.EndRevision = max(h.EndRevision, ch.EndRevision)
		h.Gaps += len(ch.Gaps)
		h.Problems += len(ch.Problems)
		for _, s := range ch.Objects() {
			if s.Time.After(h.LastBackup) {
				h.LastBackup = s.Time
			}
		}
		if layouts[ch.Cluster] == nil {
			layouts[ch.Cluster] = map[string]bool{}
		}
		layouts[ch.Cluster][string(ch.Layout)] = true
	}
	for _, p := range cat.Problems {
		get(p.Cluster).Problems++
	}
	for _, s := range seen {
		h := get(s.Cluster)
		if s.Role == heartbeat.Leader && !s.Stale {
			h.Leader = s.Name
		}
	}
	out := make([]ClusterHealth, 0, len(byName))
	for name, h := range byName {
		h.Layout = joinKeys(layouts[name])
		if lazy, ok := newestLazy[name]; ok {
			known, any := newestKnown[name]
			h.RevisionOnDemand = !any || !lazy.Before(known)
		}
		if !h.LastBackup.IsZero() {
			h.AgeSeconds = now.Sub(h.LastBackup).Seconds()
		}
		h.TooOld = maxAge > 0 && (h.LastBackup.IsZero() || now.Sub(h.LastBackup) > maxAge)
		out = append(out, *h)
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if sa, sb := badness(a), badness(b); sa != sb {
			return sa > sb
		}
		if !a.LastBackup.Equal(b.LastBackup) {
			return a.LastBackup.Before(b.LastBackup)
		}
		return a.Cluster < b.Cluster
	})
	return out
}

func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

func badness(h ClusterHealth) int {
	n := 0
	if h.TooOld {
		n += 4
	}
	if h.Gaps > 0 {
		n += 2
	}
	if h.Problems > 0 || h.Chains == 0 {
		n++
	}
	return n
}

func joinKeys(m map[string]bool) string {
	if len(m) == 0 {
		return "-"
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return strings.Join(keys, "+")
}

// Health reads the heartbeats and judges every cluster of the store at now (see the package function).
func (r *Repo) Health(ctx context.Context, now time.Time, maxAge time.Duration) ([]ClusterHealth, []heartbeat.Seen, []catalog.Problem) {
	seen, problems := r.Heartbeats(ctx, now)
	return Health(r.Catalog(), seen, now, maxAge), seen, problems
}
