package catalog_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/etcd-dr/etcd-dr/engine/catalog"
	"github.com/etcd-dr/etcd-dr/internal/testenv"
	"github.com/etcd-dr/etcd-dr/store"
)

// bucketKeys is a realistic store of n objects: a full snapshot every 100 objects, deltas between.
func bucketKeys(n int) []string {
	keys := make([]string, 0, n)
	rev := int64(0)
	for i := 0; i < n; i++ {
		ts := 1700000000 + i*60
		if i%100 == 0 {
			keys = append(keys, fmt.Sprintf("v2/Full-00000000-%08d-%d.gz", rev, ts))
			continue
		}
		keys = append(keys, fmt.Sprintf("v2/Incr-%08d-%08d-%d.gz", rev+1, rev+50, ts))
		rev += 50
	}
	return keys
}

func benchLoad(b *testing.B, url string, n int) {
	ctx := context.Background()
	st, err := store.Open(ctx, url)
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		cat, err := catalog.Load(ctx, st)
		if err != nil {
			b.Fatal(err)
		}
		if len(cat.Chains) != n/100 {
			b.Fatalf("want %d chains, got %d", n/100, len(cat.Chains))
		}
	}
}

// BenchmarkCatalogFile10k: the issue asks < 1 s for 10 000 objects on file://.
func BenchmarkCatalogFile10k(b *testing.B) {
	dir := b.TempDir()
	for _, k := range bucketKeys(10000) {
		p := filepath.Join(dir, k)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			b.Fatal(err)
		}
		if err := os.WriteFile(p, []byte("x"), 0o644); err != nil {
			b.Fatal(err)
		}
	}
	benchLoad(b, "file://"+dir, 10000)
}

// BenchmarkCatalogS3_10k: the issue asks < 3 s for 10 000 objects on versitygw S3.
func BenchmarkCatalogS3_10k(b *testing.B) { benchObjectStore10k(b, "s3") }

// BenchmarkCatalogGCS_10k: the same on fake-gcs-server GCS (listing pages of 1000). The emulator bounds it: its
// filesystem backend reads every object's files for each page (3000 objects: 0.4 s of raw JSON listing, 13 s of
// its CPU to upload and list them), so the figure is fake-gcs-server's, not Google's.
func BenchmarkCatalogGCS_10k(b *testing.B) { benchObjectStore10k(b, "gs") }

func benchObjectStore10k(b *testing.B, backend string) {
	url := testenv.StartBucket(b, backend, "bench").URL("etcd")
	ctx := context.Background()
	st, err := store.Open(ctx, url)
	if err != nil {
		b.Fatal(err)
	}
	keys := bucketKeys(10000)
	sem := make(chan struct{}, 16)
	errs := make(chan error, len(keys))
	for _, k := range keys {
		sem <- struct{}{}
		go func(k string) {
			defer func() { <-sem }()
			w, err := st.NewWriter(ctx, k, store.WriteOptions{})
			if err == nil {
				_, err = w.Write([]byte("x"))
			}
			if err == nil {
				err = w.Commit()
			}
			errs <- err
		}(k)
	}
	for range keys {
		if err := <-errs; err != nil {
			b.Fatal(err)
		}
	}
	st.Close()
	benchLoad(b, url, 10000)
}
