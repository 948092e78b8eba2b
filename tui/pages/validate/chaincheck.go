package validate

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path"

	"github.com/etcd-dr/etcd-dr/engine/download"
	"github.com/etcd-dr/etcd-dr/engine/fault"
	"github.com/etcd-dr/etcd-dr/engine/progress"
	"github.com/etcd-dr/etcd-dr/tui/common"
)

// ChainChecker checks a backup chain with what the engine already offers, until engine/validate lands: every
// object is streamed through download.Object (decompression, sha256 trailer, stored-bytes hash), and the
// catalog's gaps and problems are reported. It does not decode delta events.
type ChainChecker struct{}

// Validate checks req.Chain; a data dir is refused.
func (ChainChecker) Validate(ctx context.Context, req common.ValidateRequest, r progress.Reporter) (*common.ValidateReport, error) {
	if req.Chain == nil {
		return nil, errors.New("data directory validation needs engine/validate")
	}
	ch := req.Chain
	rep := &common.ValidateReport{}
	objs := ch.Objects()
	for i, s := range objs {
		if r != nil {
			r.Report(progress.Update{Phase: "validate", Item: path.Base(s.Key), Done: int64(i), Total: int64(len(objs)), Unit: "objects"})
		}
		v, err := download.Object(ctx, req.Source.Store, s, io.Discard, nil, req.Decrypt)
		switch {
		case ctx.Err() != nil:
			return nil, ctx.Err()
		case err != nil && errors.Is(err, fault.ErrProblems), err != nil && errors.Is(err, fault.ErrRefused):
			rep.Problems = append(rep.Problems, common.ValidateProblem{Object: s.Key, What: err.Error()})
		case err != nil:
			return nil, err
		default:
			rep.Checked = append(rep.Checked, fmt.Sprintf("%s: %s, sha256 %s…", path.Base(s.Key), common.Bytes(v.Bytes), v.SHA256[:12]))
		}
	}
	for _, g := range ch.Gaps {
		rep.Problems = append(rep.Problems, common.ValidateProblem{Object: ch.Base.Key, What: fmt.Sprintf("gap: revisions %d-%d are in no object; the chain restores only up to %d", g.From, g.To, ch.RestorableRevision)})
	}
	if len(ch.Gaps) == 0 {
		rep.Checked = append(rep.Checked, fmt.Sprintf("continuity: revisions %d-%d without a gap", ch.Base.EndRevision, ch.EndRevision))
	}
	rep.OK = len(rep.Problems) == 0
	return rep, nil
}
