package engine

import (
	"context"

	"github.com/etcd-dr/etcd-dr/engine/gc"
)

// GCRequest is a retention run. gc.Config documents the policies.
type GCRequest struct {
	Policy gc.Config
	// DryRun only plans: it lists what would be deleted and why.
	DryRun bool
}

// GC deletes whole chains the policy does not keep (newest delta first, the full snapshot last), never the
// newest chain, never members/ or an object outside a chain. It lists the store again first: deletions must
// see the store as it is now, not as Open found it.
func (r *Repo) GC(ctx context.Context, req GCRequest) (*gc.Plan, error) {
	if err := req.Policy.Validate(); err != nil {
		return nil, err
	}
	if err := r.Reload(ctx); err != nil {
		return nil, err
	}
	if err := r.checkClusterFound(ctx); err != nil {
		return nil, err
	}
	// Retention counts the chains of one cluster: a store of several would keep N chains over all of them.
	if _, err := r.oneCluster(); err != nil {
		return nil, err
	}
	return gc.Run(ctx, r.st, req.Policy, req.DryRun)
}
