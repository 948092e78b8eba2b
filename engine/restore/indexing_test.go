package restore

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"path/filepath"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"
	"go.etcd.io/etcd/api/v3/mvccpb"
	"go.etcd.io/etcd/pkg/v3/traceutil"
	"go.etcd.io/etcd/server/v3/lease"
	"go.etcd.io/etcd/server/v3/storage/backend"
	"go.etcd.io/etcd/server/v3/storage/mvcc"
	"go.etcd.io/etcd/server/v3/storage/schema"
	"go.uber.org/zap"
)

// history writes into a new db keys with values small and large, second versions, deletions (tombstones),
// keys on leases, a deleted-and-recreated key and a compaction, and returns the db's path and its leases.
func history(t *testing.T) (string, []lease.LeaseID) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "db")
	be := backend.NewDefaultBackend(zap.NewNop(), path)
	les := lease.NewLessor(zap.NewNop(), be, clusterVersion{}, lease.LessorConfig{MinLeaseTTL: 1})
	kv := mvcc.NewStore(zap.NewNop(), be, les, mvcc.StoreConfig{})
	ids := []lease.LeaseID{0x10, 0x20}
	for _, id := range ids {
		_, err := les.Grant(id, 600)
		require.NoError(t, err)
	}
	for i := range 200 {
		val := bytes.Repeat([]byte{byte('a' + i%26)}, 10+i*i*5) // up to ~200 KiB, over bbolt's page size
		kv.Put(fmt.Appendf(nil, "/k/%03d", i%70), val, ids[i%3%2]*lease.LeaseID(i%3/2))
		if i%17 == 0 {
			kv.DeleteRange(fmt.Appendf(nil, "/k/%03d", (i+5)%70), nil)
		}
		if i == 120 {
			_, err := kv.Compact(traceutil.TODO(), kv.Rev()-30)
			require.NoError(t, err)
		}
	}
	kv.DeleteRange([]byte("/k/000"), nil)
	kv.Put([]byte("/k/000"), []byte("again"), 0)
	require.NoError(t, kv.Close())
	les.Stop()
	be.ForceCommit()
	require.NoError(t, be.Close())
	return path, ids
}

// The store built through indexingBackend is etcd's store built directly: same revisions, compaction, keys,
// versions, values and lease attachments at every revision still readable.
func TestIndexingBackendBuildsTheSameStore(t *testing.T) {
	path, ids := history(t)
	open := func(indexing bool) (mvcc.KV, lease.Lessor, func()) {
		be := backend.NewDefaultBackend(zap.NewNop(), path)
		les := lease.NewLessor(zap.NewNop(), be, clusterVersion{}, lease.LessorConfig{MinLeaseTTL: 1})
		var b backend.Backend = be
		var ib *indexingBackend
		if indexing {
			ib = &indexingBackend{Backend: be}
			ib.building.Store(true)
			b = ib
		}
		kv := mvcc.NewStore(zap.NewNop(), b, les, mvcc.StoreConfig{})
		if ib != nil {
			ib.building.Store(false)
		}
		return kv, les, func() { kv.Close(); les.Stop(); be.Close() }
	}
	state := func(indexing bool) string {
		kv, les, done := open(indexing)
		defer done()
		var out bytes.Buffer
		fmt.Fprintf(&out, "rev %d\n", kv.Rev())
		for rev := kv.Rev(); ; rev-- {
			r, err := kv.Range(context.Background(), []byte{0}, []byte{}, mvcc.RangeOptions{Rev: rev})
			if err != nil {
				fmt.Fprintf(&out, "rev %d: %v\n", rev, err) // the compacted revision ends the walk
				break
			}
			for _, e := range r.KVs {
				fmt.Fprintf(&out, "%d %s c%d m%d v%d l%x %x\n", rev, e.Key, e.CreateRevision, e.ModRevision, e.Version, e.Lease, sha256.Sum256(e.Value))
			}
		}
		for _, id := range ids {
			keys := les.Lookup(id).Keys() // from a map: in no order
			slices.Sort(keys)
			fmt.Fprintf(&out, "lease %x: %v\n", id, keys)
		}
		return out.String()
	}
	direct, indexed := state(false), state(true)
	require.Contains(t, direct, "compacted")
	require.Contains(t, direct, "lease 10: [")
	require.Equal(t, direct, indexed)
}

// While building, the key bucket reads come with the values cut and everything else as stored; after, as stored.
func TestIndexingBackendCutsValuesWhileBuilding(t *testing.T) {
	path, _ := history(t)
	be := backend.NewDefaultBackend(zap.NewNop(), path)
	defer be.Close()
	ib := &indexingBackend{Backend: be}
	read := func() [][]byte {
		tx := ib.ReadTx()
		tx.RLock()
		defer tx.RUnlock()
		_, vals := tx.UnsafeRange(schema.Key, mvcc.NewRevBytes(), []byte{0xff}, 0)
		return vals
	}
	full := read()
	ib.building.Store(true)
	cut := read()
	ib.building.Store(false)
	require.Equal(t, full, read())
	require.Len(t, cut, len(full))
	require.Greater(t, len(full), 150) // 200 puts, deletes, less what the compaction removed
	for i := range full {
		var want, got mvccpb.KeyValue
		require.NoError(t, want.Unmarshal(full[i]))
		require.NoError(t, got.Unmarshal(cut[i]))
		require.Empty(t, got.Value)
		want.Value = nil
		require.Equal(t, want, got)
		require.LessOrEqual(t, len(cut[i]), 40)
	}
}

// A value that does not parse is passed on whole, for etcd's own unmarshal to judge.
func TestWithoutValueLeavesWhatDoesNotParse(t *testing.T) {
	kv := mvccpb.KeyValue{Key: []byte("k"), Value: []byte("value"), CreateRevision: 3, ModRevision: 4, Version: 2, Lease: 7}
	b, err := kv.Marshal()
	require.NoError(t, err)
	for _, bad := range [][]byte{b[:len(b)-3], {0xff}, {0x2a, 0x80}} {
		require.Equal(t, bad, withoutValue(bad))
	}
	var got mvccpb.KeyValue
	require.NoError(t, got.Unmarshal(withoutValue(b)))
	kv.Value = nil
	require.Equal(t, kv, got)
	empty := mvccpb.KeyValue{Key: []byte("k"), ModRevision: 1}
	e, err := empty.Marshal()
	require.NoError(t, err)
	require.Equal(t, e, withoutValue(e))
}
