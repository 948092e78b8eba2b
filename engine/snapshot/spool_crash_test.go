package snapshot_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/etcd-dr/etcd-dr/engine/catalog"
	"github.com/etcd-dr/etcd-dr/engine/restore"
	"github.com/etcd-dr/etcd-dr/engine/snapshot"
	"github.com/etcd-dr/etcd-dr/internal/fixture"
	"github.com/etcd-dr/etcd-dr/internal/testenv"
	"github.com/etcd-dr/etcd-dr/internal/testkit/restoretest"
	"github.com/etcd-dr/etcd-dr/internal/testkit/snapshottest"
)

// writer puts ~15 keys a second until stopped, like a busy Kubernetes control plane.
type writer struct {
	stop chan struct{}
	done chan struct{}
	mu   sync.Mutex
	err  error
}

func startWriter(ctx context.Context, cli *clientv3.Client, prefix string) *writer {
	w := &writer{stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(w.done)
		tick := time.NewTicker(time.Second / 15)
		defer tick.Stop()
		for i := 0; ; i++ {
			select {
			case <-w.stop:
				return
			case <-ctx.Done():
				return
			case <-tick.C:
			}
			if _, err := cli.Put(ctx, fmt.Sprintf("%s/%d", prefix, i%50), fmt.Sprint(i)); err != nil {
				w.mu.Lock()
				w.err = err
				w.mu.Unlock()
				return
			}
		}
	}()
	return w
}

func (w *writer) Stop(t *testing.T) {
	t.Helper()
	close(w.stop)
	<-w.done
	if w.err != nil {
		t.Fatalf("writes to etcd: %v", w.err)
	}
}

// spoolStats describes the deltas in the spool folder: how many, the revisions they hold, where the last ends.
func spoolStats(t *testing.T, dir string) (deltas int, revisions, end int64) {
	t.Helper()
	des, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, de := range des {
		snap, ok := catalog.ParseName(de.Name())
		if de.IsDir() || !ok || snap.Kind != catalog.Delta {
			continue
		}
		deltas++
		revisions += snap.EndRevision - snap.StartRevision + 1
		end = max(end, snap.EndRevision)
	}
	return deltas, revisions, end
}

func spooledFrom(t *testing.T, dir string, start int64) bool {
	t.Helper()
	m, _ := filepath.Glob(filepath.Join(dir, "Incr-*"))
	for _, f := range m {
		if snap, ok := catalog.ParseName(filepath.Base(f)); ok && snap.StartRevision == start {
			return true
		}
	}
	return false
}

// The sequence of the issue "revisions lost with --spool-dir": writes go on while the store is down; every delta
// period's events reach the spool; the backup loop crashes without a final delta (kill -9: nothing buffered in
// memory survives); it restarts while the store is still down and resumes its watch from the spool's end at once;
// etcd compacts at its current revision; the store comes back and the spool is uploaded. The store then holds one
// chain without a gap from the first full snapshot to etcd's last revision, and restores at revisions inside
// the range that used to be lost equal etcd's state at those revisions (recorded before the compaction).
// It runs on S3 (versitygw) and GCS (fake-gcs-server), each killed for the outage.
func TestSpoolCrashDuringOutage(t *testing.T) {
	for _, backend := range testenv.ObjectStores {
		t.Run(backend, func(t *testing.T) { spoolCrashDuringOutage(t, backend) })
	}
}

func spoolCrashDuringOutage(t *testing.T, backend string) {
	const outage = 20 * time.Second
	b := testenv.StartBucket(t, backend, "crash")
	url := b.URL("cluster-c")
	_, cli := testenv.StartEmbedded(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	spoolDir := t.TempDir()
	rec := &recorder{}
	s, _ := newSnapshotter(t, cli, url, func(c *snapshot.Config) {
		c.DeltaPeriod = time.Second
		c.StallTimeout = 10 * time.Second
		c.SpoolDir = spoolDir
		c.Observer = rec
	})
	run := func() (stop func(cause error)) {
		runCtx, cancel := context.WithCancelCause(ctx)
		done := make(chan error, 1)
		go func() { done <- s.Run(runCtx, nil) }()
		return func(cause error) {
			cancel(cause)
			if err := <-done; err != nil {
				t.Error(err)
			}
		}
	}

	stop := run()
	waitFor(t, ctx, "the first full snapshot", func() bool { return rec.count(catalog.Full) == 1 })
	fullRev := rev(t, cli)
	w := startWriter(ctx, cli, "/crash")
	waitFor(t, ctx, "deltas stored before the outage", func() bool { return rec.count(catalog.Delta) >= 2 })
	b.Server.Stop()
	stoppedAt := rev(t, cli)
	time.Sleep(outage)

	// What reached the spool during the outage, and how far etcd is ahead of it.
	deltas, revs, spoolEnd := spoolStats(t, spoolDir)
	ahead := rev(t, cli) - max(spoolEnd, stoppedAt)
	perDelta := 0.0
	if deltas > 0 {
		perDelta = float64(revs) / float64(deltas)
	}
	t.Logf("after %s of outage: %d deltas spooled holding %d revisions (%.1f revisions per delta); etcd %d revisions ahead of the spool", outage, deltas, revs, perDelta, ahead)
	if ahead > 60 { // 15 writes/s and a 1 s delta period: a few periods at most
		t.Errorf("etcd is %d revisions ahead of the spool after %s of outage: the delta periods' events did not reach the spool", ahead, outage)
	}

	// kill -9: nothing buffered survives, no final delta.
	stop(snapshot.ErrHandOver)
	crashRev := rev(t, cli)
	_, _, spoolEnd = spoolStats(t, spoolDir)

	stop = run()
	resumeCtx, resumeCancel := context.WithTimeout(ctx, 10*time.Second)
	waitFor(t, resumeCtx, fmt.Sprintf("the restarted loop to spool a delta from %d (the spool's end + 1) while the store is down", spoolEnd+1),
		func() bool { return spooledFrom(t, spoolDir, spoolEnd+1) })
	resumeCancel()

	// The range the old code lost: from the store's end at the outage to the compaction. Record etcd's state at
	// a few revisions in it before the compaction takes the history away.
	compactRev := rev(t, cli)
	checks := []int64{stoppedAt + 1, (stoppedAt + crashRev) / 2, crashRev, (crashRev + compactRev) / 2, compactRev}
	want := map[int64][]fixture.KV{}
	for _, r := range checks {
		kvs, err := fixture.State(ctx, cli, r)
		if err != nil {
			t.Fatal(err)
		}
		want[r] = kvs
	}
	if _, err := cli.Compact(ctx, compactRev); err != nil {
		t.Fatal(err)
	}
	time.Sleep(2 * time.Second) // more writes spooled after the compaction
	if err := b.Server.Start(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(2 * time.Second)
	w.Stop(t)
	last := rev(t, cli)
	waitFor(t, ctx, fmt.Sprintf("the spool uploaded and the store at etcd's revision %d", last), func() bool {
		n, _, _ := spoolStats(t, spoolDir)
		return n == 0 && rec.end() == last
	})
	stop(nil)

	cat := snapshottest.Catalog(t, url)
	if len(cat.Chains) != 1 {
		var bases []string
		for _, ch := range cat.Chains {
			bases = append(bases, ch.Base.Key)
		}
		sort.Strings(bases)
		t.Fatalf("%d chains (%v), want 1: a forced full snapshot means revisions were lost", len(cat.Chains), bases)
	}
	ch := cat.Chains[0]
	if len(ch.Gaps) > 0 || len(ch.Problems) > 0 {
		t.Fatalf("chain %s: gaps %v, problems %v", ch.Base.Key, ch.Gaps, ch.Problems)
	}
	if ch.Base.EndRevision != fullRev || ch.EndRevision != last {
		t.Fatalf("chain %s..%d, want the first full snapshot (%d) to etcd's last revision (%d)", ch.Base.Key, ch.EndRevision, fullRev, last)
	}
	etcd := testenv.Binary(t, "etcd")
	for _, r := range checks {
		res, dataDir := snapshottest.Restore(t, url, r, nil)
		if res.Revision != r {
			t.Fatalf("restore of revision %d gave revision %d", r, res.Revision)
		}
		restoretest.Judge(t, etcd, dataDir, restore.DefaultName, r, want[r])
	}
	snapshottest.Judge(t, url, 0, cli)
}
