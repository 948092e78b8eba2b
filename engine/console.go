package engine

import (
	"context"
	"io"
	"path"

	"github.com/etcd-dr/etcd-dr/engine/catalog"
	"github.com/etcd-dr/etcd-dr/engine/download"
	"github.com/etcd-dr/etcd-dr/engine/pick"
	"github.com/etcd-dr/etcd-dr/engine/progress"
)

// VerifyObject streams one object (decompressed, decrypted with the Repo's Decrypt) and checks its hashes without
// writing it anywhere: the console's "verify this object" on the object screen.
func (r *Repo) VerifyObject(ctx context.Context, snap catalog.Snapshot, rep progress.Reporter) (download.Verified, error) {
	m := progress.NewMeter(rep, "verify", path.Base(snap.Key), "bytes", 0)
	defer m.Finish()
	return download.Object(ctx, r.st, snap, io.Discard, m, r.opts.Decrypt)
}

// PickInChain picks revision from one chain alone (0 = its restorable end), so that another chain holding the
// same revision is never used instead of the one the user chose (the console's catalog rows). It follows Pick's
// rules otherwise: an on-demand revision is read first, and the base must hold the revision its name gives.
func (r *Repo) PickInChain(ctx context.Context, chain catalog.Chain, revision int64) (*pick.Result, error) {
	one := &catalog.Catalog{Store: r.Catalog().Store, Chains: []catalog.Chain{chain}, Problems: []catalog.Problem{}}
	return r.pickIn(ctx, one, PickRequest{Revision: revision})
}
