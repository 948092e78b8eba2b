package compact

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"time"

	"github.com/coreos/go-semver/semver"
	bolt "go.etcd.io/bbolt"
	"go.etcd.io/etcd/pkg/v3/traceutil"
	"go.etcd.io/etcd/server/v3/lease"
	"go.etcd.io/etcd/server/v3/storage/backend"
	"go.etcd.io/etcd/server/v3/storage/mvcc"
	"go.uber.org/zap"

	"github.com/etcd-dr/etcd-dr/engine/fault"
)

// folded is what fold did to a db.
type folded struct {
	keys          int64
	before, after int64 // db file bytes before compaction and after defragmentation
}

// fold compacts the db at path to rev and defragments it, with etcd's own storage code: the mvcc compaction and
// the backend defragmentation an etcd server runs for Compact(rev, physical) and Defragment, which is what
// etcd-backup-restore's compactor asks of the embedded etcd it starts. No server runs: a server of this build's
// etcd would raise the db's storage version, which etcd 3.5 and etcdbrctl then refuse to restore; the storage
// code keeps the db's format as the chain wrote it. The state at rev (every key's value, create and mod
// revision, version and lease) is digested before and after and must come out the same.
func fold(ctx context.Context, path string, rev int64, lg *zap.Logger) (out folded, err error) {
	// bbolt and the backend panic on a file they cannot open; check it here to fail with an error instead.
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: 5 * time.Second})
	if err != nil {
		return out, fmt.Errorf("open restored db %s: %w", path, err)
	}
	if err := db.Close(); err != nil {
		return out, err
	}
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("compact restored db %s: etcd's storage failed: %v", path, p)
		}
	}()
	be := backend.New(backend.BackendConfig{
		Path:          path,
		BatchInterval: time.Second,
		BatchLimit:    10000,
		MmapSize:      backend.InitialMmapSize,
		Logger:        lg,
		UnsafeNoFsync: true, // a scratch file, read back in full by the upload and checked by its trailer
	})
	out.before = be.Size()
	// The lessor only loads the leases the keys are attached to: never promoted, it expires and revokes nothing.
	les := lease.NewLessor(lg, be, noCluster{}, lease.LessorConfig{MinLeaseTTL: 1})
	defer les.Stop()
	// One compaction batch and no pause between batches: a server pauses to keep serving; nothing is served here.
	kv := mvcc.NewStore(lg, be, les, mvcc.StoreConfig{CompactionBatchLimit: 1 << 30, CompactionSleepInterval: time.Nanosecond})
	closed := false
	defer func() {
		if !closed {
			kv.Close()
			be.Close()
		}
	}()
	if got := kv.Rev(); got != rev {
		return out, fault.Problems("the restored db %s is at revision %d, not %d", path, got, rev)
	}
	want, n, err := digest(ctx, kv, rev)
	if err != nil {
		return out, fmt.Errorf("read the restored state at revision %d: %w", rev, err)
	}
	done, err := kv.Compact(traceutil.TODO(), rev)
	switch {
	case errors.Is(err, mvcc.ErrCompacted):
		// Already compacted at rev (a restored revision bump marks it so): nothing older is left to drop.
	case err != nil:
		return out, fmt.Errorf("compact the restored db at revision %d: %w", rev, err)
	default:
		select {
		case <-done:
		case <-ctx.Done():
			return out, ctx.Err()
		}
	}
	if err := be.Defrag(); err != nil {
		return out, fmt.Errorf("defragment the compacted db %s: %w", path, err)
	}
	got, m, err := digest(ctx, kv, rev)
	if err != nil {
		return out, fmt.Errorf("read the compacted state at revision %d: %w", rev, err)
	}
	if got != want || m != n || kv.Rev() != rev {
		return out, fmt.Errorf("compaction changed the state at revision %d (%d keys before, %d after; store at revision %d): not uploaded", rev, n, m, kv.Rev())
	}
	closed = true
	if err := kv.Close(); err != nil {
		be.Close()
		return out, err
	}
	be.ForceCommit()
	out.after = be.Size()
	if err := be.Close(); err != nil {
		return out, fmt.Errorf("write the compacted db %s: %w", path, err)
	}
	out.keys = n
	return out, nil
}

// noCluster answers the lessor's question about the cluster version, asked only to persist checkpoints, which a
// lessor that is never primary does not make.
type noCluster struct{}

func (noCluster) Version() *semver.Version { return nil }

// digestPage is how many keys digest reads at a time (bounded memory for any keyspace).
const digestPage = 10000

// digest hashes every key at rev with its value, create and mod revision, version and lease, in key order.
func digest(ctx context.Context, kv mvcc.KV, rev int64) ([sha256.Size]byte, int64, error) {
	var sum [sha256.Size]byte
	h := sha256.New()
	var n int64
	start := []byte{0}
	for {
		if err := ctx.Err(); err != nil {
			return sum, n, err
		}
		// A non-nil empty end means every key from start on (etcd's "\x00" range end).
		res, err := kv.Range(ctx, start, []byte{}, mvcc.RangeOptions{Rev: rev, Limit: digestPage})
		if err != nil {
			return sum, n, err
		}
		for _, k := range res.KVs {
			writeField(h, k.Key)
			writeField(h, k.Value)
			for _, v := range []int64{k.CreateRevision, k.ModRevision, k.Version, k.Lease} {
				binary.Write(h, binary.BigEndian, v)
			}
		}
		n += int64(len(res.KVs))
		if len(res.KVs) < digestPage {
			copy(sum[:], h.Sum(nil))
			return sum, n, nil
		}
		last := res.KVs[len(res.KVs)-1].Key
		start = append(append([]byte(nil), last...), 0)
	}
}

func writeField(h hash.Hash, b []byte) {
	binary.Write(h, binary.BigEndian, int64(len(b)))
	h.Write(b)
}
