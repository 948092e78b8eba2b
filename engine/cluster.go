package engine

import (
	"context"
	"errors"
	"sort"
	"strings"

	"github.com/etcd-dr/etcd-dr/engine/catalog"
	"github.com/etcd-dr/etcd-dr/engine/fault"
	"github.com/etcd-dr/etcd-dr/store"
)

// A store root may hold many clusters (catalog/cluster.go). Options.Cluster narrows a Repo to one cluster folder:
// the store is opened at that folder, so --cluster C and a --store that points at C are the same store, and the
// catalog names its chains "C" as the root listing would.

// checkClusterName refuses a cluster name that is not a plain folder of the store.
func checkClusterName(c string) error {
	if strings.HasPrefix(c, "/") {
		return fault.Bad("cluster", c, "is an absolute path; name a cluster folder as list shows it, relative to the store")
	}
	if err := store.CheckKey(strings.TrimRight(c, "/")); err != nil {
		return fault.Bad("cluster", c, "is not a plain folder of the store (%v); name a cluster folder as list shows it", err)
	}
	return nil
}

// openCluster opens the folder of opts.Cluster below url.
func openCluster(ctx context.Context, url string, opts Options) (*Repo, error) {
	if err := checkClusterName(opts.Cluster); err != nil {
		return nil, err
	}
	opts.Cluster = strings.TrimRight(opts.Cluster, "/")
	// A k3s/rke2 cluster of a shared folder ("<folder>@<cluster id>") opens the folder; Reload keeps its chains.
	folder, _ := catalog.SplitCluster(opts.Cluster)
	sub := url
	if folder != "" {
		var err error
		if sub, err = store.SubURL(url, folder); err != nil {
			return nil, err
		}
	}
	r, err := openAt(ctx, sub, opts)
	if errors.Is(err, store.ErrNotFound) && !opts.Create {
		return nil, clusterNotFound(ctx, url, opts)
	}
	if err != nil {
		return nil, err
	}
	r.root = url
	return r, nil
}

// checkClusterFound refuses a --cluster whose folder holds nothing.
func (r *Repo) checkClusterFound(ctx context.Context) error {
	c := r.Catalog()
	if _, id := catalog.SplitCluster(r.opts.Cluster); id != "" && len(c.Chains) == 0 {
		return clusterNotFound(ctx, r.root, r.opts) // the folder may hold other clusters' snapshots
	}
	if r.opts.Cluster == "" || len(c.Chains) > 0 || len(c.Problems) > 0 || len(c.Heartbeats) > 0 {
		return nil
	}
	return clusterNotFound(ctx, r.root, r.opts)
}

// clusterNotFound says that opts.Cluster holds nothing in the store at root, naming the clusters root holds.
func clusterNotFound(ctx context.Context, root string, opts Options) error {
	r, err := Open(ctx, root, Options{Decrypt: opts.Decrypt, Logger: opts.Logger})
	if err != nil {
		return fault.Bad("cluster", opts.Cluster, "holds no backups in %s", store.Redact(root))
	}
	defer r.Close()
	names := r.Catalog().Clusters()
	if len(names) == 0 {
		return fault.Bad("cluster", opts.Cluster, "holds no backups, and %s holds no cluster at all", store.Redact(root))
	}
	return fault.Bad("cluster", opts.Cluster, "is not a cluster of %s; its clusters, nearest first: %s",
		store.Redact(root), strings.Join(nearestFirst(opts.Cluster, names), ", "))
}

// Clusters are the clusters of the store that hold a chain, sorted ("" = the store itself).
func (r *Repo) Clusters() []string { return r.Catalog().Clusters() }

// oneCluster is the rule for every job that chooses a restore point or writes: the store must hold one cluster
// (or Options.Cluster chose one). Revisions of different clusters are never compared.
func (r *Repo) oneCluster() (*catalog.Catalog, error) {
	cat := r.Catalog()
	if names := cat.Clusters(); len(names) > 1 {
		return nil, &fault.Ambiguous{Store: cat.Store, Clusters: names}
	}
	return cat, nil
}

// CheckWriter refuses to write into a store whose backups belong to another cluster folder: a store of several
// clusters, or one whose only cluster sits in a folder below it (writing at the root would start a second cluster
// beside it). It lists the store; a store that cannot be listed is not refused here (a sidecar starts while its
// store is away and retries).
func (r *Repo) CheckWriter(ctx context.Context) error {
	if err := r.Reload(ctx); err != nil {
		return nil
	}
	cat := r.Catalog()
	names := cat.Clusters()
	switch {
	case len(names) > 1:
		return &fault.Ambiguous{Store: cat.Store, Clusters: names}
	case len(names) == 1 && names[0] != r.opts.Cluster:
		return &fault.Ambiguous{Store: cat.Store, Clusters: names, Below: true}
	}
	return nil
}

// nearestFirst orders names by how close they are to want: common prefix first, then edit distance.
func nearestFirst(want string, names []string) []string {
	out := append([]string(nil), names...)
	score := func(s string) int { return editDistance(want, s) - 2*commonPrefix(want, s) }
	sort.SliceStable(out, func(i, j int) bool { return score(out[i]) < score(out[j]) })
	return out
}

func commonPrefix(a, b string) int {
	n := 0
	for n < len(a) && n < len(b) && a[n] == b[n] {
		n++
	}
	return n
}

func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur := make([]int, len(b)+1)
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev = cur
	}
	return prev[len(b)]
}
