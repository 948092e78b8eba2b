package restore_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"go.etcd.io/etcd/api/v3/mvccpb"

	"github.com/etcd-dr/etcd-dr/engine/catalog"
	"github.com/etcd-dr/etcd-dr/engine/format"
	"github.com/etcd-dr/etcd-dr/internal/fixture"
	"github.com/etcd-dr/etcd-dr/internal/testenv"
	"github.com/etcd-dr/etcd-dr/internal/testkit/restoretest"
)

// BenchmarkRestoreBigChain restores an etcd-backup-restore v2 chain of a big full snapshot (ETCD_DR_BENCH_MB,
// default 1024; the figure is 8192, etcd's largest recommended quota) plus ETCD_DR_BENCH_EVENTS delta
// events (default 1 000 000, in deltas of 10 000) with the etcd-dr binary, and etcdutl snapshot restore of the
// same full snapshot, taking turns. It reports both times, etcd-dr's own peak RSS (VmHWM) and the replay rate
// the difference implies; the issue asks etcd-dr <= 1.1 x (etcdutl + events / 300 000 per s), reported as
// "ratio". Disk: about 4 x the db size (the store, the fixture's scratch db, one restored dir at a time).
func BenchmarkRestoreBigChain(b *testing.B) {
	mb, events := benchEnv(b, "ETCD_DR_BENCH_MB", 1024), benchEnv(b, "ETCD_DR_BENCH_EVENTS", 1000000)
	etcdutl := testenv.Binary(b, "etcdutl")
	dir := b.TempDir()
	storeDir := filepath.Join(dir, "store")
	t0 := time.Now()
	full, rev, keys := bigChain(b, storeDir, int64(mb)<<20, events)
	b.Logf("chain of a %d MiB full snapshot at revision %d and %d events built in %v", mb, rev, events, time.Since(t0).Round(time.Second))
	bin := filepath.Join(dir, "etcd-dr")
	if o, err := exec.Command("go", "build", "-o", bin, "github.com/etcd-dr/etcd-dr/cmd/etcd-dr").CombinedOutput(); err != nil {
		b.Fatalf("build etcd-dr: %v %s", err, o)
	}
	want := rev + int64(events)
	var ours, theirs, oursCPU time.Duration
	var oursRSS int64
	runOurs := func(i int) {
		out := filepath.Join(dir, fmt.Sprintf("ours-%d", i))
		var stdout, stderr bytes.Buffer
		cmd := exec.Command(bin, "restore", "--store", "file://"+storeDir, "--data-dir", out, "--non-interactive", "--output", "json")
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		syscall.Sync()
		start := time.Now()
		rss, err := testenv.RunPeakRSS(cmd)
		if err != nil {
			b.Fatalf("etcd-dr: %v %s", err, stderr.Bytes())
		}
		d := time.Since(start)
		var res struct {
			Revision      int64  `json:"revision"`
			EventsApplied int64  `json:"eventsApplied"`
			Keys          *int64 `json:"keys"`
		}
		if err := json.Unmarshal(stdout.Bytes(), &res); err != nil {
			b.Fatalf("etcd-dr output %q: %v", stdout.Bytes(), err)
		}
		// etcd's own store counted the keys and the revision after the replay; they must be the chain's.
		if res.Revision != want || res.EventsApplied != int64(events) || res.Keys == nil || *res.Keys != keys {
			b.Fatalf("etcd-dr restored revision %d, %d events, keys %v; want %d, %d, %d", res.Revision, res.EventsApplied, res.Keys, want, events, keys)
		}
		ours += d
		oursRSS = max(oursRSS, rss)
		// CPU time as well: on a shared machine the wall time says more about the neighbours.
		cpu := cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
		oursCPU += cpu
		b.Logf("etcd-dr %d: %v (CPU %v), peak RSS %d MiB", i, d.Round(time.Millisecond), cpu.Round(time.Millisecond), rss>>20)
		os.RemoveAll(out)
	}
	runTheirs := func(i int) {
		out := filepath.Join(dir, fmt.Sprintf("etcdutl-%d", i))
		syscall.Sync()
		start := time.Now()
		if o, err := exec.Command(etcdutl, "snapshot", "restore", full, "--data-dir", out).CombinedOutput(); err != nil {
			b.Fatalf("etcdutl: %v %s", err, o)
		}
		theirs += time.Since(start)
		b.Logf("etcdutl %d: %v", i, time.Since(start).Round(time.Millisecond))
		os.RemoveAll(out)
	}
	warmUp(runOurs, runTheirs, func() { ours, theirs, oursCPU, oursRSS = 0, 0, 0, 0 })
	b.ResetTimer()
	takeTurns(b.N, runOurs, runTheirs)
	b.StopTimer()
	n := float64(b.N)
	b.ReportMetric(ours.Seconds()/n, "s/etcd-dr")
	b.ReportMetric(theirs.Seconds()/n, "s/etcdutl")
	b.ReportMetric(oursCPU.Seconds()/n, "cpu-s/etcd-dr")
	b.ReportMetric(float64(oursRSS>>20), "MiB-RSS/etcd-dr")
	if replay := (ours - theirs).Seconds() / n; replay > 0 {
		b.ReportMetric(float64(events)/replay, "replay-events/s")
	}
	b.ReportMetric(ours.Seconds()/(theirs.Seconds()+n*float64(events)/300000), "ratio")
}

func benchEnv(b *testing.B, name string, def int) int {
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n <= 0 {
		b.Fatalf("%s=%q: want a positive number", name, v)
	}
	return n
}

// bigChain writes into storeDir a v2 chain: restoretest.LargeSnapshot's full snapshot of about size bytes, then
// events delta events continuing it (half new keys, half their second versions, 100-byte values). It returns the
// full snapshot's file, its revision and the number of keys after the last event.
func bigChain(b *testing.B, storeDir string, size int64, events int) (string, int64, int64) {
	scratch := filepath.Join(b.TempDir(), "operator")
	rev := restoretest.LargeSnapshot(b, scratch, size)
	clock := time.Unix(1763900000, 0).UTC()
	full := filepath.Join(storeDir, "v2", catalog.Name(catalog.Full, 0, rev, clock, format.None, false, false))
	if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
		b.Fatal(err)
	}
	if err := os.Rename(filepath.Join(scratch, fixture.OperatorKey("3.6.16", rev)), full); err != nil {
		b.Fatal(err)
	}
	baseKeys := size / (512 << 10) // LargeSnapshot's values are 512 KiB
	const perDelta = 10000
	value := bytes.Repeat([]byte("v"), 100)
	newKeys := (events + 1) / 2
	batch := make([]format.DeltaEvent, 0, perDelta)
	for i := 0; i < events; i += perDelta {
		batch = batch[:0]
		from := rev + int64(i) + 1
		for j := i; j < min(i+perDelta, events); j++ {
			r := rev + int64(j) + 1
			k := j % newKeys
			kv := &mvccpb.KeyValue{Key: fmt.Appendf(nil, "/registry/events/e-%07d", k), Value: value, CreateRevision: r, ModRevision: r, Version: 1}
			if j >= newKeys {
				kv.CreateRevision, kv.Version = rev+int64(k)+1, 2
			}
			batch = append(batch, format.DeltaEvent{EtcdEvent: &mvccpb.Event{Kv: kv}, Time: clock})
		}
		clock = clock.Add(time.Minute)
		to := rev + int64(i+len(batch))
		writeDeltaFile(b, filepath.Join(storeDir, "v2", catalog.Name(catalog.Delta, from, to, clock, format.None, false, false)), batch)
	}
	return full, rev, baseKeys + int64(newKeys)
}

func writeDeltaFile(b *testing.B, path string, events []format.DeltaEvent) {
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	bw := bufio.NewWriterSize(f, 1<<20)
	if _, err := format.WriteDelta(bw, events); err != nil {
		b.Fatal(err)
	}
	if err := bw.Flush(); err != nil {
		b.Fatal(err)
	}
	if err := f.Close(); err != nil {
		b.Fatal(err)
	}
}
