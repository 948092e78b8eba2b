package engine

import (
	"context"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/etcd-dr/etcd-dr/engine/catalog"
	"github.com/etcd-dr/etcd-dr/engine/crypt"
	"github.com/etcd-dr/etcd-dr/engine/heartbeat"
	"github.com/etcd-dr/etcd-dr/store"
)

// Options tune Open. The zero value reads a store that already exists and refuses encrypted objects.
type Options struct {
	// Decrypt opens .age objects; nil refuses them (the face says how to pass an identity).
	Decrypt crypt.Decrypter
	// Create makes the bucket/folder when it is missing (writers: snapshot, daemon). Readers never create.
	Create bool
	// Logger receives the engine's logs; nil for none.
	Logger *slog.Logger
	// Cluster narrows the Repo to one cluster folder of the store, as list shows it ("" = the store as given).
	// Jobs that choose a restore point or write refuse a store of several clusters unless one is chosen.
	Cluster string
}

// Repo is an opened backup store and its catalog: what every face holds. It is safe to use from several
// goroutines (the daemon's API, exporter and backups share one): Reload replaces the catalog whole.
type Repo struct {
	url  string
	root string // the store as given, when Options.Cluster narrowed it
	st   *store.Store
	cat  atomic.Pointer[catalog.Catalog] // replaced whole by Reload and ReadExcludeTags, never changed in place
	opts Options
}

// Open opens a store URL and reads its catalog from the store itself (never a cache).
func Open(ctx context.Context, url string, opts Options) (*Repo, error) {
	r, err := open(ctx, url, opts)
	if err != nil {
		return nil, err
	}
	if err := r.Reload(ctx); err != nil {
		r.Close()
		return nil, err
	}
	if err := r.checkClusterFound(ctx); err != nil {
		r.Close()
		return nil, err
	}
	return r, nil
}

// OpenUnlisted opens a store URL without reading its catalog (Catalog is empty until Reload): for writers
// (snapshot, daemon; set Options.Create) that must start, and retry, while their store is away, and for jobs that
// list the store themselves at the moment they act (GC).
func OpenUnlisted(ctx context.Context, url string, opts Options) (*Repo, error) {
	return open(ctx, url, opts)
}

func open(ctx context.Context, url string, opts Options) (*Repo, error) {
	if opts.Cluster != "" {
		return openCluster(ctx, url, opts)
	}
	return openAt(ctx, url, opts)
}

// openAt opens the store at url as it is.
func openAt(ctx context.Context, url string, opts Options) (*Repo, error) {
	var so []store.OpenOptions
	if opts.Create {
		so = append(so, store.OpenOptions{Create: true})
	}
	st, err := store.Open(ctx, url, so...)
	if err != nil {
		return nil, err
	}
	return &Repo{url: url, root: url, st: st, opts: opts}, nil
}

// CheckURL checks a store URL without touching the network.
func CheckURL(url string) error {
	_, err := store.ParseURL(url)
	return err
}

// Store errors, for faces to tell a bad URL from a refusal or a missing bucket without importing store.
var (
	ErrBadURL       = store.ErrBadURL
	ErrAccessDenied = store.ErrAccessDenied
	ErrNotFound     = store.ErrNotFound
)

// Reload reads the catalog again from the store.
func (r *Repo) Reload(ctx context.Context) error {
	cat, err := catalog.Load(ctx, r.st)
	if err != nil {
		return err
	}
	folder, id := catalog.SplitCluster(r.opts.Cluster)
	cat.WithinCluster(folder)
	if id != "" {
		cat.KeepCluster(r.opts.Cluster)
	}
	r.cat.Store(cat)
	return nil
}

// URL is the store URL as given to Open.
func (r *Repo) URL() string { return r.url }

// Catalog is what the last Open or Reload found (an empty catalog for a Repo opened for writing).
func (r *Repo) Catalog() *catalog.Catalog {
	cat := r.cat.Load()
	if cat == nil {
		return &catalog.Catalog{Store: r.st.URL(), Chains: []catalog.Chain{}, Problems: []catalog.Problem{}}
	}
	return cat
}

// Store is the opened store, for the writer packages (snapshot, daemon, api) that stream to it.
func (r *Repo) Store() *store.Store { return r.st }

// Close releases the store.
func (r *Repo) Close() error { return r.st.Close() }

// NewestRestorable is the highest revision any chain restores to without crossing a gap (0 for an empty store).
func (r *Repo) NewestRestorable() int64 { return catalog.NewestRestorable(r.Catalog()) }

// Heartbeats reads the backup daemons' heartbeats the catalog found under members/, judged at now.
func (r *Repo) Heartbeats(ctx context.Context, now time.Time) ([]heartbeat.Seen, []catalog.Problem) {
	return heartbeat.Read(ctx, r.st, r.Catalog().Heartbeats, now)
}

// Redact returns a store URL with credentials masked, for messages and logs.
func Redact(url string) string { return store.Redact(url) }

// RedactText masks credentials in any text about stores (URLs an SDK quoted, credential parameters and
// variables) and the given secret values: the faces' last line of defence before printing an error or a log line.
func RedactText(text string, secrets ...string) string { return store.RedactText(text, secrets...) }
