package engine

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sort"

	"github.com/etcd-dr/etcd-dr/engine/catalog"
	"github.com/etcd-dr/etcd-dr/engine/download"
	"github.com/etcd-dr/etcd-dr/engine/fault"
	"github.com/etcd-dr/etcd-dr/engine/snapinfo"
	"github.com/etcd-dr/etcd-dr/engine/version"
)

// NewestFullRequest asks for a lone full snapshot, as etcd-operator's backup sidecar serves one (GET /v1/backup).
type NewestFullRequest struct {
	// EtcdVersion is the etcd version it must restore into ("" = any; the version rule of pick).
	EtcdVersion string
	// MinRevision is the lowest revision it may hold (0 = any).
	MinRevision int64
}

// NewestFull lists the store again and chooses the newest full snapshot that fits req, its name checked against
// the db inside. Nothing fits: fault.NoneCompatible saying why; a bad version: fault.BadSetting.
func (r *Repo) NewestFull(ctx context.Context, req NewestFullRequest) (catalog.Snapshot, error) {
	var target *version.Version
	if req.EtcdVersion != "" {
		v, err := version.Parse(req.EtcdVersion)
		if err != nil {
			return catalog.Snapshot{}, fault.Bad("etcd version", req.EtcdVersion, "%v", err)
		}
		target = &v
	}
	if err := r.Reload(ctx); err != nil {
		return catalog.Snapshot{}, err
	}
	cat, err := r.oneCluster()
	if err != nil {
		return catalog.Snapshot{}, err
	}
	chains := append([]catalog.Chain(nil), cat.Chains...)
	sort.SliceStable(chains, func(i, j int) bool { return chains[i].Base.EndRevision > chains[j].Base.EndRevision })
	why := "no full snapshot in the store"
	for _, ch := range chains {
		b := ch.Base
		if b.EndRevision < req.MinRevision {
			why = fmt.Sprintf("the newest compatible backup holds revision %d, below the %d asked for", b.EndRevision, req.MinRevision)
			break
		}
		if target != nil && b.EtcdVersion != "" {
			bv, err := version.Parse(b.EtcdVersion)
			if err != nil {
				continue
			}
			if ok, reason := version.Restores(bv, *target); !ok {
				why = reason
				continue
			}
		}
		if b.Encrypted && r.opts.Decrypt == nil {
			why = (&fault.Encrypted{Object: b.Key}).Error()
			continue
		}
		if _, err := snapinfo.Verify(ctx, r.st, b, snapinfo.Options{Decrypt: r.opts.Decrypt}); err != nil {
			if errors.Is(err, fault.ErrProblems) {
				why = err.Error()
				continue
			}
			return catalog.Snapshot{}, err
		}
		return b, nil
	}
	return catalog.Snapshot{}, &fault.NoneCompatible{What: "no compatible backup: " + why}
}

// FullAt is the full snapshot that holds exactly revision rev, from the last listing (false when none does).
func (r *Repo) FullAt(rev int64) (catalog.Snapshot, bool) {
	for _, ch := range r.Catalog().Chains {
		if ch.Base.EndRevision == rev {
			return ch.Base, true
		}
	}
	return catalog.Snapshot{}, false
}

// StreamFull writes one full snapshot to w, decompressed and decrypted, its sha256 trailer checked on the way;
// an error after the first byte means w holds a cut stream that must not be taken for a whole one.
func (r *Repo) StreamFull(ctx context.Context, s catalog.Snapshot, w io.Writer) error {
	_, err := download.Object(ctx, r.st, s, w, nil, r.opts.Decrypt)
	return err
}
