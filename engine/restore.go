package engine

import (
	"context"

	"github.com/etcd-dr/etcd-dr/engine/pick"
	"github.com/etcd-dr/etcd-dr/engine/restore"
)

// RestoreRequest says what to restore and where. restore.Config documents each setting and its default (etcdutl's).
// Decrypt is taken from the Repo's Options when the request leaves it nil.
type RestoreRequest struct {
	// Point is what Pick chose (required).
	Point *pick.Result
	restore.Config
}

// CheckTarget applies the one rule for a restore target (occupied, a file, a dangling link, locked by a running
// etcd, ...) without changing anything: faces call it before they ask the user to confirm or open the store.
func CheckTarget(dir string, moveAside bool) error { return restore.CheckTarget(dir, moveAside) }

// CheckRestoreSettings applies the restore's rules for membership (name, initial cluster, peer URLs, all members)
// and revision bump without changing anything: the console checks its form with it before confirming.
func CheckRestoreSettings(cfg restore.Config) error { return restore.CheckSettings(cfg) }

// CheckTarget is the package-level CheckTarget, for faces that hold a Repo.
func (r *Repo) CheckTarget(dir string, moveAside bool) error { return CheckTarget(dir, moveAside) }

// Restore restores the picked point into a new data dir (or one per member): the full snapshot through etcdutl,
// the deltas replayed one transaction per source revision, checked, then renamed into place. It never deletes or
// overwrites a data dir; a failed restore leaves no data dir behind.
func (r *Repo) Restore(ctx context.Context, req RestoreRequest) (*restore.Result, error) {
	cfg := req.Config
	if cfg.Decrypt == nil {
		cfg.Decrypt = r.opts.Decrypt
	}
	return restore.Restore(ctx, r.st, req.Point, cfg)
}

// InitializeRequest says how to initialize a data dir: validate it against the store and restore only when it
// is missing (or invalid, with MoveAside).
type InitializeRequest struct {
	// Pick chooses the restore point when one is needed (default: the newest restorable).
	Pick PickRequest
	restore.Config
	// InitOptions: quick validation and a hook before a restore (the sidecar's multi-member check and its
	// recorded pick); the zero value is the initialize verb's full check.
	restore.InitOptions
}

// Initialize validates req.DataDir against the store; a valid one is left alone, a missing one restored, an
// invalid one refused (fault.InvalidDataDir) unless MoveAside, which moves it aside (never deletes) and restores.
func (r *Repo) Initialize(ctx context.Context, req InitializeRequest) (*restore.InitResult, error) {
	cfg := req.Config
	if cfg.Decrypt == nil {
		cfg.Decrypt = r.opts.Decrypt
	}
	cat, err := r.oneCluster()
	if err != nil {
		return nil, err
	}
	// Revisions only the snapshots can tell are read now: the data dir is compared with the newest of them.
	if cat, _, err = r.resolveOnDemand(ctx, cat, req.Pick.Revision); err != nil {
		return nil, err
	}
	return restore.Initialize(ctx, r.st, cat, r.pickConfig(ctx, req.Pick), cfg, req.InitOptions)
}
