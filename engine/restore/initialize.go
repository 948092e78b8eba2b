package restore

import (
	"context"
	"fmt"
	"path/filepath"

	"github.com/etcd-dr/etcd-dr/engine/catalog"
	"github.com/etcd-dr/etcd-dr/engine/fault"
	"github.com/etcd-dr/etcd-dr/engine/pick"
	"github.com/etcd-dr/etcd-dr/engine/validate"
	"github.com/etcd-dr/etcd-dr/store"
)

// Actions Initialize takes.
const (
	ActionNone     = "none"     // the data dir is valid: nothing done
	ActionRestored = "restored" // the data dir was missing (or moved aside): restored from the store
)

// InitResult says what Initialize found and did.
type InitResult struct {
	Action     string                  `json:"action"`
	Validation *validate.DataDirReport `json:"validation"`
	Restore    *Result                 `json:"restore,omitempty"`
}

// InitOptions are what a caller of Initialize may add (the zero value: a full check, no hook).
type InitOptions struct {
	// Quick validates the layout and opens the db only (validate.DataDirConfig.Quick).
	Quick bool
	// BeforeRestore, when set, is called once a restore is needed, before anything is picked or changed. An
	// error stops Initialize with nothing changed; a revision above 0 is the one to restore (instead of pc's).
	BeforeRestore func(rep *validate.DataDirReport) (revision int64, err error)
}

// Initialize validates cfg.DataDir against the store: a valid data dir is left alone; a missing one is restored
// from what pc picks; an invalid one is refused (fault.Problems) unless cfg.MoveAside, which moves it aside and
// restores.
func Initialize(ctx context.Context, st *store.Store, cat *catalog.Catalog, pc pick.Config, cfg Config, opts InitOptions) (*InitResult, error) {
	if cfg.DataDir == "" {
		return nil, fault.Bad("data dir", "", "is required")
	}
	// A data dir in use is refused whatever MoveAside says, before it is validated (a running etcd's db reads as
	// "locked", which MoveAside would otherwise act on).
	if abs, err := filepath.Abs(cfg.DataDir); err == nil {
		if err := probeTargetLock(abs); err != nil {
			return nil, err
		}
		if err := checkNotLive(abs); err != nil {
			return nil, err
		}
	}
	rep := validate.DataDir(cfg.DataDir, validate.DataDirConfig{StoreRevision: catalog.NewestRestorable(cat), Store: cat.Store, Logger: cfg.Logger, Quick: opts.Quick})
	out := &InitResult{Action: ActionNone, Validation: rep}
	switch {
	case rep.OK:
		return out, nil
	case !rep.Missing && !cfg.MoveAside:
		return out, &fault.InvalidDataDir{Path: rep.Path, What: firstProblem(rep), MoveAsideHelps: true}
	}
	if opts.BeforeRestore != nil {
		rev, err := opts.BeforeRestore(rep)
		if err != nil {
			return out, err
		}
		if rev > 0 {
			pc.Revision = rev
		}
	}
	r, err := pick.Pick(cat, pc)
	if err != nil {
		return out, err
	}
	res, err := Restore(ctx, st, r, cfg)
	if err != nil {
		return out, err
	}
	out.Action, out.Restore = ActionRestored, res
	return out, nil
}

func firstProblem(rep *validate.DataDirReport) string {
	if len(rep.Problems) == 0 {
		return "no details"
	}
	p := rep.Problems[0]
	s := p.Path + ": " + p.What
	if n := len(rep.Problems) - 1; n > 0 {
		s += fmt.Sprintf(" (and %d more)", n)
	}
	return s
}
