package engine

import (
	"context"

	"github.com/etcd-dr/etcd-dr/engine/catalog"
	"github.com/etcd-dr/etcd-dr/engine/pick"
	"github.com/etcd-dr/etcd-dr/engine/snapinfo"
)

// PickRequest says what restore point to choose. The zero value picks the newest restorable revision of any
// etcd version.
type PickRequest struct {
	// EtcdVersion is the etcd version the backup must restore into (X.Y or X.Y.Z; "" = any). A backup of X.Y
	// restores into X.Y and X.(Y+1).
	EtcdVersion string
	// Revision is the exact revision wanted (0 = the newest restorable).
	Revision int64
	// TrustNames skips reading the chosen chain's full snapshot to check that it holds the revision its name
	// gives (default: checked, a few ranged reads).
	TrustNames bool
}

// Pick chooses the restore point. Errors are typed: fault.Ambiguous for a store of several clusters (choose one
// with Options.Cluster), fault.Gap when the newest data sits behind a gap, fault.NoneCompatible when nothing fits
// (the Result still lists every refusal), a problem when the only chain that fits lies about its content.
func (r *Repo) Pick(ctx context.Context, req PickRequest) (*pick.Result, error) {
	cat, err := r.oneCluster()
	if err != nil {
		return nil, err
	}
	return r.pickIn(ctx, cat, req)
}

// pickIn picks from cat: revisions that only the snapshot itself can tell are read first (newest first, as few as
// the answer needs), then the pick package chooses with the chosen base checked against its db.
func (r *Repo) pickIn(ctx context.Context, cat *catalog.Catalog, req PickRequest) (*pick.Result, error) {
	cat, warnings, err := r.resolveOnDemand(ctx, cat, req.Revision)
	if err != nil {
		return nil, err
	}
	res, err := pick.Pick(cat, r.pickConfig(ctx, req))
	if res != nil {
		res.Warnings = append(res.Warnings, warnings...)
		if w := res.Chain.Base.Warning; w != "" {
			res.Warnings = append(res.Warnings, res.Chain.Base.Key+": "+w)
		}
	}
	return res, err
}

// pickConfig is req as the pick package takes it, with the one rule that a chosen full snapshot must hold the
// revision its name gives (read from the db itself), for every job that picks: pick, initialize, a trial restore.
func (r *Repo) pickConfig(ctx context.Context, req PickRequest) pick.Config {
	cfg := pick.Config{EtcdVersion: req.EtcdVersion, Revision: req.Revision}
	// etcd-backup-restore's exclude mark as an S3 object tag or Azure blob tag: one request per candidate, so
	// read only for the chains pick considers (the GCS metadata form comes with the listing).
	cfg.Excluded = func(s catalog.Snapshot) (string, error) { return taggedExclusion(ctx, r.st, s.Key) }
	if !req.TrustNames {
		cfg.Verify = func(s catalog.Snapshot) error {
			_, err := snapinfo.Verify(ctx, r.st, s, snapinfo.Options{Decrypt: r.opts.Decrypt})
			return err
		}
	}
	return cfg
}
