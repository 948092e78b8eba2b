package main

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/etcd-dr/etcd-dr/internal/testenv"
	"github.com/etcd-dr/etcd-dr/internal/testkit/restoretest"
	"github.com/etcd-dr/etcd-dr/store"
)

// timed runs a command and returns its wall time and peak RSS (VmHWM, read from /proc while it runs: the
// rusage of a child forked from this big test process counts the parent's pages).
func timed(b *testing.B, bin string, args ...string) (time.Duration, int64) {
	b.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), "ETCDCTL_API=3")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	start := time.Now()
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	var peak int64
	for {
		select {
		case err := <-done:
			if err != nil {
				b.Fatalf("%s %v: %v\n%s", bin, args, err, out.Bytes())
			}
			return time.Since(start), peak
		case <-time.After(5 * time.Millisecond):
			if st, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", cmd.Process.Pid)); err == nil {
				for _, line := range strings.Split(string(st), "\n") {
					if f := strings.Fields(line); len(f) == 3 && f[0] == "VmHWM:" {
						kb, _ := strconv.ParseInt(f[1], 10, 64)
						peak = max(peak, kb<<10)
					} else if len(f) == 3 && os.Getenv("ETCD_DR_BENCH_RSS") != "" && (f[0] == "RssAnon:" || f[0] == "RssFile:") {
						b.Logf("%s %s %s", filepath.Base(bin), f[0], f[1])
					}
				}
			}
		}
	}
}

// bigEtcd builds etcd-dr and serves a ~1 GiB db (ETCD_DR_BENCH_MB to change) from the real etcd binary: the
// set-up of the side-by-side benchmarks. It returns the binary, the folder holding the snapshot file the db was
// restored from, and the member.
func bigEtcd(b *testing.B) (bin, src string, m *testenv.Member) {
	size := int64(1 << 30)
	if mb, err := strconv.Atoi(os.Getenv("ETCD_DR_BENCH_MB")); err == nil {
		size = int64(mb) << 20
	}
	bin = filepath.Join(b.TempDir(), "etcd-dr")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		b.Fatalf("go build: %v\n%s", err, out)
	}
	src = b.TempDir()
	restoretest.LargeSnapshot(b, src, size)
	entries, _ := os.ReadDir(src)
	dataDir := filepath.Join(b.TempDir(), "big.etcd")
	testenv.Etcdutl(b, "snapshot", "restore", filepath.Join(src, entries[0].Name()), "--data-dir", dataDir, "--name", "big",
		"--initial-cluster", "big=http://127.0.0.1:1", "--initial-advertise-peer-urls", "http://127.0.0.1:1")
	m = testenv.StartEtcdOnDataDir(b, testenv.Binary(b, "etcd"), dataDir, "big", "--quota-backend-bytes", strconv.FormatInt(4*size, 10))
	return bin, src, m
}

// BenchmarkFullSnapshot1GiB: a full snapshot of a ~1 GiB db (ETCD_DR_BENCH_MB to change) served by the real etcd
// binary, side by side: etcdctl snapshot save; etcd-dr snapshot --full to file:// (gzip and none); to versitygw
// S3 (none) against etcdctl save plus an upload of its file. Reports seconds, ratios and etcd-dr's peak RSS.
func BenchmarkFullSnapshot1GiB(b *testing.B) {
	bin, _, m := bigEtcd(b)
	ep := m.ClientURL
	s3 := testenv.StartS3(b)
	s3.Env(b)
	s3.CreateBucket(b, "bench")
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		saved := filepath.Join(b.TempDir(), "etcdctl.db")
		ctl, _ := timed(b, testenv.Binary(b, "etcdctl"), "--endpoints", ep, "snapshot", "save", saved)
		gz, gzRSS := timed(b, bin, "snapshot", "--endpoints", ep, "--store", "file://"+filepath.Join(b.TempDir(), "gz"), "--force")
		none, noneRSS := timed(b, bin, "snapshot", "--endpoints", ep, "--store", "file://"+filepath.Join(b.TempDir(), "none"), "--compression", "none", "--force")
		s3none, s3RSS := timed(b, bin, "snapshot", "--endpoints", ep, "--store", s3.URL("bench", fmt.Sprintf("run%d", i)), "--compression", "none", "--force")
		upStart := time.Now()
		upload(b, s3.URL("bench", fmt.Sprintf("copy%d", i)), saved)
		ctlCopy := ctl + time.Since(upStart)
		b.ReportMetric(ctl.Seconds(), "etcdctl-s")
		b.ReportMetric(gz.Seconds(), "file-gzip-s")
		b.ReportMetric(none.Seconds(), "file-none-s")
		b.ReportMetric(none.Seconds()/ctl.Seconds(), "file-none/etcdctl")
		b.ReportMetric(gz.Seconds()/ctl.Seconds(), "file-gzip/etcdctl")
		b.ReportMetric(s3none.Seconds()/ctlCopy.Seconds(), "s3/etcdctl+copy")
		b.ReportMetric(float64(max(gzRSS, noneRSS))/(1<<20), "file-peak-RSS-MiB")
		b.ReportMetric(float64(s3RSS)/(1<<20), "s3-peak-RSS-MiB")
	}
}

func upload(b *testing.B, url, path string) {
	b.Helper()
	ctx := b.Context()
	st, err := store.Open(ctx, url)
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	f, err := os.Open(path)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	w, err := st.NewWriter(ctx, filepath.Base(path), store.WriteOptions{})
	if err != nil {
		b.Fatal(err)
	}
	if _, err := io.Copy(w, f); err != nil {
		w.Abort()
		b.Fatal(err)
	}
	if err := w.Commit(); err != nil {
		b.Fatal(err)
	}
}
