package engine

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"golang.org/x/sync/errgroup"

	"github.com/etcd-dr/etcd-dr/internal/testenv"
	"github.com/etcd-dr/etcd-dr/store"
)

// fleetKeys are the keys of a seed bucket of clusters × perCluster objects: each cluster one chain of a full
// snapshot and its deltas, in etcd-backup-restore's v2 layout (Gardener: <shoot>/etcd-main/v2/...).
func fleetKeys(clusters, perCluster int) []string {
	var keys []string
	for c := 0; c < clusters; c++ {
		dir := fmt.Sprintf("shoot--p%03d--c%04d/etcd-main/v2", c%100, c)
		keys = append(keys, fmt.Sprintf("%s/Full-00000000-00001000-%d.gz", dir, 1763900000+c))
		for d := 1; d < perCluster; d++ {
			keys = append(keys, fmt.Sprintf("%s/Incr-%08d-%08d-%d.gz", dir, 1000+(d-1)*10+1, 1000+d*10, 1763900000+c+d*60))
		}
	}
	return keys
}

func writeFleetDir(b *testing.B, root string, keys []string) {
	for _, k := range keys {
		p := filepath.Join(root, filepath.FromSlash(k))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			b.Fatal(err)
		}
		if err := os.WriteFile(p, []byte("x"), 0o644); err != nil {
			b.Fatal(err)
		}
	}
}

func uploadFleet(b *testing.B, url string, keys []string) {
	ctx := context.Background()
	st, err := store.Open(ctx, url)
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	var g errgroup.Group
	g.SetLimit(32)
	for _, k := range keys {
		g.Go(func() error {
			w, err := st.NewWriter(ctx, k, store.WriteOptions{})
			if err != nil {
				return err
			}
			if _, err := w.Write([]byte("x")); err != nil {
				w.Abort()
				return err
			}
			return w.Commit()
		})
	}
	if err := g.Wait(); err != nil {
		b.Fatal(err)
	}
}

// benchOpen opens and lists url b.N times, reporting seconds per listing and the heap in use after one; with
// readTags also reads the exclude tags as list does.
func benchOpen(b *testing.B, url string, wantChains int, readTags ...bool) {
	ctx := context.Background()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		r, err := Open(ctx, url, Options{})
		if err != nil {
			b.Fatal(err)
		}
		if len(readTags) > 0 && readTags[0] {
			if err := r.ReadExcludeTags(ctx); err != nil {
				b.Fatal(err)
			}
		}
		if got := len(r.Catalog().Chains); got != wantChains {
			b.Fatalf("%d chains, want %d", got, wantChains)
		}
		if i == b.N-1 {
			runtime.GC()
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			b.ReportMetric(float64(ms.HeapInuse)/(1<<20), "MiB-heap-in-use")
		}
		r.Close()
	}
	b.ReportMetric(b.Elapsed().Seconds()/float64(b.N), "s/list")
}

// BenchmarkFleetList: a root of many clusters lists within the bounds (1 000 × 30: < 2 s on file://,
// < 5 s on versitygw S3; 100 000 objects on file:// < 5 s and < 200 MiB).
func BenchmarkFleetList(b *testing.B) {
	b.Run("file-1000x30", func(b *testing.B) {
		root := b.TempDir()
		writeFleetDir(b, root, fleetKeys(1000, 30))
		benchOpen(b, "file://"+root, 1000)
	})
	b.Run("file-100k", func(b *testing.B) {
		root := b.TempDir()
		writeFleetDir(b, root, fleetKeys(2000, 50))
		benchOpen(b, "file://"+root, 2000)
	})
	b.Run("s3-1000x30", func(b *testing.B) {
		s3 := testenv.StartS3(b)
		s3.Env(b)
		s3.CreateBucket(b, "seed")
		url := s3.URL("seed", "")
		uploadFleet(b, url, fleetKeys(1000, 30))
		b.Run("list", func(b *testing.B) { benchOpen(b, url, 1000) })
		// list reads one exclude tag per cluster (its newest chain's): what that adds to a fleet listing.
		b.Run("list+tags", func(b *testing.B) { benchOpen(b, url, 1000, true) })
	})
}
