package restoretest

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"go.etcd.io/etcd/pkg/v3/traceutil"
	"go.etcd.io/etcd/server/v3/lease"
	"go.etcd.io/etcd/server/v3/storage/backend"
	"go.etcd.io/etcd/server/v3/storage/mvcc"
	"go.uber.org/zap"

	"github.com/etcd-dr/etcd-dr/engine/format"
)

// WriteDelta writes body with its sha256 trailer, compressed with c, at path: a delta as etcd-backup-restore
// writes it (body "[]" is an empty one).
func WriteDelta(t testing.TB, path string, c format.Compression, body []byte) {
	t.Helper()
	sum := sha256.Sum256(body)
	var buf bytes.Buffer
	w, err := format.NewCompressor(&buf, c)
	if err != nil {
		t.Fatal(err)
	}
	w.Write(body)
	w.Write(sum[:])
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

// WriteBomb writes at path a gzip delta of revision rev whose one value inflates to size bytes: about size/1000
// bytes stored (1 MiB for 1 GiB). Its trailer is never reached by a reader that bounds what it inflates.
func WriteBomb(t testing.TB, path string, rev int64, size int64) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zw, err := format.NewCompressor(f, format.Gzip)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(zw, `[{"etcdEvent":{"kv":{"key":"L2E=","create_revision":%d,"mod_revision":%d,"version":1,"value":"`, rev, rev)
	chunk := bytes.Repeat([]byte("QUFB"), 1<<18)
	for n := int64(0); n < size; n += int64(len(chunk)) {
		if _, err := zw.Write(chunk); err != nil {
			t.Fatal(err)
		}
	}
	fmt.Fprint(zw, `"}},"time":"2026-01-02T03:04:05Z"}]`)
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
}

// PeakHeap runs fn and returns by how much the heap in use grew at most while it ran (sampled every 2 ms), and
// the bytes allocated in all.
func PeakHeap(fn func()) (peak, allocated uint64) {
	runtime.GC()
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	stop, done := make(chan struct{}), make(chan uint64)
	go func() {
		var max uint64
		var ms runtime.MemStats
		tick := time.NewTicker(2 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				done <- max
				return
			case <-tick.C:
				runtime.ReadMemStats(&ms)
				if ms.HeapInuse > max {
					max = ms.HeapInuse
				}
			}
		}
	}()
	fn()
	close(stop)
	max := <-done
	var after runtime.MemStats
	runtime.ReadMemStats(&after)
	if max < before.HeapInuse {
		return 0, after.TotalAlloc - before.TotalAlloc
	}
	return max - before.HeapInuse, after.TotalAlloc - before.TotalAlloc
}

// WriteFullAt writes at path a small real full snapshot at revision rev (rev-1 puts over etcd's own storage code,
// sha256 trailer appended), compressed with c: for tests that need snapshots whose names tell the truth.
func WriteFullAt(t testing.TB, path string, rev int64, c format.Compression) {
	t.Helper()
	db := filepath.Join(t.TempDir(), "db")
	be := backend.New(backend.BackendConfig{Path: db, BatchInterval: 0, BatchLimit: 10000, MmapSize: 1 << 26, Logger: zap.NewNop(), UnsafeNoFsync: true})
	kv := mvcc.NewStore(zap.NewNop(), be, &lease.FakeLessor{}, mvcc.StoreConfig{})
	for kv.Rev() < rev {
		txn := kv.Write(traceutil.TODO())
		txn.Put([]byte(fmt.Sprintf("/registry/k-%d", kv.Rev()%7)), []byte("v"), lease.NoLease)
		txn.End()
	}
	if err := kv.Close(); err != nil {
		t.Fatal(err)
	}
	be.ForceCommit()
	if err := be.Close(); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(db)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(b)
	var buf bytes.Buffer
	w, err := format.NewCompressor(&buf, c)
	if err != nil {
		t.Fatal(err)
	}
	w.Write(b)
	w.Write(sum[:])
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}
