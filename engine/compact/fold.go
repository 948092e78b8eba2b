package compact

import (
	"bytes"
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"math/bits"
	"os"
	"slices"
	"time"

	bolt "go.etcd.io/bbolt"
	"go.etcd.io/etcd/api/v3/mvccpb"
	"go.etcd.io/etcd/server/v3/storage/backend"
	"go.etcd.io/etcd/server/v3/storage/mvcc"
	"go.etcd.io/etcd/server/v3/storage/schema"

	"github.com/etcd-dr/etcd-dr/engine/fault"
)

// liveKey is a key and its mod revision.
type liveKey struct {
	rev int64
	key string
}

// folded is what the replay's store held at the revision, read through etcd's index.
type folded struct {
	state stateSum
	// live is every key with its mod revision at the revision, in revision order: the records of the key bucket
	// that compaction keeps.
	live   []liveKey
	before int64 // db file bytes as the replay left them
}

// readLive reads the state at rev from the store the restore's replay built (restore.Config.AfterReplay),
// whose index is already in memory: loading the db into a store of its own cost as much as the compaction.
// It holds every live key and its mod revision, as etcd's own index does (and more) while it replays.
func readLive(ctx context.Context, kv mvcc.KV, be backend.Backend, rev int64) (out folded, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("read the restored db at revision %d: etcd's storage failed: %v", rev, p)
		}
	}()
	if got := kv.Rev(); got != rev {
		return out, fault.Problems("the restored db is at revision %d, not %d", got, rev)
	}
	// Pending writes committed first: every read of a backend with a write buffer copies the buffer.
	be.ForceCommit()
	out.before = be.Size()
	if out.state, err = stateAt(ctx, kv, rev, func(kv *mvccpb.KeyValue) { out.live = append(out.live, liveKey{kv.ModRevision, string(kv.Key)}) }); err != nil {
		return out, fmt.Errorf("read the restored state at revision %d: %w", rev, err)
	}
	// The key bucket's order (a transaction's keys share a revision: their order among themselves is free).
	slices.SortFunc(out.live, func(a, b liveKey) int { return cmp.Compare(a.rev, b.rev) })
	return out, nil
}

// isLive says whether key is among the live keys at the head of live that share revision main.
func isLive(live []liveKey, main int64, key []byte) bool {
	for _, l := range live {
		if l.rev != main {
			return false
		}
		if l.key == string(key) {
			return true
		}
	}
	return false
}

// rewriteLimit is how many records rewrite puts per bbolt transaction, as etcd's defragmentation does.
const rewriteLimit = 10000

// rewrite writes the db at src, compacted at rev and defragmented, into a new db file dst: what etcd's
// Compact(rev, physical) and Defragment leave of a db at revision rev (what etcd-backup-restore's compactor asks
// of the etcd it starts), in one pass. Every bucket is copied in key order into a fresh file, as etcd's
// defragmentation copies it, except the key bucket's history: a compaction at the db's own revision keeps
// exactly the record of each live key at its mod revision (live), and drops every older record and every
// deletion. The meta bucket records the compaction, as etcd's does. No etcd store or server runs: a server of
// this build's etcd would raise the db's storage version, which etcd 3.5 and etcdbrctl then refuse; the other
// buckets are copied byte for byte, so the db keeps the format the chain wrote. verify checks the result.
func rewrite(ctx context.Context, src, dst string, rev int64, live []liveKey) (err error) {
	in, err := bolt.Open(src, 0o400, &bolt.Options{ReadOnly: true, Timeout: 5 * time.Second})
	if err != nil {
		return fmt.Errorf("open the restored db %s: %w", src, err)
	}
	defer in.Close()
	// No fsync: a scratch file, read back in full by verify and the upload, which checks its sha256 trailer.
	out, err := bolt.Open(dst, 0o600, &bolt.Options{NoSync: true, NoFreelistSync: true, Timeout: 5 * time.Second})
	if err != nil {
		return fmt.Errorf("create the compacted db %s: %w", dst, err)
	}
	defer out.Close() // after a failure; closed below otherwise (a second Close does nothing)
	rtx, err := in.Begin(false)
	if err != nil {
		return fmt.Errorf("read the restored db %s: %w", src, err)
	}
	defer rtx.Rollback()
	wtx, err := out.Begin(true)
	if err != nil {
		return fmt.Errorf("write the compacted db %s: %w", dst, err)
	}
	defer func() {
		if wtx != nil {
			wtx.Rollback()
		}
	}()
	puts := 0
	var cur *bolt.Bucket // the bucket of the last put, in the current transaction
	var curName []byte
	put := func(bucket, k, v []byte) error {
		if puts++; puts > rewriteLimit {
			if err := ctx.Err(); err != nil {
				return err
			}
			if err := wtx.Commit(); err != nil {
				return err
			}
			if wtx, err = out.Begin(true); err != nil {
				return err
			}
			puts, cur = 1, nil
		}
		if cur == nil || !bytes.Equal(curName, bucket) {
			cur, curName = wtx.Bucket(bucket), bucket
			cur.FillPercent = 0.9 // written in key order: pages filled as etcd's defragmentation fills them
		}
		return cur.Put(k, v)
	}
	compacted := mvcc.RevToBytes(mvcc.Revision{Main: rev}, mvcc.NewRevBytes())
	var kv mvccpb.KeyValue
	next := 0 // live[next:] are the live keys at or past the record's revision: both run in revision order
	err = rtx.ForEach(func(name []byte, b *bolt.Bucket) error {
		if _, err := wtx.CreateBucketIfNotExists(name); err != nil {
			return err
		}
		isKey, isMeta := bytes.Equal(name, schema.Key.Name()), bytes.Equal(name, schema.Meta.Name())
		return b.ForEach(func(k, v []byte) error {
			switch {
			case v == nil:
				return fmt.Errorf("bucket %s holds a nested bucket %q, which etcd never writes", name, k)
			case isKey:
				if len(k) != revBytes {
					return nil // a deletion (a marked revision)
				}
				main := int64(binary.BigEndian.Uint64(k))
				for next < len(live) && live[next].rev < main {
					next++
				}
				if next == len(live) || live[next].rev != main {
					return nil // history: no key is live at this revision (any past rev too: the db is at rev)
				}
				kv.Reset()
				if err := kv.Unmarshal(v); err != nil {
					return fmt.Errorf("record %x of the key bucket: %w", k, err)
				}
				if !isLive(live[next:], main, kv.Key) {
					return nil // history: this key of the revision's transaction was changed or deleted later
				}
			case isMeta && (bytes.Equal(k, schema.ScheduledCompactKeyName) || bytes.Equal(k, schema.FinishedCompactKeyName)):
				return nil // set below
			}
			return put(name, k, v)
		})
	})
	if err != nil {
		return fmt.Errorf("compact %s into %s: %w", src, dst, err)
	}
	for _, k := range [][]byte{schema.ScheduledCompactKeyName, schema.FinishedCompactKeyName} {
		if err := put(schema.Meta.Name(), k, compacted); err != nil {
			return fmt.Errorf("compact %s into %s: %w", src, dst, err)
		}
	}
	err = wtx.Commit()
	wtx = nil
	if err != nil {
		return fmt.Errorf("write the compacted db %s: %w", dst, err)
	}
	var size int64
	if err := out.View(func(tx *bolt.Tx) error { size = tx.Size(); return nil }); err != nil {
		return fmt.Errorf("read the compacted db %s: %w", dst, err)
	}
	if err := out.Close(); err != nil {
		return fmt.Errorf("write the compacted db %s: %w", dst, err)
	}
	// bbolt grows a file ahead of its pages; the db is its pages, as etcd's snapshot (Tx.WriteTo) sends it.
	if err := os.Truncate(dst, size); err != nil {
		return fmt.Errorf("trim the compacted db %s to its %d bytes: %w", dst, size, err)
	}
	return nil
}

// stateSum digests a keyspace at one revision: the number of keys and the sum, modulo 2^256, of the sha256 of
// each key's record (key, value, create and mod revision, version, lease). A sum does not depend on order, so
// the state read in key order through etcd's index and the compacted db read in revision order straight from
// its file come to the same digest without sorting or holding the keyspace; any key missing, added or changed
// changes it.
type stateSum struct {
	keys int64
	sum  [4]uint64
}

func (s *stateSum) add(kv *mvccpb.KeyValue, buf []byte) []byte {
	buf = binary.BigEndian.AppendUint64(buf[:0], uint64(len(kv.Key)))
	buf = append(buf, kv.Key...)
	buf = binary.BigEndian.AppendUint64(buf, uint64(len(kv.Value)))
	buf = append(buf, kv.Value...)
	for _, v := range []int64{kv.CreateRevision, kv.ModRevision, kv.Version, kv.Lease} {
		buf = binary.BigEndian.AppendUint64(buf, uint64(v))
	}
	h := sha256.Sum256(buf)
	var carry uint64
	for i := 3; i >= 0; i-- {
		s.sum[i], carry = bits.Add64(s.sum[i], binary.BigEndian.Uint64(h[i*8:]), carry)
	}
	s.keys++
	return buf
}

// paging is how stateAt reads the keyspace: pages of about bytes (bounded memory for any keyspace), first keys,
// then as many as the keys read so far say fit, from min to max. Few pages, as each costs a walk of etcd's index
// over every key after the page (to count them), whatever its limit.
type paging struct{ bytes, first, min, max int }

var statePaging = paging{bytes: 64 << 20, first: 10000, min: 100, max: 1 << 20}

// stateAt digests every key at rev as etcd's index serves it, and hands each to visit.
func stateAt(ctx context.Context, kv mvcc.KV, rev int64, visit func(*mvccpb.KeyValue)) (stateSum, error) {
	return statePaged(ctx, kv, rev, statePaging, visit)
}

func statePaged(ctx context.Context, kv mvcc.KV, rev int64, p paging, visit func(*mvccpb.KeyValue)) (stateSum, error) {
	var s stateSum
	var buf []byte
	start := []byte{0}
	limit := p.first
	for {
		if err := ctx.Err(); err != nil {
			return s, err
		}
		// A non-nil empty end means every key from start on (etcd's "\x00" range end).
		res, err := kv.Range(ctx, start, []byte{}, mvcc.RangeOptions{Rev: rev, Limit: int64(limit)})
		if err != nil {
			return s, err
		}
		size := 0
		for i := range res.KVs {
			buf = s.add(&res.KVs[i], buf)
			visit(&res.KVs[i])
			size += res.KVs[i].Size()
		}
		if len(res.KVs) < limit {
			return s, nil
		}
		limit = min(max(p.bytes/max(size/len(res.KVs), 1), p.min), p.max)
		last := res.KVs[len(res.KVs)-1].Key
		start = append(append([]byte(nil), last...), 0)
	}
}

// revBytes is the length of a key in etcd's key bucket: the main revision, '_', the sub revision; a deletion
// adds a mark byte.
const revBytes = 8 + 1 + 8

// verify reads the db file at path, as it will be uploaded, and checks that it holds exactly the state want
// at rev and nothing else: one record per key, no deletion left, no revision past rev. It reads the key
// bucket in file order, without etcd's index: a compacted db has no history left to resolve.
func verify(ctx context.Context, path string, rev int64, want stateSum) error {
	db, err := bolt.Open(path, 0o400, &bolt.Options{ReadOnly: true, Timeout: 5 * time.Second})
	if err != nil {
		return fmt.Errorf("open the compacted db %s to check it: %w", path, err)
	}
	defer db.Close()
	var got stateSum
	err = db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(schema.Key.Name())
		if b == nil {
			return fmt.Errorf("it has no %s bucket", schema.Key.Name())
		}
		var buf []byte
		var kv mvccpb.KeyValue
		c := b.Cursor()
		for k, v := c.First(); k != nil; k, v = c.Next() {
			if got.keys%4096 == 0 {
				if err := ctx.Err(); err != nil {
					return err
				}
			}
			if len(k) != revBytes {
				return fmt.Errorf("record %x is a deletion or not a revision: the compaction left history", k)
			}
			main := int64(binary.BigEndian.Uint64(k))
			if main > rev {
				return fmt.Errorf("record %x is past revision %d", k, rev)
			}
			kv.Reset()
			if err := kv.Unmarshal(v); err != nil {
				return fmt.Errorf("record at revision %d: %w", main, err)
			}
			if kv.ModRevision != main {
				return fmt.Errorf("record at revision %d holds key %q modified at revision %d", main, kv.Key, kv.ModRevision)
			}
			buf = got.add(&kv, buf)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("check the compacted db %s: %w: not uploaded", path, err)
	}
	if got != want {
		return fmt.Errorf("the compacted db %s does not hold the state the chain restored to at revision %d (%d keys restored, %d in the db, or their contents differ): not uploaded",
			path, rev, want.keys, got.keys)
	}
	return nil
}
