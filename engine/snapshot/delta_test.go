package snapshot_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/etcd-dr/etcd-dr/engine/catalog"
	"github.com/etcd-dr/etcd-dr/engine/fault"
	"github.com/etcd-dr/etcd-dr/engine/snapshot"
	"github.com/etcd-dr/etcd-dr/internal/fixture"
	"github.com/etcd-dr/etcd-dr/internal/testenv"
	"github.com/etcd-dr/etcd-dr/internal/testkit/snapshottest"
)

// recorder is an Observer that keeps what it is told.
type recorder struct {
	mu       sync.Mutex
	results  []snapshot.Result
	failures []error
}

func (r *recorder) Snapshot(res snapshot.Result) {
	r.mu.Lock()
	r.results = append(r.results, res)
	r.mu.Unlock()
}
func (r *recorder) Failure(_ catalog.Kind, err error) {
	r.mu.Lock()
	r.failures = append(r.failures, err)
	r.mu.Unlock()
}

// end is the last revision any stored delta holds.
func (r *recorder) end() (e int64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, res := range r.results {
		if res.Kind == catalog.Delta && !res.Skipped {
			e = max(e, res.EndRevision)
		}
	}
	return e
}

func (r *recorder) count(kind catalog.Kind) (n int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, res := range r.results {
		if res.Kind == kind && !res.Skipped {
			n++
		}
	}
	return n
}

// waitFor polls cond (no timed assertion: the test context bounds it).
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

// The backup loop starts a chain with a full snapshot, writes deltas by period and by memory limit, takes a
// requested full snapshot between deltas, and on stop writes a final delta up to etcd's current revision.
// Every chain restores to exactly the live etcd.
func TestRunDeltasFullAndFinal(t *testing.T) {
	_, cli := testenv.StartEmbedded(t)
	ctx := testCtx(t)
	if err := fixture.Workload(ctx, cli, "/before", 20); err != nil {
		t.Fatal(err)
	}
	url := fileURL(t)
	rec := &recorder{}
	s, _ := newSnapshotter(t, cli, url, func(c *snapshot.Config) {
		c.DeltaPeriod = 100 * time.Millisecond
		c.MemoryLimit = 16 << 10 // small: the big writes below flush by size
		c.Observer = rec
	})
	runCtx, stop := context.WithCancel(ctx)
	fulls := make(chan snapshot.FullRequest)
	done := make(chan error, 1)
	go func() { done <- s.Run(runCtx, fulls) }()
	waitFor(t, ctx, "the first full snapshot", func() bool { return rec.count(catalog.Full) == 1 })
	if err := fixture.Workload(ctx, cli, "/deltas", 40); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 20; i++ {
		if _, err := cli.Put(ctx, fmt.Sprintf("/large/%d", i), strings.Repeat("v", 4000)); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, ctx, "deltas", func() bool { return rec.count(catalog.Delta) >= 2 })
	reply := make(chan snapshot.FullReply, 1)
	fulls <- snapshot.FullRequest{Reply: reply}
	fr := <-reply
	if fr.Err != nil || fr.Result.Skipped {
		t.Fatalf("requested full snapshot: %+v %v", fr.Result, fr.Err)
	}
	if err := fixture.Workload(ctx, cli, "/after", 15); err != nil {
		t.Fatal(err)
	}
	stop() // as SIGTERM: the last writes must land in a final delta
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	end := rev(t, cli)
	cat := snapshottest.Catalog(t, url)
	if len(cat.Chains) != 2 {
		t.Fatalf("%d chains, want 2 (first full, requested full)", len(cat.Chains))
	}
	newest := cat.Chains[1]
	if newest.EndRevision != end || len(newest.Deltas) == 0 || !newest.Deltas[len(newest.Deltas)-1].Final {
		t.Fatalf("newest chain ends at %d (want %d) with deltas %+v; want the last one .final", newest.EndRevision, end, newest.Deltas)
	}
	if cat.Chains[0].EndRevision > fr.Result.EndRevision {
		t.Errorf("first chain ends at %d, beyond the second full snapshot %d (overlap)", cat.Chains[0].EndRevision, fr.Result.EndRevision)
	}
	for _, ch := range cat.Chains {
		if len(ch.Notes) > 0 {
			t.Errorf("chain %s: notes %v (overlaps or duplicates)", ch.Base.Key, ch.Notes)
		}
		snapshottest.Judge(t, url, ch.EndRevision, cli)
	}
	if len(rec.failures) > 0 {
		t.Errorf("failures: %v", rec.failures)
	}
}

// A delta whose start etcd has compacted away is impossible: a full snapshot is taken instead, and the store
// still restores to the live etcd.
func TestCompactionForcesFull(t *testing.T) {
	_, cli := testenv.StartEmbedded(t)
	ctx := testCtx(t)
	url := fileURL(t)
	s, _ := newSnapshotter(t, cli, url, nil)
	if _, err := s.Delta(ctx); !errors.Is(err, fault.ErrNothingCompatible) {
		t.Fatalf("delta into an empty store: %v, want nothing-compatible", err)
	}
	if err := fixture.Workload(ctx, cli, "/a", 10); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Full(ctx, snapshot.FullOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := fixture.Workload(ctx, cli, "/b", 10); err != nil {
		t.Fatal(err)
	}
	d, err := s.Delta(ctx)
	if err != nil || d.Kind != catalog.Delta || d.EndRevision != rev(t, cli) {
		t.Fatalf("delta %+v, %v", d, err)
	}
	if err := fixture.Workload(ctx, cli, "/c", 10); err != nil {
		t.Fatal(err)
	}
	cur := rev(t, cli)
	if _, err := cli.Compact(ctx, cur); err != nil {
		t.Fatal(err)
	}
	f, err := s.Delta(ctx)
	if err != nil || f.Kind != catalog.Full || !f.Forced || f.EndRevision != cur {
		t.Fatalf("delta past a compaction: %+v, %v; want a forced full snapshot at %d", f, err, cur)
	}
	cat := snapshottest.Catalog(t, url)
	if len(cat.Chains) != 2 {
		t.Fatalf("chains: %d, want 2", len(cat.Chains))
	}
	// The live etcd is compacted at cur: only the newest chain can be compared with it.
	snapshottest.Judge(t, url, cur, cli)
}

// The backup loop meets a compaction past its watch (it was stopped while etcd moved on and compacted):
// it takes a forced full snapshot on resume and carries on without a gap.
func TestRunResumesAfterCompaction(t *testing.T) {
	_, cli := testenv.StartEmbedded(t)
	ctx := testCtx(t)
	url := fileURL(t)
	rec := &recorder{}
	s, _ := newSnapshotter(t, cli, url, func(c *snapshot.Config) { c.DeltaPeriod = 50 * time.Millisecond; c.Observer = rec })
	if err := fixture.Workload(ctx, cli, "/a", 10); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Full(ctx, snapshot.FullOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := fixture.Workload(ctx, cli, "/b", 10); err != nil {
		t.Fatal(err)
	}
	if _, err := cli.Compact(ctx, rev(t, cli)); err != nil {
		t.Fatal(err)
	}
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- s.Run(runCtx, nil) }()
	waitFor(t, ctx, "a forced full snapshot", func() bool {
		rec.mu.Lock()
		defer rec.mu.Unlock()
		for _, r := range rec.results {
			if r.Forced {
				return true
			}
		}
		return false
	})
	if err := fixture.Workload(ctx, cli, "/c", 10); err != nil {
		t.Fatal(err)
	}
	stop()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	snapshottest.Judge(t, url, 0, cli)
	if got := snapshottest.Catalog(t, url).Newest().EndRevision; got != rev(t, cli) {
		t.Fatalf("store ends at %d, etcd at %d", got, rev(t, cli))
	}
}
