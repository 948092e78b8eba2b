package restoretest

import (
	"crypto/sha256"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"

	"go.etcd.io/etcd/pkg/v3/traceutil"
	"go.etcd.io/etcd/server/v3/lease"
	"go.etcd.io/etcd/server/v3/storage/backend"
	"go.etcd.io/etcd/server/v3/storage/mvcc"
	"go.uber.org/zap"

	"github.com/etcd-dr/etcd-dr/internal/fixture"
)

// LargeSnapshot writes into storeDir an etcd-operator style full snapshot of about size bytes and returns its
// revision. The db is written by etcd's own storage code (mvcc over bbolt, as the server writes it; 512 KiB values)
// and carries etcd's sha256 trailer, so it is what Maintenance.Snapshot of such a server streams, without pushing
// a GiB through gRPC first.
func LargeSnapshot(t testing.TB, storeDir string, size int64) int64 {
	t.Helper()
	db := filepath.Join(t.TempDir(), "db")
	be := backend.New(backend.BackendConfig{Path: db, BatchInterval: 0, BatchLimit: 10000, MmapSize: uint64(size) + 1<<28, Logger: zap.NewNop(), UnsafeNoFsync: true})
	kv := mvcc.NewStore(zap.NewNop(), be, &lease.FakeLessor{}, mvcc.StoreConfig{})
	const valueSize = 512 << 10
	value := make([]byte, valueSize)
	for i := range value {
		value[i] = byte(i*7 + i/251)
	}
	for i := int64(0); i < size/valueSize; i++ {
		txn := kv.Write(traceutil.TODO())
		value[0], value[1] = byte(i), byte(i>>8)
		txn.Put([]byte(fmt.Sprintf("/registry/configmaps/big-%06d", i)), value, lease.NoLease)
		txn.End()
	}
	rev := kv.Rev()
	if err := kv.Close(); err != nil {
		t.Fatal(err)
	}
	be.ForceCommit()
	if err := be.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(storeDir, 0o755); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(storeDir, fixture.OperatorKey("3.6.16", rev))
	if err := appendTrailer(db, out); err != nil {
		t.Fatal(err)
	}
	return rev
}

// appendTrailer copies a db file to out with etcd's snapshot sha256 appended.
func appendTrailer(db, out string) error {
	src, err := os.Open(db)
	if err != nil {
		return err
	}
	defer src.Close()
	dst, err := os.Create(out)
	if err != nil {
		return err
	}
	defer dst.Close()
	h := sha256.New()
	if _, err := io.Copy(io.MultiWriter(dst, h), src); err != nil {
		return err
	}
	if _, err := dst.Write(h.Sum(nil)); err != nil {
		return err
	}
	return dst.Close()
}
