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
	return gc.Run(ctx, r.st, req.Policy, req.DryRun)
}
