package snapshot_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/etcd-dr/etcd-dr/engine/catalog"
	"github.com/etcd-dr/etcd-dr/engine/snapshot"
	"github.com/etcd-dr/etcd-dr/internal/fixture"
	"github.com/etcd-dr/etcd-dr/internal/testenv"
	"github.com/etcd-dr/etcd-dr/store"
)

// deltaMeter keeps the largest delta and the time the store caught up with a revision.
type deltaMeter struct {
	mu      sync.Mutex
	events  int
	maxJSON int64
	end     int64
}

func (m *deltaMeter) Snapshot(r snapshot.Result) {
	if r.Kind != catalog.Delta || r.Skipped {
		return
	}
	m.mu.Lock()
	m.events += r.Events
	m.maxJSON = max(m.maxJSON, r.ContentSize)
	m.end = max(m.end, r.EndRevision)
	m.mu.Unlock()
}
func (m *deltaMeter) Failure(catalog.Kind, error) {}

// BenchmarkDeltaThroughput drives the heaviest write load 64 concurrent clients can put into the pinned etcd
// binary for ETCD_DR_BENCH_SECONDS (default 10) while the backup loop writes deltas (default 20 s period,
// 10 MiB memory limit) to file://. It reports both rates, how long after the last write the store held it
// (lag), the largest delta's JSON and the peak Go heap.
func BenchmarkDeltaThroughput(b *testing.B) {
	secs := 10
	if v, err := strconv.Atoi(os.Getenv("ETCD_DR_BENCH_SECONDS")); err == nil {
		secs = v
	}
	c := testenv.StartCluster(b, testenv.Binary(b, "etcd"), 1)
	cli := c.Client(b)
	ctx := b.Context()
	st, err := store.Open(ctx, "file://"+filepath.Join(b.TempDir(), "store"), store.OpenOptions{Create: true})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	m := &deltaMeter{}
	s, err := snapshot.New(snapshot.Config{Client: cli, Store: st, TempDir: b.TempDir(), Observer: m})
	if err != nil {
		b.Fatal(err)
	}
	if _, err := s.Full(ctx, snapshot.FullOptions{}); err != nil {
		b.Fatal(err)
	}
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- s.Run(runCtx, nil) }()
	var peakHeap atomic.Uint64
	sampling := make(chan struct{})
	go func() {
		var ms runtime.MemStats
		for {
			select {
			case <-sampling:
				return
			case <-time.After(50 * time.Millisecond):
				runtime.ReadMemStats(&ms)
				if ms.HeapInuse > peakHeap.Load() {
					peakHeap.Store(ms.HeapInuse)
				}
			}
		}
	}()
	b.ResetTimer()
	start := time.Now()
	var puts atomic.Int64
	var wg sync.WaitGroup
	value := make([]byte, 256)
	for w := 0; w < 64; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			wcli := cli
			for i := 0; time.Since(start) < time.Duration(secs)*time.Second; i++ {
				if _, err := wcli.Put(ctx, fmt.Sprintf("/load/%02d/%06d", w, i%5000), string(value), clientv3.WithPrevKV()); err != nil {
					b.Error(err)
					return
				}
				puts.Add(1)
			}
		}(w)
	}
	wg.Wait()
	writing := time.Since(start)
	last, err := fixture.Revision(ctx, cli)
	if err != nil {
		b.Fatal(err)
	}
	stop() // the final delta catches up to the last revision
	if err := <-done; err != nil {
		b.Fatal(err)
	}
	caughtUp := time.Since(start)
	close(sampling)
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.end != last {
		b.Fatalf("store ends at %d, etcd at %d", m.end, last)
	}
	b.ReportMetric(float64(puts.Load())/writing.Seconds(), "writes/s")
	b.ReportMetric(float64(m.events)/caughtUp.Seconds(), "delta-events/s")
	b.ReportMetric((caughtUp - writing).Seconds(), "lag-s")
	b.ReportMetric(float64(m.maxJSON)/(1<<20), "max-delta-MiB")
	b.ReportMetric(float64(peakHeap.Load())/(1<<20), "peak-heap-MiB")
}
