package copy

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/etcd-dr/etcd-dr/engine/catalog"
	"github.com/etcd-dr/etcd-dr/engine/crypt"
	"github.com/etcd-dr/etcd-dr/engine/fault"
	"github.com/etcd-dr/etcd-dr/engine/progress"
	"github.com/etcd-dr/etcd-dr/store"
)

// DefaultParallel is how many objects are copied at once when Config.Parallel is 0.
const DefaultParallel = 4

// planParallel is how many objects are looked at (metadata, target state) at once while planning.
const planParallel = 16

// Config says what to copy where.
type Config struct {
	// Src is the source store, opened at the cluster folder Prefix when one was chosen; Catalog is its catalog.
	Src     *store.Store
	Catalog *catalog.Catalog
	// Prefix is the cluster folder Src was narrowed to, below the store as given ("" = none): target keys are
	// Prefix/<key>, so the target mirrors the source store as given.
	Prefix string
	// Dst is the target store (the store as given, never narrowed). A dry run may leave it nil for a target
	// folder that does not exist yet, named by DstURL.
	Dst    *store.Store
	DstURL string
	// MaxBackups copies the N newest chains of each cluster (0 = all); MaxAge only chains whose newest object
	// is at most that old (0 = any).
	MaxBackups int
	MaxAge     time.Duration
	// DryRun plans only: nothing is read beyond metadata and nothing is written.
	DryRun bool
	// Parallel is how many objects are copied at once (0 = DefaultParallel).
	Parallel int
	// Decrypt opens .age objects to verify them; without it an encrypted object is verified only by the
	// stored-bytes sha256 of its metadata, and refused when it has none.
	Decrypt crypt.Decrypter
	// Progress receives objects and bytes copied; nil for none.
	Progress progress.Reporter
	// Now is the clock for MaxAge (nil: time.Now).
	Now func() time.Time
	// Logger receives one line per object; nil for none.
	Logger *slog.Logger
}

// Results of one object.
const (
	Copied  = "copied"
	Skipped = "skipped"
	Failed  = "failed"
	Planned = "planned" // a dry run's "would be copied"
)

// Result is what a copy did (the CLI's --output json shape).
type Result struct {
	From    string   `json:"from"`
	To      string   `json:"to"`
	DryRun  bool     `json:"dryRun,omitempty"`
	Chains  int      `json:"chains"`
	Copied  int      `json:"copied"`
	Skipped int      `json:"skipped"`
	Failed  int      `json:"failed"`
	Planned int      `json:"planned,omitempty"`
	Bytes   int64    `json:"bytes"`
	Objects []Object `json:"objects"`
	Seconds float64  `json:"seconds"`
}

// Object is one object's fate.
type Object struct {
	// Key is the object's key relative to the stores as given (the same at both ends).
	Key     string `json:"key"`
	Result  string `json:"result"`
	Why     string `json:"why"`
	Kind    string `json:"kind"`
	Cluster string `json:"cluster"`
	Size    int64  `json:"size"`
}

// planned is an item with what planning found.
type planned struct {
	item
	src  store.Object // size and metadata at the source
	skip string       // why it is skipped ("" = copy it)
	err  error        // why it cannot be copied
}

// Run copies what cfg selects. It returns the result and, when any object failed, an error: a fault.ErrProblems
// when every failure is the object's own (corrupt, unverifiable, a different object under its key at the target),
// a plain error when reading or writing a store failed. Objects that failed do not stop the others.
func Run(ctx context.Context, cfg Config) (*Result, error) {
	start := time.Now()
	if cfg.Parallel <= 0 {
		cfg.Parallel = DefaultParallel
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Dst == nil && !cfg.DryRun {
		return nil, errors.New("copy: no target store")
	}
	if cfg.Dst != nil {
		cfg.DstURL = cfg.Dst.URL()
	}
	res := &Result{From: cfg.Src.URL(), To: cfg.DstURL, DryRun: cfg.DryRun, Objects: []Object{}}
	chains := selectChains(cfg.Catalog, cfg.MaxBackups, cfg.MaxAge, cfg.Now())
	res.Chains = len(chains)
	plan, err := makePlan(ctx, cfg, items(chains, cfg.Prefix))
	if err != nil {
		return nil, err
	}
	fates := make([]Object, len(plan))
	errs := make([]error, len(plan))
	var todo []int
	var total int64
	for i, p := range plan {
		fates[i] = Object{Key: p.dstKey, Kind: p.kind, Cluster: p.cluster, Size: p.src.Size}
		switch {
		case p.err != nil:
			fates[i].Result, fates[i].Why, errs[i] = Failed, p.err.Error(), p.err
		case p.skip != "":
			fates[i].Result, fates[i].Why = Skipped, p.skip
		case cfg.DryRun:
			fates[i].Result = Planned
		default:
			todo = append(todo, i)
			total += p.src.Size
		}
	}
	if !cfg.DryRun && len(todo) > 0 {
		meter := newMeter(cfg.Progress, len(todo), total)
		g, gctx := errgroup.WithContext(ctx)
		g.SetLimit(cfg.Parallel)
		for _, i := range todo {
			g.Go(func() error {
				if gctx.Err() != nil {
					return gctx.Err()
				}
				err := copyObject(gctx, cfg, plan[i], meter)
				meter.object()
				if err != nil {
					fates[i].Result, fates[i].Why, errs[i] = Failed, err.Error(), err
					cfg.Logger.Warn("object not copied", "key", plan[i].dstKey, "err", err)
					return nil // one object's failure does not stop the others
				}
				fates[i].Result = Copied
				cfg.Logger.Info("object copied", "key", plan[i].dstKey, "bytes", plan[i].src.Size)
				return nil
			})
		}
		_ = g.Wait()
		meter.finish()
		if err := ctx.Err(); err != nil {
			return nil, err
		}
	}
	var firstIO, firstProblem error
	for i, f := range fates {
		switch f.Result {
		case Copied:
			res.Copied++
			res.Bytes += f.Size
		case Skipped:
			res.Skipped++
		case Planned:
			res.Planned++
		case Failed:
			res.Failed++
			if isProblem(errs[i]) {
				firstProblem = cmpOr(firstProblem, errs[i])
			} else {
				firstIO = cmpOr(firstIO, errs[i])
			}
		}
	}
	res.Objects = fates
	res.Seconds = time.Since(start).Seconds()
	switch {
	case firstIO != nil:
		return res, fmt.Errorf("copy to %s: %d of %d objects failed; the first store failure: %w", cfg.DstURL, res.Failed, len(fates), firstIO)
	case firstProblem != nil:
		return res, fault.Problems("copy to %s: %d of %d objects failed (not copied; the rest were); the first: %w", cfg.DstURL, res.Failed, len(fates), firstProblem)
	}
	return res, nil
}

func cmpOr(a, b error) error {
	if a != nil {
		return a
	}
	return b
}

// isProblem tells an object's own fault (its bytes, its key at the target) from a store that failed.
func isProblem(err error) bool {
	return errors.Is(err, fault.ErrProblems) || errors.Is(err, fault.ErrRefused)
}

// makePlan reads each object's size and metadata at the source and decides, from the target's listing, whether
// it is there already.
func makePlan(ctx context.Context, cfg Config, its []item) ([]planned, error) {
	there, err := listTarget(ctx, cfg.Dst)
	if err != nil {
		return nil, err
	}
	plan := make([]planned, len(its))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(planParallel)
	for i, it := range its {
		g.Go(func() error {
			p := planned{item: it}
			a, err := cfg.Src.Attributes(gctx, it.key)
			if err != nil {
				return fmt.Errorf("read the metadata of %s at the source: %w", it.key, err)
			}
			p.src = a
			if d, ok := there[it.dstKey]; ok {
				p.skip, p.err = sameAtTarget(gctx, cfg, it, a, d)
				if p.err != nil && !isProblem(p.err) {
					return p.err
				}
			}
			plan[i] = p
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	return plan, nil
}

// listTarget lists the target once: what is there already, by key. A store that cannot be listed fails the
// copy before anything is written, naming the target.
func listTarget(ctx context.Context, dst *store.Store) (map[string]store.Object, error) {
	if dst == nil {
		return map[string]store.Object{}, nil
	}
	objs, err := dst.List(ctx)
	if err != nil {
		return nil, fmt.Errorf("target store %s cannot be listed (nothing was copied): %w", dst.URL(), err)
	}
	out := make(map[string]store.Object, len(objs))
	for _, o := range objs {
		out[o.Key] = o
	}
	return out, nil
}

// copyMeta is the metadata to write with an object: the source's, unchanged.
func copyMeta(src store.Object) map[string]string {
	if len(src.Metadata) == 0 {
		return nil
	}
	return maps.Clone(src.Metadata)
}

// meter counts objects and bytes over every worker and reports through one progress.Reporter (which need not be
// safe for concurrent use).
type meter struct {
	mu           sync.Mutex
	r            progress.Reporter
	start, last  time.Time
	objects, all int
	done, total  int64
}

func newMeter(r progress.Reporter, objects int, total int64) *meter {
	now := time.Now()
	return &meter{r: r, start: now, all: objects, total: total}
}

func (m *meter) add(n int64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.done += n
	m.reportLocked(false)
}

func (m *meter) object() {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.objects++
	m.reportLocked(false)
}

func (m *meter) finish() {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.reportLocked(true)
}

func (m *meter) reportLocked(final bool) {
	if m.r == nil {
		return
	}
	now := time.Now()
	if !final && now.Sub(m.last) < 200*time.Millisecond {
		return
	}
	m.last = now
	u := progress.Update{Phase: "copy", Item: fmt.Sprintf("%d/%d objects", m.objects, m.all), Done: m.done, Total: m.total,
		Unit: "bytes", Elapsed: now.Sub(m.start), Finished: final}
	if s := u.Elapsed.Seconds(); s > 0 {
		u.Rate = float64(m.done) / s
	}
	if !final && u.Rate > 0 && m.done < m.total {
		u.ETA = time.Duration(float64(m.total-m.done) / u.Rate * float64(time.Second))
	}
	m.r.Report(u)
}

// counted adds what passes through it to the meter.
type counted struct {
	w interface{ Write([]byte) (int, error) }
	m *meter
}

func (c counted) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.m.add(int64(n))
	return n, err
}
