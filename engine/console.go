package engine

import (
	"context"
	"io"
	"path"

	"github.com/etcd-dr/etcd-dr/engine/catalog"
	"github.com/etcd-dr/etcd-dr/engine/download"
	"github.com/etcd-dr/etcd-dr/engine/progress"
)

// VerifyObject streams one object (decompressed, decrypted with the Repo's Decrypt) and checks its hashes without
// writing it anywhere: the console's "verify this object" on the object screen.
func (r *Repo) VerifyObject(ctx context.Context, snap catalog.Snapshot, rep progress.Reporter) (download.Verified, error) {
	m := progress.NewMeter(rep, "verify", path.Base(snap.Key), "bytes", 0)
	defer m.Finish()
	return download.Object(ctx, r.st, snap, io.Discard, m, r.opts.Decrypt)
}
