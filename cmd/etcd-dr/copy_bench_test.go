package main

import (
	"fmt"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/etcd-dr/etcd-dr/internal/testenv"
	"github.com/etcd-dr/etcd-dr/internal/testkit/restoretest"
)

// BenchmarkCopy1GiB: `etcd-dr copy` of a ~1 GiB full snapshot (ETCD_DR_BENCH_MB to change) from file:// to
// versitygw S3, against `etcd-dr snapshot --full --compression none` of the same db served by a real etcd to the
// same server; both stream through the same uploader. Issue 15's target: copy ≤ 1.3× snapshot.
func BenchmarkCopy1GiB(b *testing.B) {
	bin, src, m := bigEtcd(b)
	s3 := testenv.StartS3(b)
	s3.Env(b)
	s3.CreateBucket(b, "bench")
	var cp, snap float64
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		c, cRSS := timed(b, bin, "copy", "--store", "file://"+src, "--to-store", s3.URL("bench", fmt.Sprintf("copy%d", i)))
		s, _ := timed(b, bin, "snapshot", "--endpoints", m.ClientURL, "--store", s3.URL("bench", fmt.Sprintf("snap%d", i)), "--compression", "none", "--force")
		cp += c.Seconds()
		snap += s.Seconds()
		b.ReportMetric(float64(cRSS)/(1<<20), "copy-peak-RSS-MiB")
	}
	b.ReportMetric(cp/float64(b.N), "copy-s")
	b.ReportMetric(snap/float64(b.N), "snapshot-s")
	b.ReportMetric(cp/snap, "copy/snapshot")
}

// BenchmarkCompactChain: `etcd-dr compact` of the 200 000-event chain of BenchmarkRestoreChainVsEtcdbrctl against
// `etcd-dr restore` of it, taking turns; each compact runs on a fresh copy of the store (it writes a snapshot
// into it), with the default gzip and with --compression none. Issue 15's target: compact ≤ 1.2× restore. Beside
// the wall times, the CPU seconds (user + system) of each process: on a machine shared with other work, wall
// times swing with the load, CPU time much less.
func BenchmarkCompactChain(b *testing.B) {
	bin := filepath.Join(b.TempDir(), "etcd-dr")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		b.Fatalf("go build: %v\n%s", err, out)
	}
	ch := restoretest.SyntheticChain(b, 1000, 200000, 10000, 100)
	var comp, rest, none, compCPU, restCPU, noneCPU float64
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		store := filepath.Join(b.TempDir(), "store")
		if out, err := exec.Command("cp", "-r", ch.Store, store).CombinedOutput(); err != nil {
			b.Fatalf("cp: %v %s", err, out)
		}
		b.StartTimer()
		r, rc := timedCPU(b, bin, "restore", "--store", "file://"+ch.Store, "--data-dir", filepath.Join(b.TempDir(), "etcd"))
		c, cc := timedCPU(b, bin, "compact", "--store", "file://"+store)
		b.StopTimer()
		// The same fold uploaded uncompressed, on another fresh copy: how much of compact is gzip.
		store = filepath.Join(b.TempDir(), "store")
		if out, err := exec.Command("cp", "-r", ch.Store, store).CombinedOutput(); err != nil {
			b.Fatalf("cp: %v %s", err, out)
		}
		n, nc := timedCPU(b, bin, "compact", "--store", "file://"+store, "--compression", "none")
		b.StartTimer()
		rest += r.Seconds()
		comp += c.Seconds()
		none += n.Seconds()
		restCPU += rc.Seconds()
		compCPU += cc.Seconds()
		noneCPU += nc.Seconds()
	}
	b.ReportMetric(comp/float64(b.N), "compact-s")
	b.ReportMetric(rest/float64(b.N), "restore-s")
	b.ReportMetric(comp/rest, "compact/restore")
	b.ReportMetric(none/float64(b.N), "compact-none-s")
	b.ReportMetric(none/rest, "compact-none/restore")
	b.ReportMetric(compCPU/restCPU, "compact/restore-cpu")
	b.ReportMetric(noneCPU/restCPU, "compact-none/restore-cpu")
}

// timedCPU runs bin with args and returns its wall time and its CPU time (user + system).
func timedCPU(b *testing.B, bin string, args ...string) (wall, cpu time.Duration) {
	b.Helper()
	cmd := exec.Command(bin, args...)
	start := time.Now()
	if out, err := cmd.CombinedOutput(); err != nil {
		b.Fatalf("%s %v: %v\n%s", bin, args, err, out)
	}
	return time.Since(start), cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
}
