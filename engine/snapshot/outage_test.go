package snapshot_test

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/etcd-dr/etcd-dr/engine/catalog"
	"github.com/etcd-dr/etcd-dr/engine/snapshot"
	"github.com/etcd-dr/etcd-dr/engine/snapshot/snapshottest"
	"github.com/etcd-dr/etcd-dr/internal/testenv"
)

// The S3 server is down for 30 s (ETCD_DR_OUTAGE_SECONDS) while etcd takes writes: uploads retry, the watch
// restarts from the last stored revision, and the chain ends at etcd's revision with no gap: 0 lost revisions.
func TestStoreOutage(t *testing.T) {
	outage := 30 * time.Second
	if v, err := strconv.Atoi(os.Getenv("ETCD_DR_OUTAGE_SECONDS")); err == nil {
		outage = time.Duration(v) * time.Second
	}
	s3 := testenv.StartS3(t)
	s3.Env(t)
	s3.CreateBucket(t, "outage")
	url := s3.URL("outage", "cluster-a")
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
	s3.Stop()
	stopped := time.Now()
	for time.Since(stopped) < outage {
		put(20)
	}
	deltas := rec.count(catalog.Delta)
	if err := s3.Start(); err != nil {
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
