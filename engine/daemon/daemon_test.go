package daemon_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/etcd-dr/etcd-dr/engine/catalog"
	"github.com/etcd-dr/etcd-dr/engine/daemon"
	"github.com/etcd-dr/etcd-dr/engine/etcdconn"
	"github.com/etcd-dr/etcd-dr/engine/gc"
	"github.com/etcd-dr/etcd-dr/engine/leadership"
	"github.com/etcd-dr/etcd-dr/engine/snapshot"
	"github.com/etcd-dr/etcd-dr/internal/fixture"
	"github.com/etcd-dr/etcd-dr/internal/testenv"
	"github.com/etcd-dr/etcd-dr/internal/testkit/snapshottest"
	"github.com/etcd-dr/etcd-dr/store"
)

type switchable struct{ on atomic.Bool }

func (s *switchable) IsLeader() bool { return s.on.Load() }

type counter struct {
	mu    sync.Mutex
	kinds map[catalog.Kind]int
}

func (c *counter) Snapshot(r snapshot.Result) {
	if r.Skipped {
		return
	}
	c.mu.Lock()
	c.kinds[r.Kind]++
	c.mu.Unlock()
}
func (c *counter) Failure(catalog.Kind, error) {}
func (c *counter) get(k catalog.Kind) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.kinds[k]
}

func waitFor(t *testing.T, ctx context.Context, what string, cond func() bool) {
	t.Helper()
	for !cond() {
		select {
		case <-ctx.Done():
			t.Fatalf("gave up waiting for %s", what)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// The daemon takes full snapshots on its cron schedule and deltas between them, collects garbage after each
// full snapshot, works only while leader (a follower stores nothing; a new leader continues the store's chain
// without gap or overlap), and on shutdown stores a final delta: the newest chain restores to the live etcd.
func TestDaemon(t *testing.T) {
	_, cli := testenv.StartEmbedded(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	url := "file://" + filepath.Join(t.TempDir(), "store")
	st, err := store.Open(ctx, url, store.OpenOptions{Create: true})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	lead := &switchable{}
	lead.on.Store(true)
	seen := &counter{kinds: map[catalog.Kind]int{}}
	reg := prometheus.NewRegistry()
	d, err := daemon.New(daemon.Config{
		Snapshot:     snapshot.Config{Client: cli, Store: st, TempDir: t.TempDir(), DeltaPeriod: 50 * time.Millisecond, Observer: seen},
		FullSchedule: "@every 1s",
		GC:           &gc.Config{Policy: gc.Limit, MaxBackups: 2},
		Leadership:   lead,
		LeaderPoll:   20 * time.Millisecond,
		Logger:       slog.New(slog.NewTextHandler(t.Output(), nil)),
		Metrics:      daemon.NewMetrics(reg),
	})
	if err != nil {
		t.Fatal(err)
	}
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- d.Run(runCtx) }()
	writes := 0
	write := func(n int) {
		if err := fixture.Workload(ctx, cli, fmt.Sprintf("/w%d", writes), n); err != nil {
			t.Fatal(err)
		}
		writes++
	}
	waitFor(t, ctx, "four full snapshots", func() bool { write(3); return seen.get(catalog.Full) >= 4 })
	waitFor(t, ctx, "garbage collection", func() bool {
		s := d.Status()
		return s.LastGC != nil && s.LastGC.Deleted > 0
	})

	lead.on.Store(false)
	waitFor(t, ctx, "follower", func() bool { s := d.Status(); return s.Role == "Follower" && !s.Running })
	before := seen.get(catalog.Full) + seen.get(catalog.Delta)
	write(10)
	if _, err := d.BackupNow(ctx); err == nil {
		t.Error("a follower took a backup on request")
	}
	time.Sleep(300 * time.Millisecond) // a follower must store nothing: give it the chance to misbehave
	if after := seen.get(catalog.Full) + seen.get(catalog.Delta); after != before {
		t.Errorf("a follower stored %d snapshots", after-before)
	}

	lead.on.Store(true)
	waitFor(t, ctx, "leader again", func() bool { return d.Status().Running })
	write(10)
	res, err := d.BackupNow(ctx)
	if err != nil || res.Skipped {
		t.Fatalf("backup now: %+v %v", res, err)
	}
	write(5)
	stop()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	cat := snapshottest.Catalog(t, url)
	newest := cat.Newest()
	if got, want := newest.EndRevision, mustRev(t, cli); got != want {
		t.Fatalf("store ends at %d, etcd at %d", got, want)
	}
	for _, ch := range cat.Chains {
		if len(ch.Gaps) > 0 || len(ch.Notes) > 0 {
			t.Errorf("chain %s: gaps %v notes %v", ch.Base.Key, ch.Gaps, ch.Notes)
		}
	}
	snapshottest.Judge(t, url, 0, cli)
	if metricValue(t, reg, "etcddr_gc_deleted_objects_total") == 0 || metricValue(t, reg, "etcddr_snapshots_total") == 0 {
		t.Error("gc deletions or snapshots not counted")
	}
}

func mustRev(t *testing.T, cli *clientv3.Client) int64 {
	t.Helper()
	r, err := fixture.Revision(context.Background(), cli)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// metricValue sums the samples of a counter or gauge family.
func metricValue(t *testing.T, reg *prometheus.Registry, name string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var v float64
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			v += m.GetCounter().GetValue() + m.GetGauge().GetValue()
		}
	}
	return v
}

// lines counts the log lines that contain a text.
type lines struct {
	mu  sync.Mutex
	buf []string
}

func (l *lines) Write(p []byte) (int, error) {
	l.mu.Lock()
	l.buf = append(l.buf, string(p))
	l.mu.Unlock()
	return len(p), nil
}

func (l *lines) count(s string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, x := range l.buf {
		if strings.Contains(x, s) {
			n++
		}
	}
	return n
}

// A daemon beside a one-member etcd (the demo, a single-node cluster) stores its first full snapshot at once:
// its Elector leads at the first check and, being alone, the takeover wait meant for a handover is skipped.
// "starting backups" is logged once.
func TestDaemonOneMemberStartsAtOnce(t *testing.T) {
	e, cli := testenv.StartEmbedded(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	st, err := store.Open(ctx, "file://"+filepath.Join(t.TempDir(), "store"), store.OpenOptions{Create: true})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	el, err := leadership.NewElector(leadership.ElectorConfig{Conn: etcdconn.Config{Endpoints: []string{e.Config().AdvertiseClientUrls[0].String()}},
		Name: "embedded", Period: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer el.Close()
	seen := &counter{kinds: map[catalog.Kind]int{}}
	log := &lines{}
	d, err := daemon.New(daemon.Config{
		Snapshot:      snapshot.Config{Client: cli, Store: st, TempDir: t.TempDir(), DeltaPeriod: time.Second, Observer: seen},
		FullSchedule:  "@every 1h",
		Leadership:    el,
		LeaderPoll:    20 * time.Millisecond,
		TakeoverDelay: 10 * time.Second, // what the CLI uses: twice the leader check period
		Logger:        slog.New(slog.NewTextHandler(io.MultiWriter(log, t.Output()), nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	runCtx, stop := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); _ = el.Run(runCtx) }()
	go func() { defer wg.Done(); _ = d.Run(runCtx) }()
	start := time.Now()
	wctx, wcancel := context.WithTimeout(ctx, 3*time.Second)
	defer wcancel()
	waitFor(t, wctx, "the first full snapshot within 3s (the takeover wait is 10s)", func() bool { return seen.get(catalog.Full) >= 1 })
	t.Logf("first full snapshot after %v", time.Since(start).Round(time.Millisecond))
	time.Sleep(500 * time.Millisecond) // 25 more polls: the line must not repeat
	stop()
	wg.Wait()
	if n := log.count("starting backups"); n != 1 {
		t.Errorf(`"backup leader: starting backups" logged %d times, want once`, n)
	}
}
