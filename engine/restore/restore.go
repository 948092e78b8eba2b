// Package restore turns a picked backup into etcd data directories: the full snapshot through etcdutl's restore,
// the deltas applied once, one transaction per source revision, every result checked before it is renamed into
// place. A restore never deletes or overwrites a data dir; a failed one leaves no data dir behind.
package restore

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"time"

	"go.etcd.io/etcd/server/v3/storage/backend"
	"go.etcd.io/etcd/server/v3/storage/mvcc"
	"go.uber.org/zap"

	"github.com/etcd-dr/etcd-dr/engine/catalog"
	"github.com/etcd-dr/etcd-dr/engine/crypt"
	"github.com/etcd-dr/etcd-dr/engine/download"
	"github.com/etcd-dr/etcd-dr/engine/fault"
	"github.com/etcd-dr/etcd-dr/engine/format"
	"github.com/etcd-dr/etcd-dr/engine/pick"
	"github.com/etcd-dr/etcd-dr/engine/progress"
	"github.com/etcd-dr/etcd-dr/engine/validate"
	"github.com/etcd-dr/etcd-dr/store"
)

// DefaultLeaseTTL is the TTL (seconds) given to a lease that keys in the deltas use but the full snapshot does not
// hold: deltas record lease IDs, not TTLs. etcd counts every lease's TTL afresh when the restored member starts.
const DefaultLeaseTTL = 3600

// Config says where and how to restore. Defaults follow etcdutl snapshot restore.
type Config struct {
	// DataDir is the data directory to create (required). With AllMembers it is a folder that receives one data
	// dir per member, named <name>.etcd.
	DataDir string
	// Cluster is the membership written into the data dir(s).
	Cluster Cluster
	// AllMembers writes a data dir for every member of Cluster.InitialCluster from one replay.
	AllMembers bool
	// BumpRevision raises the restored revision by this much, and MarkCompacted marks it compacted, so that
	// watchers (Kubernetes) do not see revisions go back. Both or neither, as etcdutl.
	BumpRevision  uint64
	MarkCompacted bool
	// MoveAside renames an existing non-empty DataDir to <DataDir>.broken-<timestamp> once the restore is ready
	// (default: refuse an occupied DataDir).
	MoveAside bool
	// LeaseTTL is the TTL for leases first seen in the deltas (default DefaultLeaseTTL).
	LeaseTTL int64
	// Progress receives download bytes and replayed revisions; nil for none.
	Progress progress.Reporter
	// Decrypt opens .age objects; nil refuses them.
	Decrypt crypt.Decrypter
	// Logger receives etcd's storage logs; nil for none.
	Logger *zap.Logger
	// Now is the clock for the moved-aside name (default time.Now).
	Now func() time.Time
	// AfterReplay, when set, is called with etcd's store at the replayed revision, after the replay's checks and
	// before the db is closed and written into the data dir(s): compact reads the state it folds there, off the
	// index the replay built, instead of loading the db again. Its error ends the restore. Not called without a
	// replay.
	AfterReplay func(ctx context.Context, kv mvcc.KV, be backend.Backend) error
	// ReplayOnly ends the restore after the replay, its checks and AfterReplay: no data dir is written (the
	// Result has no members). For compact, whose AfterReplay keeps what it needs of the replayed db; a pick that
	// needs no replay is refused.
	ReplayOnly bool
}

// Result says what was restored. Its JSON is the CLI contract's restore shape.
type Result struct {
	DataDir       string  `json:"dataDir"`
	Revision      int64   `json:"revision"`
	FullSnapshot  string  `json:"fullSnapshot"`
	DeltasApplied int     `json:"deltasApplied"`
	EventsApplied int64   `json:"eventsApplied"`
	Seconds       float64 `json:"seconds"`
	// Keys is the number of keys at Revision, counted after a replay of deltas (nil without one: a lone full
	// snapshot is not read through to count them).
	Keys *int64 `json:"keys,omitempty"`
	// EventsSkipped are events of overlapping deltas that an earlier object already held.
	EventsSkipped int64 `json:"eventsSkipped"`
	// LeasesCreated are leases the deltas use that the full snapshot did not hold (given LeaseTTL).
	LeasesCreated int `json:"leasesCreated"`
	// ServedRevision is the revision etcd serves after --bump-revision (= Revision without a bump).
	ServedRevision int64       `json:"servedRevision"`
	Members        []MemberDir `json:"members"`
	MovedAside     string      `json:"movedAside,omitempty"`
	Notes          []string    `json:"notes,omitempty"`
}

// MemberDir is one written member data dir.
type MemberDir struct {
	Name     string   `json:"name"`
	DataDir  string   `json:"dataDir"`
	PeerURLs []string `json:"peerURLs"`
}

// Restore restores what r picked from st. Bad input is refused before anything is written.
func Restore(ctx context.Context, st *store.Store, r *pick.Result, cfg Config) (*Result, error) {
	start := time.Now()
	if cfg.Logger == nil {
		cfg.Logger = zap.NewNop()
	}
	if cfg.LeaseTTL <= 0 {
		cfg.LeaseTTL = DefaultLeaseTTL
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	members, err := cfg.settings()
	if err != nil {
		return nil, err
	}
	snaps := r.Snapshots()
	if len(snaps) == 0 || snaps[0].Kind != catalog.Full {
		return nil, fault.Refused("nothing to restore: the pick holds no full snapshot")
	}
	tgt, err := prepareTarget(cfg.DataDir, cfg.MoveAside, false)
	if err != nil {
		return nil, err
	}
	defer tgt.release() // after the staging folder is gone (defers run last first)
	stage, notes, err := newStaging(tgt)
	if err != nil {
		return nil, err
	}
	defer stage.remove()
	res := &Result{DataDir: tgt.path, Revision: r.Revision, FullSnapshot: snaps[0].Key, Members: []MemberDir{}, Notes: notes}
	src := snapshotSource{path: stage.db(), verified: true}
	replays := len(snaps) > 1 && r.Revision > snaps[0].EndRevision
	if cfg.ReplayOnly && !replays {
		return nil, fault.Refused("nothing to replay: the pick at revision %d is the full snapshot %s alone", r.Revision, snaps[0].Key)
	}
	// One member without a revision bump is replayed in place: etcdutl writes the data dir from the full
	// snapshot as it would alone, then the deltas go into its db. That saves a copy of the replayed db, and for
	// a plain snapshot on a directory store the download too. A bump must follow the replay (etcdutl makes
	// it), and several members are written from one replayed db.
	inPlace := replays && !cfg.AllMembers && cfg.BumpRevision == 0 && !cfg.ReplayOnly
	switch {
	case inPlace: // below, in the member's data dir
	case replays:
		err := replayChain(ctx, st, snaps, r.Revision, cfg, res, func() (string, error) {
			return stage.db(), downloadFull(ctx, st, snaps[0], stage.db(), cfg)
		})
		if err != nil {
			return nil, err
		}
		if cfg.ReplayOnly {
			res.DataDir = ""
			res.Seconds = time.Since(start).Seconds()
			return res, nil
		}
	default:
		if src, err = fullSource(ctx, st, snaps[0], stage.db(), cfg); err != nil {
			return nil, err
		}
	}
	res.ServedRevision = r.Revision + int64(cfg.BumpRevision)
	out := stage.out()
	for _, m := range members {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if cfg.AllMembers {
			if m.DataDir, err = memberDataDir(out, m.Name); err != nil {
				return nil, err
			}
		} else {
			m.DataDir = out
		}
		if inPlace {
			err = replayInMember(ctx, st, snaps, r.Revision, cfg, res, m, stage.db())
		} else {
			err = writeMember(cfg, src, m)
		}
		if err != nil {
			return nil, err
		}
		rep := validate.DataDir(m.DataDir, validate.DataDirConfig{Logger: cfg.Logger, SkipDBCheck: true})
		if !rep.OK {
			return nil, fmt.Errorf("restored data dir of member %s failed its check: %v", m.Name, rep.Problems)
		}
		if rep.Revision != res.ServedRevision {
			return nil, fault.Problems("full snapshot %s is named for revision %d but the data dir made from it is at revision %d: the name lies; choose another backup",
				snaps[0].Key, snaps[0].EndRevision, rep.Revision-int64(cfg.BumpRevision))
		}
		rel, _ := filepath.Rel(out, m.DataDir)
		m.DataDir = filepath.Join(tgt.path, rel)
		res.Members = append(res.Members, m)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	moved, err := tgt.commit(out, cfg.Now())
	if err != nil {
		return nil, err
	}
	tgt.done = true
	res.MovedAside = moved
	res.Seconds = time.Since(start).Seconds()
	return res, nil
}

// replayInMember writes member m's data dir from the full snapshot of snaps (downloaded to scratch unless etcdutl
// can read it where it is) and replays the deltas up to target into its db.
func replayInMember(ctx context.Context, st *store.Store, snaps []catalog.Snapshot, target int64, cfg Config, res *Result, m MemberDir, scratch string) error {
	db := memberDB(m.DataDir)
	err := replayChain(ctx, st, snaps, target, cfg, res, func() (string, error) {
		src, err := fullSource(ctx, st, snaps[0], scratch, cfg)
		if err != nil {
			return "", err
		}
		if err := writeMember(cfg, src, m); err != nil {
			return "", err
		}
		if src.verified { // our download, copied: gone now, its pages need never reach the disk
			_ = os.Remove(scratch)
		}
		return db, nil
	})
	if err != nil {
		return err
	}
	// The replay writes without fsync (see openReplayer): make the db durable before the data dir is renamed
	// into place.
	f, err := os.OpenFile(db, os.O_RDWR, 0)
	if err != nil {
		return fmt.Errorf("sync restored database: %w", err)
	}
	defer f.Close()
	if err := f.Sync(); err != nil {
		return fmt.Errorf("sync restored database %s: %w", db, err)
	}
	return f.Close()
}

// replayChain applies the deltas of snaps up to target to the db that prepare makes of the full snapshot; the
// deltas are fetched meanwhile.
func replayChain(ctx context.Context, st *store.Store, snaps []catalog.Snapshot, target int64, cfg Config, res *Result, prepare func() (string, error)) error {
	base := snaps[0]
	deltas := prefetch(ctx, st, snaps[1:], target, cfg.Decrypt)
	defer deltas.stop() // let the fetchers end before the store is closed
	db, err := prepare()
	if err != nil {
		return err
	}
	rp, err := openReplayer(db, cfg.Logger, cfg.LeaseTTL)
	if err != nil {
		return fmt.Errorf("full snapshot %s: %w", base.Key, err)
	}
	closed := false
	defer func() {
		if !closed {
			_ = rp.close()
		}
	}()
	inner := rp.Rev()
	switch {
	case inner < base.EndRevision:
		return fault.Problems("full snapshot %s is named for revision %d but holds only revision %d: its name lies and revisions %d-%d are in no object", base.Key, base.EndRevision, inner, inner+1, base.EndRevision)
	case inner > target:
		return fault.Problems("full snapshot %s holds revision %d, past the requested revision %d: pick an older chain (its name says %d)", base.Key, inner, target, base.EndRevision)
	case inner > base.EndRevision:
		res.Notes = append(res.Notes, fmt.Sprintf("full snapshot %s holds revision %d although named %d; delta events up to %d are skipped", path.Base(base.Key), inner, base.EndRevision, inner))
	}
	m := newApplyMeter(cfg.Progress, inner, target)
	for rp.Rev() < target {
		f, ok := deltas.next()
		if !ok {
			break
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if f.err != nil {
			return f.err
		}
		if err := applyDelta(ctx, f.snap, f.events, target, rp, m); err != nil {
			if errors.Is(err, fault.ErrProblems) && !f.last {
				if verr := deltas.verdict(f.snap.Key); verr != nil {
					return verr
				}
			}
			return err
		}
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	m.update(rp.Rev(), rp.events, true)
	if got := rp.Rev(); got != target {
		return fault.Problems("the chain ends at revision %d, not at the requested %d: revisions %d-%d are in no object", got, target, got+1, target)
	}
	keys, err := rp.keys(ctx)
	if err != nil {
		return fmt.Errorf("count restored keys: %w", err)
	}
	res.Keys = &keys
	res.EventsApplied, res.EventsSkipped, res.LeasesCreated, res.DeltasApplied = rp.events, rp.skipped, rp.granted, rp.deltas
	if cfg.AfterReplay != nil {
		if err := cfg.AfterReplay(ctx, rp.kv, rp.be); err != nil {
			return err
		}
	}
	closed = true
	if err := rp.close(); err != nil {
		return fmt.Errorf("write restored database: %w", err)
	}
	return nil
}

// fullSource is the full snapshot s as etcdutl is to read it: a plain snapshot on a directory store where it is
// (etcdutl checks its sha256 itself, as it would on its own), any other downloaded to path and verified.
func fullSource(ctx context.Context, st *store.Store, s catalog.Snapshot, path string, cfg Config) (snapshotSource, error) {
	if p := plainLocal(st, s); p != "" {
		return snapshotSource{path: p}, nil
	}
	return snapshotSource{path: path, verified: true}, downloadFull(ctx, st, s, path, cfg)
}

// downloadFull streams the full snapshot to path, verifies its sha256 trailer and cuts the trailer off, leaving
// etcd's db file.
func downloadFull(ctx context.Context, st *store.Store, s catalog.Snapshot, path string, cfg Config) error {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return fmt.Errorf("create %s: %w", path, err)
	}
	defer f.Close()
	m := download.NewMeter(cfg.Progress, s)
	bw := bufio.NewWriterSize(f, 4<<20) // few large writes: 32 KiB ones cost more than the copy on some disks
	v, err := download.Object(ctx, st, s, bw, m, cfg.Decrypt)
	if err != nil {
		return err
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	m.Finish()
	if v.HasTrailer {
		if err := f.Truncate(v.Bytes - format.TrailerSize); err != nil {
			return fmt.Errorf("cut the sha256 trailer off %s: %w", path, err)
		}
	}
	return f.Close()
}

// applyDelta applies the revisions of a batch of one delta's events above the current one, up to target.
func applyDelta(ctx context.Context, d catalog.Snapshot, events []format.DeltaEvent, target int64, rp *replayer, m *applyMeter) error {
	for i := 0; i < len(events); {
		rev := events[i].Revision()
		j := i
		for j < len(events) && events[j].Revision() == rev {
			j++
		}
		switch {
		case rev < d.StartRevision || rev > d.EndRevision:
			return fault.Problems("delta %s holds an event at revision %d, outside the revisions %d-%d its name promises", d.Key, rev, d.StartRevision, d.EndRevision)
		case i > 0 && rev < events[i-1].Revision():
			return fault.Problems("delta %s has events out of order (revision %d after %d)", d.Key, rev, events[i-1].Revision())
		case rev > target:
			return nil
		case rev <= rp.Rev():
			rp.skipped += int64(j - i)
		default:
			if rev%1024 == 0 {
				if err := ctx.Err(); err != nil {
					return err
				}
			}
			if err := rp.applyRevision(d.Key, rev, events[i:j]); err != nil {
				return err
			}
			if rp.lastDelta != d.Key {
				rp.lastDelta = d.Key
				rp.deltas++
			}
			m.update(rev, rp.events, false)
		}
		i = j
	}
	return nil
}

// plainLocal is the file of a snapshot on a directory store that is neither compressed nor encrypted ("" if not).
func plainLocal(st *store.Store, s catalog.Snapshot) string {
	if s.Codec != format.None || s.Encrypted {
		return ""
	}
	p, ok := st.LocalPath(s.Key)
	if !ok {
		return ""
	}
	return p
}
