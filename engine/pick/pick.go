// Package pick chooses the newest restorable point in a catalog, optionally for a target etcd version and/or an
// exact revision, and says why every newer backup was refused.
package pick

import (
	"errors"
	"fmt"
	"path"
	"sort"

	"github.com/etcd-dr/etcd-dr/engine/catalog"
	"github.com/etcd-dr/etcd-dr/engine/fault"
	"github.com/etcd-dr/etcd-dr/engine/version"
)

// Config says what to pick. The zero value picks the newest restorable revision of any version.
type Config struct {
	// EtcdVersion is the etcd version the backup must restore into ("" = any).
	EtcdVersion string
	// Revision is the exact revision wanted (0 = the newest restorable).
	Revision int64
	// Verify reads a candidate chain's full snapshot and checks the revision its name gives is the one inside
	// (snapinfo.Verify; nil trusts names). A fault.ErrProblems (a lying name, a damaged db) refuses the chain,
	// listed in Refused with why, and the next chain is tried; snapinfo.ErrUnverifiable (encrypted, no key)
	// (catalog.ErrUnverifiable) only warns; any other error (the store failed) fails the pick.
	Verify func(catalog.Snapshot) error
	// Excluded reads a candidate's exclude mark that does not come with the listing (an S3 or Azure tag: one
	// request each, so only the chains pick considers are asked): why it is excluded, "" if not. nil asks nothing.
	// An error only warns: a store without tagging must not stop a restore.
	Excluded func(catalog.Snapshot) (string, error)
}

// Refusal says why one backup was not chosen.
type Refusal struct {
	Key string `json:"key"`
	Why string `json:"why"`
}

// Result is the chosen restore point.
type Result struct {
	Revision    int64         `json:"revision"`
	EtcdVersion string        `json:"etcdVersion"`
	Chain       catalog.Chain `json:"chain"`
	// Objects are the keys to fetch, in apply order, to reach Revision.
	Objects  []string  `json:"objects"`
	Refused  []Refusal `json:"refused"`
	Warnings []string  `json:"warnings,omitempty"`
}

// Snapshots returns the chain's objects needed to reach Revision, in apply order.
func (r *Result) Snapshots() []catalog.Snapshot {
	out := []catalog.Snapshot{r.Chain.Base}
	for _, d := range r.Chain.Deltas {
		if d.StartRevision > r.Revision {
			break
		}
		out = append(out, d)
	}
	return out
}

// Pick chooses from cat. Errors: fault.ErrRefused for a bad version string, fault.ErrNothingCompatible when no
// backup fits (naming the nearest revisions), fault.ErrProblems when the newest data sits behind a gap.
func Pick(cat *catalog.Catalog, cfg Config) (*Result, error) {
	var target *version.Version
	if cfg.EtcdVersion != "" {
		v, err := version.Parse(cfg.EtcdVersion)
		if err != nil {
			return nil, fault.Bad("etcd version", cfg.EtcdVersion, "%v", err)
		}
		target = &v
	}
	if cfg.Revision < 0 {
		return nil, fault.Bad("revision", fmt.Sprint(cfg.Revision), "revisions are positive")
	}
	chains := append([]catalog.Chain(nil), cat.Chains...)
	// Newest first: by the last revision held, then by the base.
	sort.SliceStable(chains, func(i, j int) bool {
		if chains[i].EndRevision != chains[j].EndRevision {
			return chains[i].EndRevision > chains[j].EndRevision
		}
		return chains[i].Base.EndRevision > chains[j].Base.EndRevision
	})
	var refused []Refusal
	var warnings []string
	var compatible []catalog.Chain
	for i, ch := range chains {
		if ch.Base.Excluded != "" {
			refused = append(refused, Refusal{Key: ch.Base.Key, Why: "excluded: " + ch.Base.Excluded})
			if i == 0 {
				warnings = append(warnings, fmt.Sprintf("the newest backup %s is not used: excluded: %s", ch.Base.Key, ch.Base.Excluded))
			}
			continue
		}
		if target != nil {
			if ch.Base.EtcdVersion == "" {
				warnings = append(warnings, fmt.Sprintf("%s records no etcd version (etcd-backup-restore does not); assumed compatible with %s", ch.Base.Key, target))
			} else if bv, err := version.Parse(ch.Base.EtcdVersion); err != nil {
				refused = append(refused, Refusal{Key: ch.Base.Key, Why: fmt.Sprintf("unreadable etcd version %q", ch.Base.EtcdVersion)})
				continue
			} else if ok, why := version.Restores(bv, *target); !ok {
				refused = append(refused, Refusal{Key: ch.Base.Key, Why: why})
				continue
			}
		}
		compatible = append(compatible, ch)
	}
	if len(compatible) == 0 {
		if len(cat.Chains) == 0 {
			return nil, fault.NothingCompatible("no backups in %s (%d other objects); check that the store URL points at the folder that holds the snapshots", cat.Store, len(cat.Problems))
		}
		if target == nil {
			return &Result{Refused: refused, Warnings: warnings}, fault.NothingCompatible("none of the %d backups in %s can be picked: %s: %s", len(cat.Chains), cat.Store, refused[0].Key, refused[0].Why)
		}
		return &Result{Refused: refused}, fault.NothingCompatible("none of the %d backups in %s restores into etcd %s: %s", len(cat.Chains), cat.Store, target, refused[0].Why)
	}
	// damaged is the first chain refused for what its full snapshot holds: when nothing else fits, the pick
	// fails as a problem with the backup (exit 3), not as "nothing compatible".
	var damaged, excluded *Refusal
	usable := func(ch catalog.Chain) (bool, error) {
		if cfg.Excluded != nil {
			why, err := cfg.Excluded(ch.Base)
			switch {
			case err != nil:
				warnings = append(warnings, fmt.Sprintf("%s: its exclude mark could not be read, assumed not excluded (%v)", ch.Base.Key, err))
			case why != "":
				refused = append(refused, Refusal{Key: ch.Base.Key, Why: "excluded: " + why})
				if ch.Base.Key == chains[0].Base.Key {
					warnings = append(warnings, fmt.Sprintf("the newest backup %s is not used: excluded: %s", ch.Base.Key, why))
				}
				if excluded == nil {
					e := refused[len(refused)-1]
					excluded = &e
				}
				return false, nil
			}
		}
		if cfg.Verify == nil {
			return true, nil
		}
		err := cfg.Verify(ch.Base)
		switch {
		case err == nil:
			return true, nil
		case errors.Is(err, catalog.ErrUnverifiable):
			warnings = append(warnings, fmt.Sprintf("%s: its revision is not verified (%v)", ch.Base.Key, err))
			return true, nil
		case errors.Is(err, fault.ErrProblems):
			refused = append(refused, Refusal{Key: ch.Base.Key, Why: err.Error()})
			if damaged == nil {
				d := refused[len(refused)-1]
				damaged = &d
			}
			return false, nil
		}
		return false, fmt.Errorf("verify full snapshot %s: %w", ch.Base.Key, err)
	}
	if cfg.Revision == 0 {
		var ch catalog.Chain
		found := false
		for _, c := range compatible {
			ok, err := usable(c)
			if err != nil {
				return nil, err
			}
			if ok {
				ch, found = c, true
				break
			}
		}
		if !found {
			if damaged == nil {
				return &Result{Refused: refused, Warnings: warnings}, fault.NothingCompatible("none of the %d backups in %s can be picked: %s: %s", len(compatible), cat.Store, excluded.Key, excluded.Why)
			}
			return &Result{Refused: refused, Warnings: warnings}, fault.Problems("none of the %d backups in %s can be used: %s", len(compatible), cat.Store, damaged.Why)
		}
		if len(ch.Gaps) > 0 {
			g := ch.Gaps[0]
			return &Result{Chain: ch, Refused: refused, Warnings: warnings}, &fault.Gap{Chain: path.Base(ch.Base.Key), EndRevision: ch.EndRevision,
				From: g.From, To: g.To, What: g.Describe(), SafeRevision: ch.RestorableRevision}
		}
		return result(ch, ch.EndRevision, refused, warnings), nil
	}
	for _, ch := range compatible {
		if cfg.Revision >= ch.Base.EndRevision && cfg.Revision <= ch.RestorableRevision {
			ok, err := usable(ch)
			if err != nil {
				return nil, err
			}
			if ok {
				return result(ch, cfg.Revision, refused, warnings), nil
			}
		}
	}
	for _, ch := range compatible {
		for _, g := range ch.Gaps {
			if cfg.Revision >= ch.Base.EndRevision && cfg.Revision <= ch.EndRevision && cfg.Revision >= g.From {
				return &Result{Chain: ch, Refused: refused, Warnings: warnings}, &fault.Gap{Chain: path.Base(ch.Base.Key), EndRevision: ch.EndRevision,
					From: g.From, To: g.To, What: g.Describe(), Revision: cfg.Revision, SafeRevision: ch.RestorableRevision}
			}
		}
	}
	if damaged != nil {
		return &Result{Refused: refused, Warnings: warnings}, fault.Problems("the only backup holding revision %d in %s cannot be used: %s", cfg.Revision, cat.Store, damaged.Why)
	}
	if excluded != nil {
		return &Result{Refused: refused, Warnings: warnings}, fault.NothingCompatible("the only backup holding revision %d in %s is excluded: %s: %s", cfg.Revision, cat.Store, excluded.Key, excluded.Why)
	}
	below, above := nearest(compatible, cfg.Revision)
	msg := fmt.Sprintf("no backup in %s holds revision %d", cat.Store, cfg.Revision)
	switch {
	case below > 0 && above > 0:
		msg += fmt.Sprintf("; nearest available: %d (below) and %d (above)", below, above)
	case below > 0:
		msg += fmt.Sprintf("; nearest available: %d (the newest restorable revision)", below)
	case above > 0:
		msg += fmt.Sprintf("; nearest available: %d (the oldest restorable revision)", above)
	}
	return &Result{Refused: refused, Warnings: warnings}, fault.NothingCompatible("%s", msg)
}

// nearest finds the closest restorable revisions below and above rev (0 when none).
func nearest(chains []catalog.Chain, rev int64) (below, above int64) {
	for _, ch := range chains {
		lo, hi := ch.Base.EndRevision, ch.RestorableRevision
		if hi < rev && hi > below {
			below = hi
		}
		if lo > rev && (above == 0 || lo < above) {
			above = lo
		}
	}
	return below, above
}

func result(ch catalog.Chain, rev int64, refused []Refusal, warnings []string) *Result {
	r := &Result{Revision: rev, EtcdVersion: ch.Base.EtcdVersion, Chain: ch, Refused: refused, Warnings: warnings}
	if r.Refused == nil {
		r.Refused = []Refusal{}
	}
	for _, s := range r.Snapshots() {
		r.Objects = append(r.Objects, s.Key)
	}
	return r
}
