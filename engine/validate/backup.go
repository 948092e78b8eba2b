package validate

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"strings"
	"sync"

	"github.com/etcd-dr/etcd-dr/engine/catalog"
	"github.com/etcd-dr/etcd-dr/engine/download"
	"github.com/etcd-dr/etcd-dr/engine/fault"
	"github.com/etcd-dr/etcd-dr/engine/format"
	"github.com/etcd-dr/etcd-dr/engine/progress"
	"github.com/etcd-dr/etcd-dr/engine/snapinfo"
	"github.com/etcd-dr/etcd-dr/store"
)

// BackupConfig tunes Backups. The zero value checks every object, reporting no progress.
type BackupConfig struct {
	// Decrypt opens .age objects; nil reports them as not checkable.
	Decrypt download.Decrypter
	// Progress receives bytes read per object; nil for none.
	Progress progress.Reporter
	// Parallel is how many objects are read at once (default DefaultParallel).
	Parallel int
	// TempDir receives each full snapshot's db while it is opened and checked (default os.TempDir()); it needs
	// room for Parallel of the largest db.
	TempDir string
	// SkipDBCheck skips opening each full snapshot's db (bbolt's consistency check, the key and meta buckets, the
	// revision against the name); the sha256 trailer is still checked. Default: every db is opened.
	SkipDBCheck bool
}

// DefaultParallel is how many objects Backups reads at once by default.
const DefaultParallel = 4

// ObjectReport is what reading one backup object proved.
type ObjectReport struct {
	Object        string       `json:"object"`
	Kind          catalog.Kind `json:"kind"`
	StartRevision int64        `json:"startRevision"`
	EndRevision   int64        `json:"endRevision"`
	// Bytes is the size after decompression; SHA256 the checked content hash.
	Bytes  int64  `json:"bytes"`
	SHA256 string `json:"sha256,omitempty"`
	// Events is the number of events a delta holds.
	Events int    `json:"events,omitempty"`
	OK     bool   `json:"ok"`
	What   string `json:"what,omitempty"`
}

// StoreReport is what Backups found.
type StoreReport struct {
	OK       bool           `json:"ok"`
	Store    string         `json:"store"`
	Chains   int            `json:"chains"`
	Objects  []ObjectReport `json:"objects"`
	Problems []Problem      `json:"problems"`
	Warnings []string       `json:"warnings"`
	// Trial is the result of a trial restore, when one was asked for.
	Trial *Trial `json:"trialRestore,omitempty"`
}

// Trial is a restore into a temporary folder, validated as a data dir and removed.
type Trial struct {
	Revision int64   `json:"revision"`
	OK       bool    `json:"ok"`
	What     string  `json:"what,omitempty"`
	Seconds  float64 `json:"seconds"`
}

// AddTrial records a trial restore of revision (err nil and a valid data dir report = ok).
func (r *StoreReport) AddTrial(revision int64, seconds float64, err error, dd *DataDirReport) {
	t := &Trial{Revision: revision, Seconds: seconds, OK: err == nil && dd != nil && dd.OK}
	switch {
	case err != nil:
		t.What = "trial restore failed: " + err.Error()
	case dd != nil && !dd.OK:
		t.What = fmt.Sprintf("the trial restore's data dir does not validate: %v", dd.Problems)
	}
	r.Trial = t
	if !t.OK {
		r.Problems = append(r.Problems, Problem{Object: fmt.Sprintf("trial restore of revision %d", revision), What: t.What})
		r.OK = false
	}
}

// Backups reads every object of every chain in cat: full snapshots against their sha256 trailer, deltas against
// theirs and for events decoding with revisions inside the name's range and without holes; it reports gaps
// between objects and unusable objects. The error is for failures to read the store (not for what is found).
func Backups(ctx context.Context, st *store.Store, cat *catalog.Catalog, cfg BackupConfig) (*StoreReport, error) {
	r := &StoreReport{Store: cat.Store, Chains: len(cat.Chains), Objects: []ObjectReport{}, Problems: []Problem{}, Warnings: []string{}}
	for _, p := range cat.Problems {
		if _, ok := catalog.ParseName(p.Object); ok {
			r.Problems = append(r.Problems, Problem{Object: p.Object, What: p.What})
		} else {
			r.Warnings = append(r.Warnings, p.Object+": "+p.What)
		}
	}
	var objs []catalog.Snapshot
	chainOf := map[string]int{} // delta key -> its chain's index
	for i, ch := range cat.Chains {
		for _, o := range ch.Objects() {
			if o.Empty {
				continue // a gap, reported with the chain's gaps below; there is nothing to read
			}
			if o.Kind == catalog.Delta {
				chainOf[o.Key] = i
			}
			objs = append(objs, o)
		}
	}
	reports, err := checkAll(ctx, st, objs, cfg)
	if err != nil {
		return r, err
	}
	chains := append([]catalog.Chain(nil), cat.Chains...)
	for _, o := range reports {
		r.Objects = append(r.Objects, o)
		if !o.OK {
			r.Problems = append(r.Problems, Problem{Object: o.Object, What: o.What})
		} else if o.Kind == catalog.Delta && o.Events == 0 {
			// Found empty by reading it: the same gap as a delta empty by its size.
			chains[chainOf[o.Object]].MarkEmpty(o.Object)
		}
	}
	for _, ch := range chains {
		for _, g := range ch.Gaps {
			obj := ch.Base.Key
			if g.Object != "" {
				obj = g.Object
			}
			r.Problems = append(r.Problems, Problem{Object: obj, What: fmt.Sprintf("gap in the chain of %s: %s; it restores only up to revision %d", path.Base(ch.Base.Key), g.Describe(), ch.RestorableRevision)})
		}
	}
	r.OK = len(r.Problems) == 0
	return r, nil
}

// checkAll checks objs, Parallel at a time (store latency, not CPU, bounds a remote store), reports in order.
func checkAll(ctx context.Context, st *store.Store, objs []catalog.Snapshot, cfg BackupConfig) ([]ObjectReport, error) {
	n := cfg.Parallel
	if n <= 0 {
		n = DefaultParallel
	}
	if cfg.Progress != nil {
		cfg.Progress = &lockedReporter{r: cfg.Progress}
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	out := make([]ObjectReport, len(objs))
	errs := make([]error, len(objs))
	next := make(chan int)
	var wg sync.WaitGroup
	for w := 0; w < min(n, len(objs)); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				out[i], errs[i] = checkObject(ctx, st, objs[i], cfg)
				if errs[i] != nil {
					cancel()
				}
			}
		}()
	}
feed:
	for i := range objs {
		select {
		case next <- i:
		case <-ctx.Done():
			break feed
		}
	}
	close(next)
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return out, nil
}

// lockedReporter lets several checks report progress through one Reporter.
type lockedReporter struct {
	mu sync.Mutex
	r  progress.Reporter
}

func (l *lockedReporter) Report(u progress.Update) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.r.Report(u)
}

// checkObject reads one object through; corruption is reported in the ObjectReport, store failures returned.
// A delta is decoded as a stream (memory bounded by one event), its events checked against its name.
func checkObject(ctx context.Context, st *store.Store, s catalog.Snapshot, cfg BackupConfig) (ObjectReport, error) {
	o := ObjectReport{Object: s.Key, Kind: s.Kind, StartRevision: s.StartRevision, EndRevision: s.EndRevision}
	m := progress.NewMeter(cfg.Progress, "validate", s.Key, "bytes", 0)
	defer m.Finish()
	if s.Kind == catalog.Delta {
		prev, hole := s.StartRevision-1, ""
		d, err := download.Delta(ctx, st, s, m, cfg.Decrypt, func(e format.DeltaEvent) error {
			// DeltaReader keeps events inside the name's range and in order; holes are ours to find.
			if rev := e.Revision(); rev > prev+1 && hole == "" {
				hole = fmt.Sprintf("revisions %d-%d are missing inside the delta", prev+1, rev-1)
			}
			prev = max(prev, e.Revision())
			return nil
		})
		o.Bytes, o.SHA256, o.Events = d.Bytes, d.SHA256, d.Events
		switch {
		case err != nil:
			return problemOrErr(o, err)
		case hole != "":
			o.What = fmt.Sprintf("delta %s: %s", s.Key, hole)
		case o.Events > 0 && prev != s.EndRevision:
			o.What = fmt.Sprintf("delta %s: events end at revision %d, but its name promises up to %d", s.Key, prev, s.EndRevision)
		default:
			o.OK = true // an empty one is OK as an object and becomes a gap of its chain
		}
		return o, nil
	}
	if cfg.SkipDBCheck {
		v, err := download.Object(ctx, st, s, io.Discard, m, cfg.Decrypt)
		o.Bytes, o.SHA256 = v.Bytes, v.SHA256
		if err != nil {
			return problemOrErr(o, err)
		}
		// Without opening the db, its revision is still compared with the name (a few ranged reads).
		if _, err := snapinfo.Verify(ctx, st, s, snapinfo.Options{Decrypt: cfg.Decrypt, TempDir: cfg.TempDir}); err != nil {
			return problemOrErr(o, err)
		}
		o.OK = true
		return o, nil
	}
	return checkFull(ctx, st, s, cfg, m, o)
}

// checkFull streams a full snapshot into a temporary db file (its sha256 trailer verified and cut off), opens
// it as etcd would — bbolt's consistency check, the key and meta buckets — and compares the revision inside
// with its name: random bytes with a valid trailer, or a snapshot whose name lies, are problems naming it.
func checkFull(ctx context.Context, st *store.Store, s catalog.Snapshot, cfg BackupConfig, m *progress.Meter, o ObjectReport) (ObjectReport, error) {
	f, err := os.CreateTemp(cfg.TempDir, "etcd-dr-validate-*.db")
	if err != nil {
		return o, fmt.Errorf("stage full snapshot %s to open its db: %w", s.Key, err)
	}
	defer os.Remove(f.Name()) // our own temporary file
	defer f.Close()
	bw := bufio.NewWriterSize(f, 1<<20)
	v, err := download.Object(ctx, st, s, bw, m, cfg.Decrypt)
	o.Bytes, o.SHA256 = v.Bytes, v.SHA256
	if err != nil {
		return problemOrErr(o, err)
	}
	if err := bw.Flush(); err != nil {
		return o, fmt.Errorf("stage full snapshot %s in %s: %w", s.Key, f.Name(), err)
	}
	if err := f.Truncate(v.Bytes - format.TrailerSize); err != nil {
		return o, fmt.Errorf("cut the sha256 trailer off the staged %s: %w", s.Key, err)
	}
	if err := f.Close(); err != nil {
		return o, fmt.Errorf("stage full snapshot %s: %w", s.Key, err)
	}
	info := inspect(f.Name(), true)
	if len(info.Problems) == 0 && !info.HasMeta {
		info.Problems = append(info.Problems, "db has no \"meta\" bucket: not an etcd v3 database")
	}
	if len(info.Problems) > 0 {
		o.What = fmt.Sprintf("full snapshot %s: its sha256 matches but its database is not usable: %s", s.Key, strings.Join(info.Problems, "; "))
		return o, nil
	}
	if err := snapinfo.Compare(s, snapinfo.Info{Revision: info.Revision}); err != nil {
		o.What = err.Error()
		return o, nil
	}
	o.OK = true
	return o, nil
}

// problemOrErr files a finding about the object in o; anything else (the store failed) is returned.
func problemOrErr(o ObjectReport, err error) (ObjectReport, error) {
	if errors.Is(err, fault.ErrProblems) || errors.Is(err, fault.ErrRefused) {
		o.What = err.Error()
		return o, nil
	}
	return o, err
}
