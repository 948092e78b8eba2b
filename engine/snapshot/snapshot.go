// Package snapshot takes backups of a live etcd into a store: full snapshots streamed from Maintenance.Snapshot,
// and delta snapshots of the events a watch delivers, in etcd-backup-restore's v2 names and formats so that
// either tool can restore what the other wrote.
//
// At most one snapshot runs at a time per Snapshotter (one Snapshotter per store prefix); the daemon and the
// snapshot verb each hold one.
package snapshot

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/etcd-dr/etcd-dr/engine/catalog"
	"github.com/etcd-dr/etcd-dr/engine/crypt"
	"github.com/etcd-dr/etcd-dr/engine/fault"
	"github.com/etcd-dr/etcd-dr/engine/format"
	"github.com/etcd-dr/etcd-dr/store"
)

// WriterVersion is recorded in the etcd-dr metadata of every object written.
const WriterVersion = "1"

// Folder is where objects go below the store prefix: etcd-backup-restore's v2 layout.
const Folder = "v2"

// Defaults of Config.
const (
	DefaultStallTimeout = 2 * time.Minute
	DefaultDeltaPeriod  = 20 * time.Second
	DefaultMemoryLimit  = 10 << 20
)

// Config says where snapshots come from and go to.
type Config struct {
	// Client reaches etcd (required). Use a client of one endpoint: the revision read and the snapshot must
	// come from the same member.
	Client *clientv3.Client
	// Store receives the objects (required), opened for writing.
	Store *store.Store
	// Compression of new objects (default gzip, readable by etcd-backup-restore).
	Compression format.Compression
	// CompressionSet makes Compression None mean "none" rather than "default gzip".
	CompressionSet bool
	// Encrypt, when set, encrypts objects (their names end in .age).
	Encrypt crypt.Encrypter
	// TempDir holds a plain copy of a full snapshot while it streams, to read its revision when etcd's moved
	// during the stream (default os.TempDir()). It needs room for one db.
	TempDir string
	// StallTimeout aborts a stream (etcd or store) that makes no progress for this long (default 2m). There is
	// no deadline on a stream that progresses.
	StallTimeout time.Duration
	// DeltaPeriod is how often buffered events are flushed into a delta (default 20s).
	DeltaPeriod time.Duration
	// MemoryLimit flushes a delta early once buffered events pass it (default 10 MiB).
	MemoryLimit int64
	// SpoolDir, when set, keeps deltas on local disk while the store is away (one backup loop per folder); the
	// watch goes on meanwhile, so etcd compacting its history does not break the chain. The folder must exist.
	SpoolDir string
	// SpoolLimit bounds the spool in bytes (default DefaultSpoolLimit); past it, events wait in memory and
	// the watch is paused until the store is back.
	SpoolLimit int64
	// Logger receives what happened (default: discard).
	Logger *slog.Logger
	// Now is the clock for object names (default time.Now).
	Now func() time.Time
	// Observer, when set, is told about every snapshot (for metrics).
	Observer Observer
}

// Observer receives results (metrics, heartbeats). Implementations must be safe for concurrent use.
type Observer interface {
	Snapshot(r Result)
	Failure(kind catalog.Kind, err error)
}

// Result is one snapshot taken (or skipped).
type Result struct {
	Kind          catalog.Kind  `json:"kind"`
	Key           string        `json:"key,omitempty"`
	StartRevision int64         `json:"startRevision"`
	EndRevision   int64         `json:"endRevision"`
	EtcdVersion   string        `json:"etcdVersion,omitempty"`
	Size          int64         `json:"size"`        // stored bytes
	ContentSize   int64         `json:"contentSize"` // bytes before compression/encryption
	Events        int           `json:"events,omitempty"`
	Final         bool          `json:"final,omitempty"`
	Time          time.Time     `json:"time"`
	Took          time.Duration `json:"tookNanos"`
	// Skipped is set when no object was written; Why says why.
	Skipped bool   `json:"skipped,omitempty"`
	Why     string `json:"why,omitempty"`
	// Forced marks a full snapshot taken because a watch hit a compacted revision.
	Forced bool `json:"forced,omitempty"`
}

// Snapshotter takes snapshots. Safe for concurrent use; snapshots are serialised.
type Snapshotter struct {
	cfg Config
	mu  sync.Mutex // one snapshot at a time
}

// New checks cfg and fills its defaults.
func New(cfg Config) (*Snapshotter, error) {
	if cfg.Client == nil || cfg.Store == nil {
		return nil, fmt.Errorf("snapshot: Client and Store are required")
	}
	return newSnapshotter(cfg)
}

// newSnapshotter fills cfg's defaults; FullFromDB needs no Client.
func newSnapshotter(cfg Config) (*Snapshotter, error) {
	if cfg.Compression == format.None && !cfg.CompressionSet {
		cfg.Compression = format.Gzip
	}
	if cfg.StallTimeout <= 0 {
		cfg.StallTimeout = DefaultStallTimeout
	}
	if cfg.DeltaPeriod <= 0 {
		cfg.DeltaPeriod = DefaultDeltaPeriod
	}
	if cfg.MemoryLimit <= 0 {
		cfg.MemoryLimit = DefaultMemoryLimit
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.SpoolLimit <= 0 {
		cfg.SpoolLimit = DefaultSpoolLimit
	}
	if cfg.SpoolDir != "" {
		if fi, err := os.Stat(cfg.SpoolDir); err != nil || !fi.IsDir() {
			return nil, fault.Bad("spool dir", cfg.SpoolDir, "is not a folder (create it; it must survive restarts to be useful)")
		}
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Snapshotter{cfg: cfg}, nil
}

// Config returns the effective configuration.
func (s *Snapshotter) Config() Config { return s.cfg }

// revision is etcd's current revision, as the member the client talks to serves it.
func (s *Snapshotter) revision(ctx context.Context) (int64, error) {
	r, err := s.cfg.Client.Get(ctx, "\x00", clientv3.WithCountOnly())
	if err != nil {
		return 0, fmt.Errorf("read etcd revision: %w", err)
	}
	return r.Header.Revision, nil
}

// etcdVersion is the server version of the first endpoint ("" when it cannot be read).
func (s *Snapshotter) etcdVersion(ctx context.Context) string {
	for _, ep := range s.cfg.Client.Endpoints() {
		st, err := s.cfg.Client.Status(ctx, ep)
		if err == nil {
			return st.Version
		}
	}
	return ""
}

// Last is where the store's newest chain ends: its full snapshot's revision and its last revision (0, 0 when
// the store holds no chain).
func Last(ctx context.Context, st *store.Store) (fullRev, endRev int64, err error) {
	cat, err := catalog.Load(ctx, st)
	if err != nil {
		return 0, 0, err
	}
	ch := cat.Newest()
	if ch == nil {
		return 0, 0, nil
	}
	return ch.Base.EndRevision, ch.RestorableRevision, nil
}

func (s *Snapshotter) observe(r Result) {
	if s.cfg.Observer != nil {
		s.cfg.Observer.Snapshot(r)
	}
}

func (s *Snapshotter) fail(kind catalog.Kind, err error) error {
	if s.cfg.Observer != nil && err != nil {
		s.cfg.Observer.Failure(kind, err)
	}
	return err
}
