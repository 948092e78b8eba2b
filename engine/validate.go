package engine

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"time"

	"github.com/etcd-dr/etcd-dr/engine/catalog"
	"github.com/etcd-dr/etcd-dr/engine/fault"
	"github.com/etcd-dr/etcd-dr/engine/pick"
	"github.com/etcd-dr/etcd-dr/engine/progress"
	"github.com/etcd-dr/etcd-dr/engine/restore"
	"github.com/etcd-dr/etcd-dr/engine/validate"
)

// ValidateBackupsRequest says which backups to check. The zero value checks every chain of the store.
type ValidateBackupsRequest struct {
	// Chain limits the check to one chain of the catalog (nil = every chain and every problem object).
	Chain *catalog.Chain
	// TrialRestore also restores the newest restorable revision into a temporary folder under TrialDir (default
	// the system temp dir), validates it as a data dir and removes it.
	TrialRestore bool
	TrialDir     string
	// Progress receives bytes read per object; nil for none.
	Progress progress.Reporter
	// Parallel is how many objects are read at once (default validate.DefaultParallel).
	Parallel int
}

// BackupsReport is what ValidateBackups found: the validate package's report, plus one summary per cluster
// when the store holds several.
type BackupsReport struct {
	*validate.StoreReport
	Clusters []ClusterCheck `json:"clusters,omitempty"`
}

// ClusterCheck sums up the validation of one cluster's backups.
type ClusterCheck struct {
	Cluster  string `json:"cluster"`
	OK       bool   `json:"ok"`
	Chains   int    `json:"chains"`
	Objects  int    `json:"objects"`
	Problems int    `json:"problems"`
}

// ValidateBackups reads every object asked for: full snapshots' sha256, deltas' checksums and decoding, chain
// continuity, of every cluster of the store (summed up per cluster). Problems are in the report (OK false), not
// in the error, which is for I/O and cancellation. A trial restore needs one cluster (fault.Ambiguous).
func (r *Repo) ValidateBackups(ctx context.Context, req ValidateBackupsRequest) (*BackupsReport, error) {
	cat := r.Catalog()
	if req.Chain != nil {
		cat = &catalog.Catalog{Store: cat.Store, Chains: []catalog.Chain{*req.Chain}, Problems: []catalog.Problem{}}
	}
	if req.TrialRestore {
		if names := cat.Clusters(); len(names) > 1 {
			return nil, &fault.Ambiguous{Store: cat.Store, Clusters: names}
		}
	}
	rep, err := validate.Backups(ctx, r.st, cat, validate.BackupConfig{Progress: req.Progress, Decrypt: r.opts.Decrypt, Parallel: req.Parallel})
	out := &BackupsReport{StoreReport: rep}
	if err != nil {
		return out, err
	}
	if len(cat.Clusters()) > 1 {
		out.Clusters = perCluster(cat, rep)
	}
	if !req.TrialRestore {
		return out, nil
	}
	return out, r.trialRestore(ctx, cat, req, rep)
}

// perCluster sums rep up by the cluster each object belongs to.
func perCluster(cat *catalog.Catalog, rep *validate.StoreReport) []ClusterCheck {
	clusterOf := map[string]string{}
	sums := map[string]*ClusterCheck{}
	for _, ch := range cat.Chains {
		for _, s := range ch.Objects() {
			clusterOf[s.Key] = ch.Cluster
		}
		if sums[ch.Cluster] == nil {
			sums[ch.Cluster] = &ClusterCheck{Cluster: ch.Cluster, OK: true}
		}
		sums[ch.Cluster].Chains++
	}
	for _, p := range cat.Problems {
		clusterOf[p.Object] = p.Cluster
	}
	for _, o := range rep.Objects {
		if c := sums[clusterOf[o.Object]]; c != nil {
			c.Objects++
		}
	}
	for _, p := range rep.Problems {
		c := sums[clusterOf[p.Object]]
		if c == nil {
			c = &ClusterCheck{Cluster: clusterOf[p.Object]}
			sums[c.Cluster] = c
		}
		c.Problems++
		c.OK = false
	}
	out := make([]ClusterCheck, 0, len(sums))
	for _, c := range sums {
		out = append(out, *c)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Cluster < out[j].Cluster })
	return out
}

// trialRestore restores the newest restorable revision of cat into a temporary folder, validates it and removes it.
func (r *Repo) trialRestore(ctx context.Context, cat *catalog.Catalog, req ValidateBackupsRequest, rep *validate.StoreReport) error {
	rev := catalog.NewestRestorable(cat)
	if rev == 0 {
		return nil
	}
	dir, err := os.MkdirTemp(req.TrialDir, "etcd-dr-trial-")
	if err != nil {
		return fmt.Errorf("trial restore folder: %w", err)
	}
	defer os.RemoveAll(dir) // our own temporary folder, never a data dir we did not make
	start := time.Now()
	var dd *validate.DataDirReport
	pt, err := pick.Pick(cat, r.pickConfig(ctx, PickRequest{Revision: rev}))
	if err == nil {
		_, err = restore.Restore(ctx, r.st, pt, restore.Config{DataDir: filepath.Join(dir, "etcd"), Progress: req.Progress, Decrypt: r.opts.Decrypt})
	}
	if err == nil {
		dd = validate.DataDir(filepath.Join(dir, "etcd"), validate.DataDirConfig{})
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	rep.AddTrial(rev, time.Since(start).Seconds(), err, dd)
	return nil
}

// ValidateDataDir checks an etcd data directory without changing it, and compares its revision with the
// newest restorable revision of this store's cluster (older = data loss suspected; a store of several clusters
// is refused: their revisions are not comparable). Safe beside a running etcd.
func (r *Repo) ValidateDataDir(dir string) (*validate.DataDirReport, error) {
	cat, err := r.oneCluster()
	if err != nil {
		return nil, err
	}
	return validate.DataDir(dir, validate.DataDirConfig{StoreRevision: catalog.NewestRestorable(cat), Store: cat.Store}), nil
}

// ValidateDataDirAlone checks a data directory with no store to compare it with.
func ValidateDataDirAlone(dir string) *validate.DataDirReport {
	return validate.DataDir(dir, validate.DataDirConfig{})
}
