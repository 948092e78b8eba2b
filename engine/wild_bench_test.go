package engine

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/etcd-dr/etcd-dr/internal/testenv"
	"github.com/etcd-dr/etcd-dr/internal/testkit/restoretest"
	"github.com/etcd-dr/etcd-dr/store"
)

// countingProxy sits between etcd-dr and the S3 server and counts the body bytes of every GET answer per object
// path: every byte a job read, whichever code path read it.
type countingProxy struct {
	mu    sync.Mutex
	bytes map[string]int64
	gets  map[string]int
}

func startCountingProxy(tb testing.TB, target string) (*countingProxy, string) {
	u, err := url.Parse(target)
	if err != nil {
		tb.Fatal(err)
	}
	c := &countingProxy{bytes: map[string]int64{}, gets: map[string]int{}}
	rp := httputil.NewSingleHostReverseProxy(u) // keeps the client's Host header, which its signature covers
	rp.ModifyResponse = func(resp *http.Response) error {
		if resp.Request.Method == http.MethodGet && resp.Request.URL.Query().Get("list-type") == "" {
			resp.Body = &countedBody{ReadCloser: resp.Body, add: c.adder(resp.Request.URL.Path)}
		}
		return nil
	}
	srv := httptest.NewServer(rp)
	tb.Cleanup(srv.Close)
	return c, srv.URL
}

func (c *countingProxy) adder(path string) func(int) {
	c.mu.Lock()
	c.gets[path]++
	c.mu.Unlock()
	return func(n int) {
		c.mu.Lock()
		c.bytes[path] += int64(n)
		c.mu.Unlock()
	}
}

type countedBody struct {
	io.ReadCloser
	add func(int)
}

func (b *countedBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	b.add(n)
	return n, err
}

// BenchmarkWildPickLargeSnapshots is the cost rule's measure: open (list) and pick over N uncompressed etcd
// snapshots of another tool on versitygw S3, counting every byte read from the server. Defaults: 20 snapshots of
// 64 MiB; ETCD_DR_BENCH_SNAPSHOT_MIB=1024 gives the 20 × 1 GiB of the issue (21 GiB of disk). The snapshot is
// written once by etcd's own mvcc/backend code and copied server-side.
func BenchmarkWildPickLargeSnapshots(b *testing.B) {
	mib := int64(64)
	if v := os.Getenv("ETCD_DR_BENCH_SNAPSHOT_MIB"); v != "" {
		if _, err := fmt.Sscan(v, &mib); err != nil {
			b.Fatalf("ETCD_DR_BENCH_SNAPSHOT_MIB=%q: %v", v, err)
		}
	}
	const n = 20
	dir := b.TempDir()
	rev := restoretest.LargeSnapshot(b, dir, mib<<20)
	entries, err := os.ReadDir(dir)
	if err != nil || len(entries) != 1 {
		b.Fatalf("large snapshot: %v %v", entries, err)
	}
	src := filepath.Join(dir, entries[0].Name())
	fi, err := os.Stat(src)
	if err != nil {
		b.Fatal(err)
	}

	s3srv := testenv.StartS3(b)
	s3srv.Env(b)
	s3srv.CreateBucket(b, "big")
	ctx := context.Background()
	st, err := store.Open(ctx, s3srv.URL("big", "cron"))
	if err != nil {
		b.Fatal(err)
	}
	f, err := os.Open(src)
	if err != nil {
		b.Fatal(err)
	}
	w, err := st.NewWriter(ctx, "etcd-00.db", store.WriteOptions{})
	if err != nil {
		b.Fatal(err)
	}
	if _, err := io.Copy(w, f); err != nil {
		b.Fatal(err)
	}
	f.Close()
	if err := w.Commit(); err != nil {
		b.Fatal(err)
	}
	st.Close()
	os.Remove(src) // our own temporary copy: the server holds it now
	cli := s3srv.Client()
	for i := 1; i < n; i++ {
		_, err := cli.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String("big"), Key: aws.String(fmt.Sprintf("cron/etcd-%02d.db", i)), CopySource: aws.String("big/cron/etcd-00.db")})
		if err != nil {
			b.Fatalf("copy snapshot %d on the server: %v", i, err)
		}
	}

	proxy, endpoint := startCountingProxy(b, s3srv.Endpoint)
	storeURL := strings.Replace(s3srv.URL("big", "cron"), url.QueryEscape(s3srv.Endpoint), url.QueryEscape(endpoint), 1)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		r, err := Open(ctx, storeURL, Options{})
		if err != nil {
			b.Fatal(err)
		}
		res, err := r.Pick(ctx, PickRequest{})
		r.Close()
		if err != nil {
			b.Fatal(err)
		}
		if res.Revision != rev {
			b.Fatalf("picked revision %d, want %d", res.Revision, rev)
		}
	}
	b.StopTimer()
	var total, most int64
	var gets int
	for p, v := range proxy.bytes {
		total += v
		most = max(most, v)
		gets += proxy.gets[p]
	}
	if len(proxy.bytes) != n {
		b.Fatalf("read %d objects, want %d: %v", len(proxy.bytes), n, proxy.bytes)
	}
	per := total / int64(n*b.N)
	b.ReportMetric(float64(per), "B-read/snapshot")
	b.ReportMetric(float64(gets)/float64(n*b.N), "GETs/snapshot")
	b.Logf("%d snapshots of %d bytes (revision %d): %d runs read %d bytes in %d GETs; %d bytes per snapshot per run, at most %d of one object over all runs",
		n, fi.Size(), rev, b.N, total, gets, per, most)
	if per >= 2<<20 {
		b.Fatalf("pick read %d bytes per snapshot, the cost rule allows < 2 MiB", per)
	}
}
