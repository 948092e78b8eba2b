package compact

import (
	"cmp"
	"fmt"
	"path/filepath"
	"slices"
	"testing"

	"github.com/coreos/go-semver/semver"
	"github.com/stretchr/testify/require"
	"go.etcd.io/etcd/api/v3/mvccpb"
	"go.etcd.io/etcd/pkg/v3/traceutil"
	"go.etcd.io/etcd/server/v3/lease"
	"go.etcd.io/etcd/server/v3/storage/backend"
	"go.etcd.io/etcd/server/v3/storage/mvcc"
	"go.uber.org/zap"
)

// historyDB writes a db with etcd's own store: keys put, overwritten (some in one transaction), deleted and put
// again, at the end revision it returns, with the state read through its index.
func historyDB(t *testing.T) (string, int64, folded) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "db")
	be := backend.NewDefaultBackend(zap.NewNop(), path)
	les := lease.NewLessor(zap.NewNop(), be, noCluster{}, lease.LessorConfig{MinLeaseTTL: 1})
	defer les.Stop()
	kv := mvcc.NewStore(zap.NewNop(), be, les, mvcc.StoreConfig{})
	for round := 0; round < 5; round++ {
		for i := 0; i < 40; i++ {
			txn := kv.Write(traceutil.TODO())
			key := fmt.Sprintf("/k/%03d", i)
			switch {
			case i%7 == 3 && round%2 == 1:
				txn.DeleteRange([]byte(key), nil)
			case i%5 == 0:
				txn.Put([]byte(key), fmt.Appendf(nil, "v%d", round), lease.NoLease)
				txn.Put([]byte(key+"/sub"), fmt.Appendf(nil, "s%d", round), lease.NoLease)
			default:
				txn.Put([]byte(key), fmt.Appendf(nil, "v%d", round), lease.NoLease)
			}
			txn.End()
		}
	}
	rev := kv.Rev()
	f, err := readLive(t.Context(), kv, be, rev)
	require.NoError(t, err)
	require.NoError(t, kv.Close())
	require.NoError(t, be.Close())
	return path, rev, f
}

// noCluster answers the lessor's question about the cluster version, asked only to persist checkpoints.
type noCluster struct{}

func (noCluster) Version() *semver.Version { return nil }

// rewrite keeps each live key's record and nothing else; the result opens in etcd's store at rev, compacted
// there, serving the same state; verify accepts it.
func TestRewriteKeepsTheStateAtRev(t *testing.T) {
	src, rev, f := historyDB(t)
	require.Greater(t, f.state.keys, int64(40), "keys and sub keys live")
	dst := filepath.Join(t.TempDir(), "compacted")
	require.NoError(t, rewrite(t.Context(), src, dst, rev, f.live))
	require.NoError(t, verify(t.Context(), dst, rev, f.state))

	be := backend.NewDefaultBackend(zap.NewNop(), dst)
	defer be.Close()
	kv := mvcc.NewStore(zap.NewNop(), be, nil, mvcc.StoreConfig{})
	defer kv.Close()
	require.Equal(t, rev, kv.Rev())
	got, err := stateAt(t.Context(), kv, rev, func(*mvccpb.KeyValue) {})
	require.NoError(t, err)
	require.Equal(t, f.state, got, "etcd's store serves the state the source served")
	_, err = kv.Range(t.Context(), []byte("/k/001"), nil, mvcc.RangeOptions{Rev: rev - 1})
	require.ErrorIs(t, err, mvcc.ErrCompacted, "history before rev is gone and the db says so")
	require.Less(t, be.Size(), f.before, "smaller than the db with its history")

	// Read in pages of 2 to 5 keys, the state comes out the same, every key once, in key order.
	var keys []string
	paged, err := statePaged(t.Context(), kv, rev, paging{bytes: 1, first: 3, min: 2, max: 5}, func(kv *mvccpb.KeyValue) { keys = append(keys, string(kv.Key)) })
	require.NoError(t, err)
	require.Equal(t, f.state, paged)
	require.Len(t, keys, int(f.state.keys))
	require.True(t, slices.IsSorted(keys) && len(slices.Compact(slices.Clone(keys))) == len(keys), "%v", keys)
}

// verify refuses a db that differs from the state it was given: history left in (the source itself), a key's
// older record kept, a key dropped.
func TestVerifyRefusesAnotherState(t *testing.T) {
	src, rev, f := historyDB(t)
	err := verify(t.Context(), src, rev, f.state)
	require.ErrorContains(t, err, "left history")

	// The key's record of the round before (40 revisions a round) kept instead of its own, and a key dropped.
	older := slices.Clone(f.live)
	older[len(older)-1].rev -= 40
	slices.SortFunc(older, func(a, b liveKey) int { return cmp.Compare(a.rev, b.rev) })
	cases := map[string][]liveKey{"an older record kept": older, "a key dropped": f.live[1:]}
	for name, live := range cases {
		t.Run(name, func(t *testing.T) {
			dst := filepath.Join(t.TempDir(), "compacted")
			require.NoError(t, rewrite(t.Context(), src, dst, rev, live))
			err := verify(t.Context(), dst, rev, f.state)
			require.ErrorContains(t, err, "does not hold the state the chain restored to")
			require.ErrorContains(t, err, "not uploaded")
		})
	}
}
