// Package compact folds a chain (a full snapshot and the deltas that continue it) into one new full snapshot, as
// etcd-backup-restore's compactor does: the chain is restored into a scratch folder with the restore package's
// replay, the db compacted at the revision and defragmented, and written into the same store as a full snapshot
// Full-00000000-<revision>-<unix time>, the way the snapshot package writes etcd's. The old chain stays.
package compact

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"go.etcd.io/etcd/server/v3/storage/backend"
	"go.etcd.io/etcd/server/v3/storage/mvcc"

	"github.com/etcd-dr/etcd-dr/engine/catalog"
	"github.com/etcd-dr/etcd-dr/engine/crypt"
	"github.com/etcd-dr/etcd-dr/engine/fault"
	"github.com/etcd-dr/etcd-dr/engine/format"
	"github.com/etcd-dr/etcd-dr/engine/pick"
	"github.com/etcd-dr/etcd-dr/engine/progress"
	"github.com/etcd-dr/etcd-dr/engine/restore"
	"github.com/etcd-dr/etcd-dr/engine/snapshot"
	"github.com/etcd-dr/etcd-dr/store"
)

// Config says how to fold and how to write the new snapshot. The zero value works: scratch under the OS temp
// dir, gzip (readable by etcd-backup-restore), not encrypted.
type Config struct {
	// ScratchDir is the folder the chain is restored under, in a new folder of its own removed at the end
	// (default os.TempDir()). It needs room for about three copies of the db, and must not lie inside an etcd
	// data dir.
	ScratchDir string
	// Compression of the new snapshot (default gzip); CompressionSet makes None mean "none".
	Compression    format.Compression
	CompressionSet bool
	// Encrypt, when set, encrypts the new snapshot (its name ends in .age).
	Encrypt crypt.Encrypter
	// Decrypt opens the chain's .age objects; nil refuses them.
	Decrypt crypt.Decrypter
	// Progress receives the restore's download and replay progress, then the fold's; nil for none.
	Progress progress.Reporter
	// StallTimeout aborts an upload that makes no progress for this long (default snapshot.DefaultStallTimeout).
	StallTimeout time.Duration
	// Logger receives what happened; nil for none.
	Logger *slog.Logger
	// Now is the clock of the new snapshot's name (default time.Now).
	Now func() time.Time
}

// Result is the new full snapshot and what it folded. Its JSON is the CLI's compact shape.
type Result struct {
	// Key is the new full snapshot's object; Revision the revision it holds.
	Key         string `json:"key"`
	Revision    int64  `json:"revision"`
	EtcdVersion string `json:"etcdVersion"`
	// Chain is the folded chain's full snapshot; Folded every object folded, in apply order.
	Chain         string   `json:"chain"`
	Folded        []string `json:"folded"`
	EventsApplied int64    `json:"eventsApplied"`
	Keys          int64    `json:"keys"`
	// RestoredDBBytes is the db as the replay left it; DBBytes after compaction and defragmentation; Size is
	// what the store holds (compressed, encrypted).
	RestoredDBBytes int64   `json:"restoredDbBytes"`
	DBBytes         int64   `json:"dbBytes"`
	Size            int64   `json:"size"`
	Compression     string  `json:"compression"`
	Encrypted       bool    `json:"encrypted"`
	RestoreSeconds  float64 `json:"restoreSeconds"`
	Seconds         float64 `json:"seconds"`
}

// Compact folds what point picked from st (opened for writing) into one new full snapshot in st. Refused (class
// refused, nothing written): a point that is a lone full snapshot, nothing to fold (every chain of the
// etcd-operator and other tools' layouts is one). The point must come from pick, which refuses a revision past a
// gap (fault.Gap) or in no chain.
func Compact(ctx context.Context, st *store.Store, point *pick.Result, cfg Config) (*Result, error) {
	start := time.Now()
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if err := Foldable(point); err != nil {
		return nil, err
	}
	parent, err := scratchParent(cfg.ScratchDir)
	if err != nil {
		return nil, err
	}
	scratch, err := os.MkdirTemp(parent, "etcd-dr-compact-")
	if err != nil {
		return nil, fmt.Errorf("create a scratch folder in %s (choose another with room for three copies of the db): %w", parent, err)
	}
	defer os.RemoveAll(scratch)
	snaps := point.Snapshots()
	res := &Result{Revision: point.Revision, EtcdVersion: etcdVersion(point), Chain: snaps[0].Key, Folded: point.Objects}

	// The replayed db, copied off the replay's store: no data dir is written (no member dir, WAL or snap: the
	// rewrite needs the db alone, and a restore of the compacted snapshot writes its own membership).
	restoredDB := filepath.Join(scratch, "replayed.db")
	var f *folded
	// The state is read inside the restore, from the store its replay built, whose index is in memory.
	afterReplay := func(ctx context.Context, kv mvcc.KV, be backend.Backend) error {
		out, err := readLive(ctx, kv, be, point.Revision)
		if err != nil {
			return err
		}
		f = &out
		return copyDB(be, restoredDB)
	}
	restored, err := restore.Restore(ctx, st, point, restore.Config{DataDir: filepath.Join(scratch, "data"), Decrypt: cfg.Decrypt,
		Progress: cfg.Progress, AfterReplay: afterReplay, ReplayOnly: true})
	if err != nil {
		return nil, fmt.Errorf("restore chain %s up to revision %d into scratch folder %s: %w", snaps[0].Key, point.Revision, scratch, err)
	}
	if f == nil {
		return nil, fmt.Errorf("restore of chain %s up to revision %d replayed no delta: nothing to compact", snaps[0].Key, point.Revision)
	}
	res.EventsApplied, res.RestoreSeconds = restored.EventsApplied, restored.Seconds
	cfg.Logger.Info("chain restored for compaction", "chain", res.Chain, "revision", point.Revision, "events", restored.EventsApplied, "took", time.Since(start).Round(time.Millisecond))
	if restored.Keys != nil && *restored.Keys != f.state.keys {
		return nil, fmt.Errorf("the restore counted %d keys at revision %d but its store served %d: not uploaded", *restored.Keys, point.Revision, f.state.keys)
	}

	db := filepath.Join(scratch, "compacted.db")
	m := progress.NewMeter(cfg.Progress, "compact and defragment", restoredDB, "revisions", point.Revision)
	if err := rewrite(ctx, restoredDB, db, point.Revision, f.live); err != nil {
		return nil, err
	}
	f.live = nil // the upload needs none of it
	// Checked on the file itself before any byte is uploaded; the upload then checks the revision inside and its
	// own sha256.
	if err := verify(ctx, db, point.Revision, f.state); err != nil {
		return nil, err
	}
	m.Add(point.Revision)
	m.Finish()
	fi, err := os.Stat(db)
	if err != nil {
		return nil, err
	}
	res.Keys, res.RestoredDBBytes, res.DBBytes = f.state.keys, f.before, fi.Size()

	w, err := snapshot.FullFromDB(ctx, snapshot.Config{Store: st, Compression: cfg.Compression, CompressionSet: cfg.CompressionSet,
		Encrypt: cfg.Encrypt, StallTimeout: cfg.StallTimeout, Logger: cfg.Logger, Now: cfg.Now, TempDir: scratch}, db, point.Revision, res.EtcdVersion)
	if err != nil {
		return nil, err
	}
	res.Key, res.Size, res.Encrypted = w.Key, w.Size, cfg.Encrypt != nil
	res.Compression = compressionOf(cfg)
	res.Seconds = time.Since(start).Seconds()
	cfg.Logger.Info("chain compacted", "chain", res.Chain, "into", res.Key, "revision", res.Revision, "dbBytes", res.DBBytes, "took", time.Since(start).Round(time.Millisecond))
	return res, nil
}

// copyDB writes a consistent copy of the backend's db to path (etcd's own snapshot of it: one read transaction).
func copyDB(be backend.Backend, path string) error {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return fmt.Errorf("copy the replayed db: %w", err)
	}
	snap := be.Snapshot()
	_, err = snap.WriteTo(f)
	if cerr := snap.Close(); err == nil {
		err = cerr
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("copy the replayed db to %s: %w", path, err)
	}
	return nil
}

// Foldable refuses a point with nothing to fold: a lone full snapshot (the chain has no deltas up to the
// revision, or its layout has none at all).
func Foldable(point *pick.Result) error {
	if point == nil {
		return fault.Refused("nothing to compact: no restore point")
	}
	snaps := point.Snapshots()
	if len(snaps) > 1 && point.Revision > snaps[0].EndRevision {
		return nil
	}
	base := point.Chain.Base
	switch point.Chain.Layout {
	case catalog.EtcdBRv1, catalog.EtcdBRv2, catalog.EtcdDR:
		return fault.Refused("nothing to fold: revision %d is the full snapshot %s itself (no delta follows it up to that revision); it already restores without a replay",
			point.Revision, base.Key)
	}
	return fault.Refused("nothing to fold: %s is a backup of the %s layout, a single full snapshot with no deltas; compact folds etcd-backup-restore chains (a full snapshot and its deltas)",
		base.Key, point.Chain.Layout)
}

// etcdVersion is the etcd version the folded chain came from, as its objects record it ("" when none does): the
// compacted db keeps the chain's format, so it restores where the chain restored.
func etcdVersion(point *pick.Result) string {
	if point.EtcdVersion != "" {
		return point.EtcdVersion
	}
	snaps := point.Snapshots()
	for i := len(snaps) - 1; i >= 0; i-- {
		if v := snaps[i].EtcdVersion; v != "" {
			return v
		}
	}
	return ""
}

func compressionOf(cfg Config) string {
	c := cfg.Compression
	if c == format.None && !cfg.CompressionSet {
		c = format.Gzip
	}
	return c.String()
}

// scratchParent is the folder scratch folders go in: dir (default the OS temp dir), refused when it lies inside
// an etcd data dir, which a restore or etcd could then take for its own.
func scratchParent(dir string) (string, error) {
	setting := dir
	if dir == "" {
		dir = os.TempDir()
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", fault.Bad("scratch dir", setting, "%v", err)
	}
	if fi, err := os.Stat(abs); err != nil || !fi.IsDir() {
		return "", fault.Bad("scratch dir", abs, "is not an existing folder")
	}
	for d := abs; ; d = filepath.Dir(d) {
		if fi, err := os.Stat(filepath.Join(d, "member")); err == nil && fi.IsDir() {
			return "", fault.Bad("scratch dir", abs, "lies inside the etcd data dir %s; choose a folder outside any data dir", d)
		}
		if filepath.Dir(d) == d {
			return abs, nil
		}
	}
}
