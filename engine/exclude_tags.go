package engine

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"

	"golang.org/x/sync/errgroup"

	"github.com/etcd-dr/etcd-dr/engine/catalog"
	"github.com/etcd-dr/etcd-dr/store"
)

// tagReaders bounds the tag requests in flight: one small request each, so a fleet root lists in a few round trips.
const tagReaders = 16

// taggedExclusion is the one rule for etcd-backup-restore's exclude mark as an S3 object tag or Azure blob tag:
// why the snapshot at key is excluded, "" if it is not (or the store has no tags: file, GCS, Swift).
func taggedExclusion(ctx context.Context, st *store.Store, key string) (string, error) {
	tags, err := st.Tags(ctx, key)
	if err != nil || !strings.EqualFold(tags[catalog.MetaExclude], "true") {
		return "", err
	}
	return catalog.MetaExclude + "=true is tagged on it (etcd-backup-restore marks snapshots its restore must skip)", nil
}

// ReadExcludeTags reads the exclude tags the listing does not bring (one request per full snapshot on S3 and
// Azure; nothing elsewhere) and marks the excluded chains in the catalog, so that list, health and the console
// show them and count them as not restorable, as pick does. To keep a fleet root cheap it reads, per cluster,
// newest first until a chain is not excluded (what the newest restorable revision needs: one request per
// cluster as a rule); when the Repo holds one cluster it reads every chain's. A tag that cannot be read (e.g. an
// IAM policy without s3:GetObjectTagging) leaves its chain unmarked with a note; pick reads it again.
func (r *Repo) ReadExcludeTags(ctx context.Context) error {
	listed := r.cat.Load()
	if listed == nil {
		return nil // opened for writing, nothing listed
	}
	cat := listed
	chains := slices.Clone(cat.Chains)
	byCluster := map[string][]int{}
	for i, ch := range chains {
		if ch.Base.Excluded == "" {
			byCluster[ch.Cluster] = append(byCluster[ch.Cluster], i)
		}
	}
	readAll := len(cat.Clusters()) <= 1
	// Each chain is read and marked by one goroutine only: no lock.
	g, ctx := errgroup.WithContext(ctx)
	g.SetLimit(tagReaders)
	for _, idx := range byCluster {
		slices.SortFunc(idx, func(a, b int) int { return cmp.Compare(chains[b].EndRevision, chains[a].EndRevision) })
		if readAll {
			for _, i := range idx {
				g.Go(func() error { return r.markExcluded(ctx, &chains[i]) })
			}
			continue
		}
		g.Go(func() error {
			for _, i := range idx {
				if err := r.markExcluded(ctx, &chains[i]); err != nil || chains[i].Base.Excluded == "" {
					return err
				}
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return err
	}
	marked := *cat
	marked.Chains = chains
	// A Reload meanwhile (the daemon's API beside its exporter) wins: its catalog is newer, the marks are not lost
	// for pick, which reads them again.
	r.cat.CompareAndSwap(listed, &marked)
	return nil
}

// markExcluded reads one chain's exclude tag into it; only a cancelled ctx is an error.
func (r *Repo) markExcluded(ctx context.Context, ch *catalog.Chain) error {
	why, err := taggedExclusion(ctx, r.st, ch.Base.Key)
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if err != nil {
		ch.Notes = append(slices.Clip(ch.Notes), fmt.Sprintf("its exclude tag could not be read (%v); pick reads it again before using it", err))
		return nil
	}
	ch.Base.Excluded = why
	return nil
}
