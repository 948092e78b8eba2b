package engine

import (
	"context"

	"github.com/etcd-dr/etcd-dr/engine/compact"
	"github.com/etcd-dr/etcd-dr/engine/gc"
)

// CompactRequest says what chain to fold and how to write the new full snapshot. compact.Config documents each
// setting and its default; Decrypt is taken from the Repo's Options when the request leaves it nil.
type CompactRequest struct {
	// Revision is the revision to fold the chain up to (0 = the newest restorable). It must lie in a chain,
	// after its full snapshot and before any gap.
	Revision int64
	compact.Config
	// ThenGC, when set, runs retention with this policy once the new snapshot is written (see GC).
	ThenGC *gc.Config
}

// CompactResult is the new full snapshot, what it folded, and the retention run asked for.
type CompactResult struct {
	compact.Result
	GC *gc.Plan `json:"gc,omitempty"`
}

// Compact folds a chain into one new full snapshot Full-00000000-<revision>-<unix time> in the same store: the
// chain restored into a scratch folder, the db compacted at the revision and defragmented, written as the
// snapshot writer writes full snapshots and verified before it becomes visible. The old chain stays (ThenGC runs
// retention). Refused before anything is written: a store of several clusters or whose cluster sits below it
// (fault.Ambiguous), a revision at or after a gap (fault.Gap) or in no chain (fault.NoneCompatible), nothing to
// fold (a lone full snapshot, every etcd-operator or other tool's backup).
func (r *Repo) Compact(ctx context.Context, req CompactRequest) (*CompactResult, error) {
	if req.ThenGC != nil {
		if err := req.ThenGC.Validate(); err != nil {
			return nil, err
		}
	}
	// A writer never picks a folder of a store of several clusters, nor starts a second cluster beside one.
	if err := r.CheckWriter(ctx); err != nil {
		return nil, err
	}
	point, err := r.Pick(ctx, PickRequest{Revision: req.Revision})
	if err != nil {
		return nil, err
	}
	if err := compact.Foldable(point); err != nil {
		return nil, err
	}
	cfg := req.Config
	if cfg.Decrypt == nil {
		cfg.Decrypt = r.opts.Decrypt
	}
	if cfg.Logger == nil {
		cfg.Logger = r.opts.Logger
	}
	res, err := compact.Compact(ctx, r.st, point, cfg)
	if err != nil {
		return nil, err
	}
	out := &CompactResult{Result: *res}
	if req.ThenGC != nil {
		plan, err := r.GC(ctx, GCRequest{Policy: *req.ThenGC})
		out.GC = plan
		if err != nil {
			return out, err
		}
	}
	return out, nil
}
