package restore_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/etcd-dr/etcd-dr/engine/pick"
	"github.com/etcd-dr/etcd-dr/engine/progress"
	"github.com/etcd-dr/etcd-dr/engine/restore"
	"github.com/etcd-dr/etcd-dr/internal/testenv"
	"github.com/etcd-dr/etcd-dr/internal/testkit/restoretest"
)

// BenchmarkDeltaApply restores a full snapshot plus 500 000 delta events (in deltas of 10 000) and reports the
// replay rate. The result is judged like every restore in TestRestoreSyntheticChain (same generator).
func BenchmarkDeltaApply(b *testing.B) {
	ch := restoretest.SyntheticChain(b, 1000, 500000, 10000, 100)
	ctx := context.Background()
	st, cat := testenv.OpenCatalog(b, ctx, "file://"+ch.Store)
	r, err := pick.Pick(cat, pick.Config{})
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	var dataDir string
	for i := 0; i < b.N; i++ {
		dataDir = filepath.Join(b.TempDir(), "etcd")
		var apply time.Duration // the replay alone, as its meter saw it
		seen := progress.Func(func(u progress.Update) {
			if u.Phase == "apply" && u.Finished {
				apply = u.Elapsed
			}
		})
		res, err := restore.Restore(ctx, st, r, restore.Config{DataDir: dataDir, Progress: seen})
		if err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(float64(res.EventsApplied)/res.Seconds, "events/s")
		b.ReportMetric(float64(res.EventsApplied)/apply.Seconds(), "apply-events/s")
		b.ReportMetric(res.Seconds, "s/restore")
	}
	b.StopTimer()
	// The fast path must pass the same judge as every restore: the real etcd serving the computed state.
	restoretest.Judge(b, testenv.Binary(b, "etcd"), dataDir, restore.DefaultName, ch.Revision, ch.State)
}

// BenchmarkRestoreFullSnapshot1GiB runs etcd-dr restore of a ~1 GiB full snapshot (no deltas) and etcdutl snapshot
// restore of the same file, side by side, taking turns; it reports both and their ratio (the issue asks <= 1.1).
func BenchmarkRestoreFullSnapshot1GiB(b *testing.B) {
	etcdutl := testenv.Binary(b, "etcdutl")
	dir := b.TempDir()
	storeDir := filepath.Join(dir, "store")
	rev := restoretest.LargeSnapshot(b, storeDir, 1<<30)
	ctx := context.Background()
	_, cat := testenv.OpenCatalog(b, ctx, "file://"+storeDir)
	r, err := pick.Pick(cat, pick.Config{})
	if err != nil {
		b.Fatal(err)
	}
	if r.Revision != rev {
		b.Fatalf("picked revision %d, want %d", r.Revision, rev)
	}
	snapFile := filepath.Join(storeDir, r.Objects[0])
	b.ResetTimer()
	var ours, theirs time.Duration
	// Both as the processes an SRE runs: the etcd-dr binary (catalog, pick, restore, checks) and etcdutl.
	bin := filepath.Join(dir, "etcd-dr")
	if o, err := exec.Command("go", "build", "-o", bin, "github.com/etcd-dr/etcd-dr/cmd/etcd-dr").CombinedOutput(); err != nil {
		b.Fatalf("build etcd-dr: %v %s", err, o)
	}
	runOurs := func(i int) {
		out := filepath.Join(dir, fmt.Sprintf("ours-%d", i))
		syscall.Sync()
		t0 := time.Now()
		if o, err := exec.Command(bin, "restore", "--store", "file://"+storeDir, "--data-dir", out).CombinedOutput(); err != nil {
			b.Fatalf("etcd-dr: %v %s", err, o)
		}
		ours += time.Since(t0)
		b.Logf("etcd-dr %d: %v", i, time.Since(t0))
		os.RemoveAll(out)
	}
	runTheirs := func(i int) {
		out := filepath.Join(dir, fmt.Sprintf("etcdutl-%d", i))
		syscall.Sync()
		t0 := time.Now()
		if o, err := exec.Command(etcdutl, "snapshot", "restore", snapFile, "--data-dir", out).CombinedOutput(); err != nil {
			b.Fatalf("etcdutl: %v %s", err, o)
		}
		theirs += time.Since(t0)
		b.Logf("etcdutl %d: %v", i, time.Since(t0))
		os.RemoveAll(out)
	}
	warmUp(runOurs, runTheirs, func() { ours, theirs = 0, 0 })
	takeTurns(b.N, runOurs, runTheirs)
	b.ReportMetric(ours.Seconds()/float64(b.N), "s/restore")
	b.ReportMetric(theirs.Seconds()/float64(b.N), "s/etcdutl")
	b.ReportMetric(ours.Seconds()/theirs.Seconds(), "ratio")
}

// BenchmarkRestoreChainVsEtcdbrctl restores one etcd-backup-restore v2 chain (a full snapshot plus 200 000 delta
// events, in deltas of 10 000) with the etcd-dr binary and with gardener's etcdbrctl v0.40.0, side by side, taking
// turns; it reports each one's time and own peak RSS (VmHWM) and the ratio of times. DESIGN.md's figure to beat: etcdbrctl,
// about 29 s for 200 000 events, 240 MB. Both data dirs are judged by a real etcd serving the chain's state
// (etcdbrctl's with the leases of delta-written keys dropped, as it replays deltas without them). The chain's
// full snapshot is of etcd 3.5: etcdbrctl cannot restore a 3.6 one at all.
func BenchmarkRestoreChainVsEtcdbrctl(b *testing.B) {
	etcdbrctl := testenv.Binary(b, "etcdbrctl")
	etcd35 := testenv.Binary(b, "etcd-3.5")
	// etcdbrctl v0.40 restores with etcd 3.4's libraries, which refuse a 3.6 snapshot ("unsupported storage
	// version"): the chain's full snapshot comes from a real etcd 3.5.
	ch := restoretest.SyntheticChainOf(b, testenv.StartCluster(b, etcd35, 1).Client(b), 1000, 200000, 10000, 100)
	dir := b.TempDir()
	bin := filepath.Join(dir, "etcd-dr")
	if o, err := exec.Command("go", "build", "-o", bin, "github.com/etcd-dr/etcd-dr/cmd/etcd-dr").CombinedOutput(); err != nil {
		b.Fatalf("build etcd-dr: %v %s", err, o)
	}
	run := func(name string, cmd *exec.Cmd) (time.Duration, int64) {
		syscall.Sync()
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		t0 := time.Now()
		// Each child's own VmHWM: rusage would charge it this benchmark's high-water mark from before its exec.
		rss, err := testenv.RunPeakRSS(cmd)
		if err != nil {
			b.Fatalf("%s: %v %s", name, err, out.Bytes())
		}
		d := time.Since(t0)
		b.Logf("%s: %v, peak RSS %d MiB", name, d, rss>>20)
		return d, rss
	}
	var ours, theirs time.Duration
	var oursRSS, theirsRSS int64
	var oursDir, theirsDir string
	runOurs := func(i int) {
		oursDir = filepath.Join(dir, fmt.Sprintf("ours-%d", i))
		d, rss := run("etcd-dr", exec.Command(bin, "restore", "--store", "file://"+ch.Store, "--data-dir", oursDir))
		ours += d
		oursRSS = max(oursRSS, rss)
	}
	runTheirs := func(i int) {
		theirsDir = filepath.Join(dir, fmt.Sprintf("etcdbrctl-%d", i))
		work := filepath.Join(dir, fmt.Sprintf("etcdbrctl-work-%d", i))
		// etcdbrctl's Local provider reads <$HOME>/<container>/v2.
		cmd := exec.Command(etcdbrctl, "restore", "--data-dir", theirsDir,
			"--storage-provider", "Local", "--store-container", filepath.Base(ch.Store),
			"--snapstore-temp-directory", filepath.Join(work, "snapstore"),
			"--restoration-temp-snapshots-dir", filepath.Join(work, "restoration"))
		cmd.Env = append(os.Environ(), "HOME="+filepath.Dir(ch.Store))
		d, rss := run("etcdbrctl", cmd)
		theirs += d
		theirsRSS = max(theirsRSS, rss)
	}
	b.ResetTimer()
	takeTurns(b.N, runOurs, runTheirs)
	b.StopTimer()
	b.ReportMetric(ours.Seconds()/float64(b.N), "s/etcd-dr")
	b.ReportMetric(theirs.Seconds()/float64(b.N), "s/etcdbrctl")
	b.ReportMetric(ours.Seconds()/theirs.Seconds(), "ratio")
	b.ReportMetric(float64(oursRSS>>20), "MiB-RSS/etcd-dr")
	b.ReportMetric(float64(theirsRSS>>20), "MiB-RSS/etcdbrctl")
	restoretest.Judge(b, etcd35, oursDir, restore.DefaultName, ch.Revision, ch.State)
	restoretest.Judge(b, etcd35, theirsDir, "default", ch.Revision, restoretest.WithoutDeltaLeases(ch.State, ch.FullRevision))
}

// warmUp runs each contender once before the rounds that count, then reset clears what they recorded. The first
// run after a GiB-sized fixture was written (or an earlier round's removed) pays for that file system work: here,
// ext4 mounted with discard, the first etcd-dr run of each round took 3.97-4.58 s against 2.23-2.28 s after.
func warmUp(ours, theirs func(round int), reset func()) {
	ours(-1)
	theirs(-1)
	reset()
}

// takeTurns runs n rounds of two contenders, alternating which goes first, so that page cache and writeback
// favour neither.
func takeTurns(n int, ours, theirs func(round int)) {
	for i := 0; i < n; i++ {
		if i%2 == 0 {
			ours(i)
			theirs(i)
		} else {
			theirs(i)
			ours(i)
		}
	}
}
