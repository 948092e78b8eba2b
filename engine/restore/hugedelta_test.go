package restore_test

import (
	"bufio"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/klauspost/compress/gzip"

	"github.com/etcd-dr/etcd-dr/engine/restore"
	"github.com/etcd-dr/etcd-dr/internal/fixture"
	"github.com/etcd-dr/etcd-dr/internal/testenv"
)

// hugeDeltaRSSBound is the restore's peak RSS allowed on top of its db file (bbolt maps it).
const hugeDeltaRSSBound = 256 << 20

// Environment of the restore child that TestRestoreHugeDeltaPeakRSS runs (this test binary, re-executed), so the
// peak read is the restore's own, not this test process's.
const (
	hugeStoreEnv = "ETCD_DR_HUGE_DELTA_STORE"
	hugeDirEnv   = "ETCD_DR_HUGE_DELTA_DATADIR"
)

// A chain whose one delta holds 1 GiB of JSON (1024 puts of 768 KiB values) restores with the restore's own
// peak RSS (VmHWM of the child) under a constant plus the db file that bbolt maps: a delta is never held whole.
func TestRestoreHugeDeltaPeakRSS(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and restores a 1 GiB delta")
	}
	if raceBuild {
		t.Skip("the peak under -race is the race detector's; make test runs this test without -race")
	}
	start := time.Now()
	dir := testenv.CopyStore(t, fixture.StoreBRv1)
	const events, valueSize = 1024, 768 << 10
	// gzip, as a watch's deltas are stored
	key := fmt.Sprintf("v1/Backup-1763900840/Incr-00000196-%08d-1763900960.gz", 196+events-1)
	jsonBytes := writeHugeDelta(t, filepath.Join(dir, filepath.FromSlash(key)), 196, events, valueSize)
	dataDir := filepath.Join(t.TempDir(), "etcd")
	built := time.Since(start)

	cmd := exec.Command(os.Args[0], "-test.run=^TestRestoreHugeDeltaChild$", "-test.count=1")
	cmd.Env = append(os.Environ(), hugeStoreEnv+"="+dir, hugeDirEnv+"="+dataDir)
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	peak, err := testenv.RunPeakRSS(cmd)
	if err != nil {
		t.Fatalf("restore child: %v\n%s", err, out.String())
	}
	db, err := os.Stat(filepath.Join(dataDir, "member", "snap", "db"))
	if err != nil {
		t.Fatalf("restored db: %v", err)
	}
	t.Logf("delta of %d MiB JSON built in %v; restore child took %v: peak RSS %d MiB, db %d MiB (bound %d MiB + db)",
		jsonBytes>>20, built.Round(time.Millisecond), (time.Since(start) - built).Round(time.Millisecond), peak>>20, db.Size()>>20, hugeDeltaRSSBound>>20)
	if peak > hugeDeltaRSSBound+db.Size() {
		t.Errorf("restore peak RSS %d MiB, want < %d MiB + the db's %d MiB", peak>>20, hugeDeltaRSSBound>>20, db.Size()>>20)
	}
}

// TestRestoreHugeDeltaChild is the restore that TestRestoreHugeDeltaPeakRSS measures; alone it does nothing.
func TestRestoreHugeDeltaChild(t *testing.T) {
	dir, dataDir := os.Getenv(hugeStoreEnv), os.Getenv(hugeDirEnv)
	if dir == "" {
		t.Skip("run by TestRestoreHugeDeltaPeakRSS")
	}
	res, err := restoreFrom(t, "file://"+dir, 0, restore.Config{DataDir: dataDir})
	if err != nil {
		t.Fatalf("restore of the 1 GiB delta chain: %v", err)
	}
	if want := int64(196 + 1024 - 1); res.Revision != want {
		t.Fatalf("restored revision %d, want %d", res.Revision, want)
	}
}

// writeHugeDelta streams a gzip delta of events puts of new keys, one per revision from rev, each with a value of
// valueSize bytes, to path, never holding more than one value; it returns the size of the JSON.
func writeHugeDelta(t *testing.T, path string, rev int64, events, valueSize int) int64 {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zw, err := gzip.NewWriterLevel(f, gzip.BestSpeed)
	if err != nil {
		t.Fatal(err)
	}
	bw := bufio.NewWriterSize(zw, 1<<20)
	h := sha256.New()
	cw := &countWriter{w: bw, h: h}
	value := base64.StdEncoding.EncodeToString([]byte(strings.Repeat("v", valueSize)))
	for i := range events {
		sep := ","
		if i == 0 {
			sep = "["
		}
		r := rev + int64(i)
		k := base64.StdEncoding.EncodeToString(fmt.Appendf(nil, "/huge/%06d", i))
		fmt.Fprintf(cw, `%s{"etcdEvent":{"kv":{"key":"%s","create_revision":%d,"mod_revision":%d,"version":1,"value":"%s"}},"time":"2026-01-02T03:04:05Z"}`, sep, k, r, r, value)
	}
	fmt.Fprint(cw, "]")
	if _, err := bw.Write(h.Sum(nil)); err != nil {
		t.Fatal(err)
	}
	if err := bw.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return cw.n
}

// countWriter writes to w and hashes and counts what it writes.
type countWriter struct {
	w interface{ Write([]byte) (int, error) }
	h interface{ Write([]byte) (int, error) }
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	c.h.Write(p)
	c.n += int64(len(p))
	return c.w.Write(p)
}
