package snapshot_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/etcd-dr/etcd-dr/engine/catalog"
	"github.com/etcd-dr/etcd-dr/engine/snapshot"
	"github.com/etcd-dr/etcd-dr/internal/testenv"
	"github.com/etcd-dr/etcd-dr/internal/testkit/snapshottest"
)

// The object store (S3, GCS) is down for 30 s (ETCD_DR_OUTAGE_SECONDS) while etcd takes writes: uploads retry,
// the watch restarts from the last stored revision, and the chain ends at etcd's revision with no gap: 0 lost
// revisions.
func TestStoreOutage(t *testing.T) {
	for _, backend := range testenv.ObjectStores {
		t.Run(backend, func(t *testing.T) { storeOutage(t, backend) })
	}
}

func storeOutage(t *testing.T, backend string) {
	outage := 30 * time.Second
	if v, err := strconv.Atoi(os.Getenv("ETCD_DR_OUTAGE_SECONDS")); err == nil {
		outage = time.Duration(v) * time.Second
	}
	bucket := testenv.StartBucket(t, backend, "outage")
	srv, url := bucket.Server, bucket.URL("cluster-a")
	_, cli := testenv.StartEmbedded(t)
	ctx, cancel := context.WithTimeout(context.Background(), outage+2*time.Minute)
	defer cancel()
	rec := &recorder{}
	s, _ := newSnapshotter(t, cli, url, func(c *snapshot.Config) {
		c.DeltaPeriod = 200 * time.Millisecond
		c.StallTimeout = 10 * time.Second
		c.Observer = rec
	})
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- s.Run(runCtx, nil) }()
	waitFor(t, ctx, "the first full snapshot", func() bool { return rec.count(catalog.Full) == 1 })
	put := func(n int) {
		for i := 0; i < n; i++ {
			if _, err := cli.Put(ctx, fmt.Sprintf("/outage/%d", i%40), fmt.Sprint(i)); err != nil {
				t.Fatal(err)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	put(50)
	srv.Stop()
	stopped := time.Now()
	for time.Since(stopped) < outage {
		put(20)
	}
	deltas := rec.count(catalog.Delta)
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, "a delta stored after the outage", func() bool { return rec.count(catalog.Delta) > deltas })
	put(50)
	stop()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	rec.mu.Lock()
	failures := len(rec.failures)
	rec.mu.Unlock()
	if failures == 0 && outage >= 20*time.Second {
		t.Error("no upload failed during the outage: the store was not really away")
	}
	cat := snapshottest.Catalog(t, url)
	if len(cat.Chains) != 1 {
		t.Fatalf("%d chains, want 1", len(cat.Chains))
	}
	if got, want := cat.Chains[0].EndRevision, rev(t, cli); got != want {
		t.Fatalf("chain ends at %d, etcd at %d: revisions lost", got, want)
	}
	snapshottest.Judge(t, url, 0, cli)
}

// With a spool the watch goes on while the store is away, so etcd compacting its history meanwhile costs no
// revision; deltas spooled when the loop stops (store still away) are uploaded first by the next run. One
// chain, no gap, restorable to the live etcd.
func TestStoreOutageSpool(t *testing.T) {
	for _, backend := range testenv.ObjectStores {
		t.Run(backend, func(t *testing.T) { storeOutageSpool(t, backend) })
	}
}

func storeOutageSpool(t *testing.T, backend string) {
	bucket := testenv.StartBucket(t, backend, "spool")
	srv, url := bucket.Server, bucket.URL("cluster-b")
	_, cli := testenv.StartEmbedded(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	spoolDir := t.TempDir()
	rec := &recorder{}
	mod := func(c *snapshot.Config) {
		c.DeltaPeriod = 100 * time.Millisecond
		c.StallTimeout = 5 * time.Second
		c.SpoolDir = spoolDir
		c.Observer = rec
	}
	s, _ := newSnapshotter(t, cli, url, mod)
	run := func() (stop func()) {
		runCtx, cancel := context.WithCancel(ctx)
		done := make(chan error, 1)
		go func() { done <- s.Run(runCtx, nil) }()
		return func() {
			cancel()
			if err := <-done; err != nil {
				t.Error(err)
			}
		}
	}
	stop := run()
	waitFor(t, ctx, "the first full snapshot", func() bool { return rec.count(catalog.Full) == 1 })
	put := func(prefix string, n int) {
		for i := 0; i < n; i++ {
			if _, err := cli.Put(ctx, fmt.Sprintf("/%s/%d", prefix, i%30), fmt.Sprint(i)); err != nil {
				t.Fatal(err)
			}
		}
	}
	put("before", 50)
	waitFor(t, ctx, "a delta", func() bool { return rec.count(catalog.Delta) >= 1 })
	srv.Stop()
	put("away", 200)
	waitFor(t, ctx, "a spooled delta", func() bool { m, _ := filepath.Glob(filepath.Join(spoolDir, "Incr-*")); return len(m) > 0 })
	put("away2", 100)
	if _, err := cli.Compact(ctx, rev(t, cli)); err != nil { // history gone: only the spool holds it
		t.Fatal(err)
	}
	put("away3", 20)
	stop() // the final delta goes into the spool too
	if m, _ := filepath.Glob(filepath.Join(spoolDir, "*.final")); len(m) != 1 {
		t.Fatalf("final delta not spooled: %v", m)
	}
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	stop = run()
	put("back", 30)
	want := rev(t, cli)
	waitFor(t, ctx, "the spool drained and the new writes stored", func() bool {
		m, _ := filepath.Glob(filepath.Join(spoolDir, "Incr-*")) // the store-end file stays
		return len(m) == 0 && rec.end() == want
	})
	stop()
	cat := snapshottest.Catalog(t, url)
	if len(cat.Chains) != 1 {
		t.Fatalf("%d chains, want 1 (no forced full snapshot)", len(cat.Chains))
	}
	if got, want := cat.Chains[0].EndRevision, rev(t, cli); got != want {
		t.Fatalf("chain ends at %d, etcd at %d", got, want)
	}
	snapshottest.Judge(t, url, 0, cli)
}
