package engine

import (
	"github.com/etcd-dr/etcd-dr/engine/pick"
)

// PickRequest says what restore point to choose. The zero value picks the newest restorable revision of any
// etcd version.
type PickRequest struct {
	// EtcdVersion is the etcd version the backup must restore into (X.Y or X.Y.Z; "" = any). A backup of X.Y
	// restores into X.Y and X.(Y+1).
	EtcdVersion string
	// Revision is the exact revision wanted (0 = the newest restorable).
	Revision int64
}

// Pick chooses the restore point. Errors are typed: fault.Ambiguous for a store of several clusters (choose one
// with Options.Cluster), fault.Gap when the newest data sits behind a gap, fault.NoneCompatible when nothing fits
// (the Result still lists every refusal), a refusal for bad input.
func (r *Repo) Pick(req PickRequest) (*pick.Result, error) {
	cat, err := r.oneCluster()
	if err != nil {
		return nil, err
	}
	return pick.Pick(cat, pick.Config{EtcdVersion: req.EtcdVersion, Revision: req.Revision})
}
