// Package validate checks backups in a store (every object's checksum, decodability and the continuity of each
// chain) and etcd data directories (layout, WAL CRCs, snap files, bbolt consistency, revision and ids), and says
// what is wrong where.
package validate

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"go.etcd.io/etcd/api/v3/etcdserverpb"
	"go.etcd.io/etcd/server/v3/etcdserver/api/snap"
	"go.etcd.io/etcd/server/v3/storage/wal"
	"go.etcd.io/etcd/server/v3/storage/wal/walpb"
	"go.uber.org/zap"
)

// Problem is one thing found wrong, in an object of a store or at a path of a data dir.
type Problem struct {
	Object string `json:"object,omitempty"`
	Path   string `json:"path,omitempty"`
	What   string `json:"what"`
}

// DataDirConfig tunes DataDir. The zero value checks the directory on its own.
type DataDirConfig struct {
	// StoreRevision is the newest restorable revision in the backup store (0 = do not compare).
	StoreRevision int64
	// Store names that store in messages.
	Store string
	// Logger receives etcd's storage logs; nil for none.
	Logger *zap.Logger
	// SkipDBCheck skips bbolt's page-by-page consistency check (seconds per GiB): for a db this process has just
	// written and read through. The revision, ids and members are still read.
	SkipDBCheck bool
	// Quick checks the layout and opens the db (revision, ids, members) but skips reading the WAL through its
	// CRCs and bbolt's page check: the sidecar's quick mode, for a restart after a clean stop.
	Quick bool
}

// DataDirReport is what DataDir found.
type DataDirReport struct {
	OK   bool   `json:"ok"`
	Path string `json:"path"`
	// Missing is true when there is no data dir (absent, or an empty directory): nothing is wrong, but a restore
	// is needed before etcd can start with data.
	Missing bool `json:"missing"`
	// Revision is the newest revision in the db; CompactRevision the last compaction scheduled in it.
	Revision        int64  `json:"revision"`
	CompactRevision int64  `json:"compactRevision"`
	ConsistentIndex uint64 `json:"consistentIndex"`
	ClusterID       string `json:"clusterId,omitempty"`
	MemberID        string `json:"memberId,omitempty"`
	// Members are the member names recorded in the db.
	Members   []string `json:"members"`
	DBSize    int64    `json:"dbSize"`
	WALFiles  int      `json:"walFiles"`
	WALCommit uint64   `json:"walCommit"`
	SnapIndex uint64   `json:"snapIndex"`
	// StoreRevision is the newest restorable revision of the store compared against (0 = none).
	StoreRevision int64     `json:"storeRevision,omitempty"`
	Problems      []Problem `json:"problems"`
	Warnings      []string  `json:"warnings"`
}

func (r *DataDirReport) problem(path, format string, args ...any) {
	r.Problems = append(r.Problems, Problem{Path: path, What: fmt.Sprintf(format, args...)})
}

// DataDir checks an etcd data directory without changing it. It is safe to run beside a running etcd; a db that
// etcd holds locked is reported as such.
func DataDir(dir string, cfg DataDirConfig) *DataDirReport {
	lg := cfg.Logger
	if lg == nil {
		lg = zap.NewNop()
	}
	r := &DataDirReport{Path: dir, Members: []string{}, Problems: []Problem{}, Warnings: []string{}}
	defer func() { r.OK = len(r.Problems) == 0 && !r.Missing }()
	fi, err := os.Stat(dir)
	switch {
	case os.IsNotExist(err):
		r.Missing = true
		return r
	case err != nil:
		r.problem(dir, "cannot read: %v", err)
		return r
	case !fi.IsDir():
		r.problem(dir, "is a file, not a data directory")
		return r
	}
	if entries, err := os.ReadDir(dir); err == nil && len(entries) == 0 {
		r.Missing = true
		return r
	}
	member := filepath.Join(dir, "member")
	snapDir := filepath.Join(member, "snap")
	walDir := filepath.Join(member, "wal")
	db := filepath.Join(snapDir, "db")
	layoutOK := true
	for _, p := range []string{member, snapDir, walDir} {
		if fi, err := os.Stat(p); err != nil || !fi.IsDir() {
			r.problem(p, "missing directory: not an etcd v3 data dir (want member/snap, member/wal and member/snap/db)")
			layoutOK = false
		}
	}
	if fi, err := os.Stat(db); err != nil || fi.IsDir() {
		r.problem(db, "missing bbolt database file: the keys of this member are gone")
		layoutOK = false
	}
	if !layoutOK {
		return r
	}
	if cfg.Quick {
		if names, _ := filepath.Glob(filepath.Join(walDir, "*.wal")); len(names) == 0 {
			r.problem(walDir, "no WAL files: etcd cannot start a member from this data dir")
		} else {
			r.WALFiles = len(names)
		}
	} else {
		r.checkWAL(lg, walDir, snapDir)
	}
	r.checkDB(db, !cfg.SkipDBCheck && !cfg.Quick)
	if r.SnapIndex > 0 && r.ConsistentIndex > 0 && r.ConsistentIndex < r.SnapIndex {
		r.problem(db, "db consistent index %d is older than the raft snapshot index %d: etcd refuses to start on this data dir", r.ConsistentIndex, r.SnapIndex)
	}
	if cfg.StoreRevision > 0 && len(r.Problems) == 0 {
		r.StoreRevision = cfg.StoreRevision
		if r.Revision < cfg.StoreRevision {
			r.problem(dir, "data dir is at revision %d but the store %s holds a backup up to revision %d: the store has newer data (data loss suspected); restore from the store", r.Revision, cfg.Store, cfg.StoreRevision)
		}
	}
	return r
}

// checkWAL reads every WAL record (CRC-checked) after the newest snapshot, and loads that snapshot's snap file.
func (r *DataDirReport) checkWAL(lg *zap.Logger, walDir, snapDir string) {
	names, _ := filepath.Glob(filepath.Join(walDir, "*.wal"))
	r.WALFiles = len(names)
	if len(names) == 0 {
		r.problem(walDir, "no WAL files: etcd cannot start a member from this data dir")
		return
	}
	walSnaps, err := wal.ValidSnapshotEntries(lg, walDir)
	if err != nil {
		r.problem(walDir, "WAL is unreadable or fails its CRC check: %v", err)
		return
	}
	var walSnap walpb.Snapshot
	ss := snap.New(lg, snapDir)
	s, err := ss.LoadNewestAvailable(walSnaps)
	switch {
	case err == nil:
		walSnap = walpb.Snapshot{Index: s.Metadata.Index, Term: s.Metadata.Term, ConfState: &s.Metadata.ConfState}
		r.SnapIndex = s.Metadata.Index
	case errors.Is(err, snap.ErrNoSnapshot):
		snapFiles, _ := filepath.Glob(filepath.Join(snapDir, "*.snap"))
		if len(snapFiles) > 0 {
			r.problem(snapDir, "none of the %d snap files matches a snapshot the WAL records (the WAL is damaged before its snapshot record, or the snap files are corrupt or from another member)", len(snapFiles))
			return
		}
	default:
		r.problem(snapDir, "snap file unreadable: %v", err)
		return
	}
	w, err := wal.OpenForRead(lg, walDir, walSnap)
	if err != nil {
		r.problem(walDir, "cannot open the WAL at snapshot index %d: %v", walSnap.Index, err)
		return
	}
	defer w.Close()
	md, st, _, err := w.ReadAll()
	switch {
	case errors.Is(err, io.ErrUnexpectedEOF):
		r.Warnings = append(r.Warnings, "the last WAL record is torn (an interrupted write); etcd repairs this on start")
	case err != nil:
		r.problem(walDir, "WAL is unreadable or fails its CRC check: %v", err)
		return
	}
	r.WALCommit = st.Commit
	var m etcdserverpb.Metadata
	if err := m.Unmarshal(md); err != nil {
		r.problem(walDir, "WAL metadata (member and cluster id) unreadable: %v", err)
		return
	}
	r.MemberID = fmt.Sprintf("%x", m.NodeID)
	r.ClusterID = fmt.Sprintf("%x", m.ClusterID)
}

// checkDB runs bbolt's consistency check and reads the revision, consistent index and members.
func (r *DataDirReport) checkDB(path string, full bool) {
	info := inspect(path, full)
	r.DBSize, r.Revision, r.CompactRevision, r.ConsistentIndex = info.Size, info.Revision, info.CompactRevision, info.ConsistentIndex
	if info.Members != nil {
		r.Members = info.Members
	}
	for _, p := range info.Problems {
		r.problem(path, "%s", p)
	}
}
