// Package gc deletes old backups from one store prefix (one cluster) by policy, whole chains at a time:
// never the newest chain, never the newest restorable chain, never a delta that a kept full snapshot needs,
// never anything under members/ and never an object the catalog does not recognise as part of a chain.
package gc

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/etcd-dr/etcd-dr/engine/catalog"
	"github.com/etcd-dr/etcd-dr/engine/fault"
	"github.com/etcd-dr/etcd-dr/engine/snapinfo"
	"github.com/etcd-dr/etcd-dr/store"
)

// Policy names a retention policy.
type Policy string

// Policies.
const (
	// Limit keeps the MaxBackups newest chains.
	Limit Policy = "limit"
	// Exponential keeps every chain of the last hour, the newest per clock hour for a day, the newest per day
	// for a week and the newest per ISO week for four weeks (UTC).
	Exponential Policy = "exponential"
	// Keep is restic's forget policy: KeepLast newest, then the newest of each of the last KeepHourly hours,
	// KeepDaily days, KeepWeekly ISO weeks and KeepMonthly months that hold a chain.
	Keep Policy = "keep"
)

// Config is a retention policy. Chains are dated by their full snapshot's time.
type Config struct {
	Policy     Policy
	MaxBackups int // Limit (>= 1)
	KeepLast   int // Keep
	KeepHourly int
	KeepDaily  int
	KeepWeekly int
	// KeepMonthly is a Keep count; at least one Keep count must be set.
	KeepMonthly int
	// Now is the reference time of Exponential (default time.Now).
	Now func() time.Time
	// Verify checks a chain's full snapshot holds the revision its name gives (Run: snapinfo.Verify over the
	// store; PlanFor: nil trusts names). A chain that fails (a lying name, a damaged or unreadable db) is never
	// counted among the chains kept, and never deleted: GC cannot tell what it would throw away.
	Verify func(catalog.Snapshot) error
	// TempAge is how old a writer's temporary object must be before Run removes it (default DefaultTempAge).
	TempAge time.Duration
}

// DefaultTempAge is the age past which a temporary object is a killed writer's leftover, not an upload in progress.
const DefaultTempAge = 24 * time.Hour

// Validate refuses a policy that would mean nothing, before anything is listed.
func (c Config) Validate() error {
	switch c.Policy {
	case Limit:
		if c.MaxBackups < 1 {
			return fault.Bad("max backups", "", "is required by the limit policy: the number of newest chains to keep (at least 1)")
		}
	case Exponential:
	case Keep:
		if c.KeepLast < 0 || c.KeepHourly < 0 || c.KeepDaily < 0 || c.KeepWeekly < 0 || c.KeepMonthly < 0 {
			return fault.Bad("keep counts", "", "cannot be negative")
		}
		if c.KeepLast+c.KeepHourly+c.KeepDaily+c.KeepWeekly+c.KeepMonthly == 0 {
			return fault.Bad("keep counts", "", "need at least one of last, hourly, daily, weekly or monthly for the keep policy")
		}
	default:
		return fault.Bad("retention policy", string(c.Policy), "use limit, exponential or keep")
	}
	return nil
}

// Item is one chain in a plan.
type Item struct {
	Base        string    `json:"base"`
	Time        time.Time `json:"time"`
	EndRevision int64     `json:"endRevision"`
	// Objects are the chain's keys, in the order GC deletes them (newest delta first, full snapshot last), so
	// that an interrupted GC leaves a shorter chain that still restores.
	Objects []string `json:"objects"`
	Why     []string `json:"why"`
}

// Plan says what a policy keeps and deletes.
type Plan struct {
	Policy  Policy   `json:"policy"`
	DryRun  bool     `json:"dryRun"`
	Keep    []Item   `json:"keep"`
	Delete  []Item   `json:"delete"`
	Deleted []string `json:"deleted"`
	// Untouched counts objects GC never considers (heartbeats under members/, unrecognised objects, orphans).
	Untouched int `json:"untouched"`
	// Unverified are chains kept without being counted: their full snapshot's name could not be verified.
	Unverified []Item `json:"unverified"`
	// Temp are writers' temporary objects older than TempAge, removed (listed only in a dry run).
	Temp []string `json:"temp"`
}

// PlanFor applies cfg to the catalog's chains.
func PlanFor(cat *catalog.Catalog, cfg Config) (*Plan, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	p := &Plan{Policy: cfg.Policy, Keep: []Item{}, Delete: []Item{}, Deleted: []string{}, Unverified: []Item{}, Temp: []string{}}
	var chains []catalog.Chain
	var foreign []Item
	for _, ch := range cat.Chains {
		if ch.Layout.Foreign() {
			it := item(ch)
			it.Why = []string{fmt.Sprintf("written by another tool (%s layout), which prunes its own snapshots: not counted and never deleted", ch.Layout)}
			foreign = append(foreign, it)
			continue
		}
		if cfg.Verify != nil {
			if err := cfg.Verify(ch.Base); err != nil {
				if !errors.Is(err, fault.ErrProblems) && !errors.Is(err, catalog.ErrUnverifiable) {
					return nil, fmt.Errorf("gc: verify full snapshot %s: %w", ch.Base.Key, err)
				}
				// Neither counted nor deleted: the policy runs on the chains that are what their names say.
				it := item(ch)
				it.Why = []string{"not counted and never deleted: " + err.Error()}
				p.Unverified = append(p.Unverified, it)
				continue
			}
		}
		chains = append(chains, ch)
	}
	// Newest first: by time, then by revision.
	sort.SliceStable(chains, func(i, j int) bool {
		a, b := chains[i].Base, chains[j].Base
		if !a.Time.Equal(b.Time) {
			return a.Time.After(b.Time)
		}
		return a.EndRevision > b.EndRevision
	})
	why := make([][]string, len(chains))
	keep := func(i int, reason string) { why[i] = append(why[i], reason) }
	newest, restorable := -1, -1
	for i, ch := range chains {
		if newest < 0 || ch.EndRevision > chains[newest].EndRevision {
			newest = i
		}
		if restorable < 0 || ch.RestorableRevision > chains[restorable].RestorableRevision {
			restorable = i
		}
	}
	if newest >= 0 {
		keep(newest, "newest chain (never deleted)")
		if restorable != newest {
			keep(restorable, "newest restorable chain (never deleted)")
		}
	}
	switch cfg.Policy {
	case Limit:
		for i := range chains {
			if i < cfg.MaxBackups {
				keep(i, fmt.Sprintf("one of the %d newest", cfg.MaxBackups))
			}
		}
	case Exponential:
		exponential(chains, cfg.Now().UTC(), keep)
	case Keep:
		keepLast(chains, cfg, keep)
	}
	for i, ch := range chains {
		it := item(ch)
		it.Why = why[i]
		if len(why[i]) > 0 {
			p.Keep = append(p.Keep, it)
		} else {
			it.Why = []string{"no policy rule keeps it"}
			p.Delete = append(p.Delete, it)
		}
	}
	p.Keep = append(p.Keep, foreign...)
	p.Untouched = len(cat.Heartbeats) + len(cat.Problems)
	return p, nil
}

// item lists a chain's objects in the order GC deletes them.
func item(ch catalog.Chain) Item {
	it := Item{Base: ch.Base.Key, Time: ch.Base.Time, EndRevision: ch.EndRevision}
	for j := len(ch.Deltas) - 1; j >= 0; j-- {
		it.Objects = append(it.Objects, ch.Deltas[j].Key)
	}
	it.Objects = append(it.Objects, ch.Base.Key)
	return it
}

func exponential(chains []catalog.Chain, now time.Time, keep func(int, string)) {
	rules := []struct {
		window time.Duration
		bucket func(time.Time) string
		what   string
	}{
		{24 * time.Hour, func(t time.Time) string { return t.Format("2006-01-02T15") }, "newest of its hour in the last day"},
		{7 * 24 * time.Hour, func(t time.Time) string { return t.Format("2006-01-02") }, "newest of its day in the last week"},
		{28 * 24 * time.Hour, isoWeek, "newest of its week in the last four weeks"},
	}
	for i, ch := range chains {
		if !ch.Base.Time.Before(now.Add(-time.Hour)) {
			keep(i, "taken in the last hour")
		}
	}
	for _, r := range rules {
		seen := map[string]bool{}
		for i, ch := range chains { // newest first: the first of a bucket is its newest
			t := ch.Base.Time.UTC()
			b := r.bucket(t)
			if seen[b] {
				continue
			}
			seen[b] = true
			if !t.Before(now.Add(-r.window)) {
				keep(i, r.what)
			}
		}
	}
}

func keepLast(chains []catalog.Chain, cfg Config, keep func(int, string)) {
	rules := []struct {
		n      int
		bucket func(time.Time) string
		what   string
	}{
		{cfg.KeepLast, nil, "--keep-last"},
		{cfg.KeepHourly, func(t time.Time) string { return t.Format("2006-01-02T15") }, "--keep-hourly"},
		{cfg.KeepDaily, func(t time.Time) string { return t.Format("2006-01-02") }, "--keep-daily"},
		{cfg.KeepWeekly, isoWeek, "--keep-weekly"},
		{cfg.KeepMonthly, func(t time.Time) string { return t.Format("2006-01") }, "--keep-monthly"},
	}
	for _, r := range rules {
		count, last := 0, ""
		for i, ch := range chains {
			if count >= r.n {
				break
			}
			if r.bucket == nil {
				keep(i, fmt.Sprintf("%s %d", r.what, r.n))
				count++
				continue
			}
			if b := r.bucket(ch.Base.Time.UTC()); b != last {
				keep(i, fmt.Sprintf("%s %d (%s)", r.what, r.n, b))
				count++
				last = b
			}
		}
	}
}

func isoWeek(t time.Time) string {
	y, w := t.ISOWeek()
	return fmt.Sprintf("%d-W%02d", y, w)
}

// Run lists the store, plans, and (unless dryRun) deletes the planned chains, newest delta first and the full
// snapshot last. It stops at the first failed delete: what is left is still a valid, shorter chain.
func Run(ctx context.Context, st *store.Store, cfg Config, dryRun bool) (*Plan, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cat, err := catalog.Load(ctx, st)
	if err != nil {
		return nil, err
	}
	if cfg.Verify == nil {
		cfg.Verify = func(s catalog.Snapshot) error {
			_, err := snapinfo.Verify(ctx, st, s, snapinfo.Options{})
			return err
		}
	}
	p, err := PlanFor(cat, cfg)
	if err != nil {
		return nil, err
	}
	p.DryRun = dryRun
	if err := removeTemp(ctx, st, cfg, p); err != nil {
		return p, err
	}
	if dryRun {
		return p, nil
	}
	for _, it := range p.Delete {
		for _, key := range it.Objects {
			if err := st.Delete(ctx, key); err != nil {
				return p, fmt.Errorf("gc: %w (%d objects deleted before it)", err, len(p.Deleted))
			}
			p.Deleted = append(p.Deleted, key)
		}
	}
	return p, nil
}

// removeTemp removes writers' temporary objects older than cfg.TempAge (a killed writer's leftover; a live
// upload rewrites its file far more often than that), or only lists them in a dry run.
func removeTemp(ctx context.Context, st *store.Store, cfg Config, p *Plan) error {
	age := cfg.TempAge
	if age <= 0 {
		age = DefaultTempAge
	}
	now := time.Now()
	if cfg.Now != nil {
		now = cfg.Now()
	}
	objs, err := st.ListTemp(ctx)
	if err != nil {
		return fmt.Errorf("gc: list temporary objects: %w", err)
	}
	for _, o := range objs {
		if strings.HasPrefix(o.Key, catalog.MembersDir+"/") || now.Sub(o.ModTime) < age {
			continue
		}
		if !p.DryRun {
			if err := st.Delete(ctx, o.Key); err != nil {
				return fmt.Errorf("gc: remove temporary object %s (last written %s): %w", o.Key, o.ModTime.UTC().Format(time.RFC3339), err)
			}
		}
		p.Temp = append(p.Temp, o.Key)
	}
	return nil
}
