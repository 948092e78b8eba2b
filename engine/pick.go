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
	cfg := pick.Config{EtcdVersion: req.EtcdVersion, Revision: req.Revision}
	if !req.TrustNames {
		cfg.Verify = func(s catalog.Snapshot) error {
			_, err := snapinfo.Verify(ctx, r.st, s, snapinfo.Options{Decrypt: r.opts.Decrypt})
			return err
		}
	}
	cat, warnings, err := r.resolveOnDemand(ctx, cat, req.Revision)
	if err != nil {
		return nil, err
	}
	res, err := pick.Pick(cat, cfg)
	if res != nil {
		res.Warnings = append(res.Warnings, warnings...)
		if w := res.Chain.Base.Warning; w != "" {
			res.Warnings = append(res.Warnings, res.Chain.Base.Key+": "+w)
		}
	}
	return res, err
}
