package restore

import (
	"bytes"
	"context"
	"fmt"
	"time"

	"github.com/coreos/go-semver/semver"
	bolt "go.etcd.io/bbolt"
	"go.etcd.io/etcd/api/v3/mvccpb"
	"go.etcd.io/etcd/pkg/v3/traceutil"
	"go.etcd.io/etcd/server/v3/lease"
	"go.etcd.io/etcd/server/v3/storage/backend"
	"go.etcd.io/etcd/server/v3/storage/mvcc"
	"go.uber.org/zap"

	"github.com/etcd-dr/etcd-dr/engine/fault"
	"github.com/etcd-dr/etcd-dr/engine/format"
)

// replayer applies delta events to a snapshot's db file with etcd's own storage code: the mvcc store over bbolt
// that an etcd server applies its transactions with. One mvcc write transaction per source revision, so
// revisions, create revisions and versions come out as the source had them. Its lessor is never primary, so
// no lease can expire and revoke keys while the events are replayed (the etcd-backup-restore failure).
type replayer struct {
	be       backend.Backend
	les      lease.Lessor
	kv       mvcc.KV
	leaseTTL int64
	rev      int64 // revision of the last applied transaction

	events  int64 // events applied
	skipped int64 // events at or below the current revision (overlaps), not applied
	granted int   // leases created for keys whose lease the full snapshot did not hold
	deltas  int   // delta objects that contributed at least one revision
	// lastDelta is the delta the last applied revision came from (deltas arrive in batches).
	lastDelta string
	// uncommitted counts the key and value bytes applied since the last commit: bbolt keeps a batch's dirty
	// pages, and the backend's write buffer a copy of each value, in memory until the batch commits.
	uncommitted int64
}

// commitBytes ends a backend batch once this many key and value bytes are in it, whatever the batch interval:
// with large values a second's batch held GiBs (a 1 GiB delta of 768 KiB values peaked at 1232 MiB RSS over
// a 783 MiB db). At 32 MiB the peak was 230 MiB over the db, at 16 MiB 134-171 MiB, for about 5% more db
// file and no slower replay (see TestRestoreHugeDeltaPeakRSS).
const commitBytes = 16 << 20

// clusterVersion tells the lessor which cluster version it serves (only used for checkpoint persistence).
type clusterVersion struct{}

func (clusterVersion) Version() *semver.Version { return semver.New("3.6.0") }

// openReplayer opens the db file at path (a snapshot without its sha256 trailer) for replay.
func openReplayer(path string, lg *zap.Logger, leaseTTL int64) (r *replayer, err error) {
	// bbolt and the backend panic on a file they cannot open; check it here to fail with an error instead.
	// Read-only: a writable open of etcd's db (which has no synced freelist) scans every page to rebuild the
	// freelist and writes it back (0.13 s of CPU for a 1 GiB db, measured) before the backend does it again.
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: 5 * time.Second, ReadOnly: true})
	if err != nil {
		return nil, fault.Problems("the full snapshot is not a usable etcd database: %v", err)
	}
	if err := db.Close(); err != nil {
		return nil, err
	}
	defer func() {
		if p := recover(); p != nil {
			err = fault.Problems("the full snapshot's database cannot be loaded by etcd's storage: %v", p)
		}
	}()
	be := backend.New(backend.BackendConfig{
		Path:          path,
		BatchInterval: time.Second,
		BatchLimit:    10000, // etcd's default; larger batches bought no speed and cost memory
		MmapSize:      backend.InitialMmapSize,
		Logger:        lg,
		UnsafeNoFsync: true, // made durable once at the end: by etcdutl's copy into each member dir, or replayInMember's fsync
	})
	les := lease.NewLessor(lg, be, clusterVersion{}, lease.LessorConfig{MinLeaseTTL: 1})
	ib := &indexingBackend{Backend: be}
	ib.building.Store(true)
	kv := mvcc.NewStore(lg, ib, les, mvcc.StoreConfig{})
	ib.building.Store(false)
	return &replayer{be: be, les: les, kv: kv, leaseTTL: leaseTTL, rev: kv.Rev()}, nil
}

// Rev is the revision of the last applied transaction.
func (r *replayer) Rev() int64 { return r.rev }

// keys counts the keys that exist at the current revision, and checks the store is at the revision replayed to.
func (r *replayer) keys(ctx context.Context) (int64, error) {
	if got := r.kv.Rev(); got != r.rev {
		return 0, fault.Problems("after the replay etcd's store is at revision %d, not %d", got, r.rev)
	}
	// A non-nil empty end means every key from the start key on (etcd's "\x00" range end, as its server passes it).
	res, err := r.kv.Range(ctx, []byte{0}, []byte{}, mvcc.RangeOptions{Count: true})
	if err != nil {
		return 0, err
	}
	return int64(res.Count), nil
}

// close commits everything to the file and closes it.
func (r *replayer) close() error {
	r.les.Stop()
	if err := r.kv.Close(); err != nil {
		return err
	}
	r.be.ForceCommit()
	return r.be.Close()
}

// applyRevision applies the events of one source revision in one transaction and checks that etcd's store
// ended at that revision with the keys as the source had them.
func (r *replayer) applyRevision(obj string, rev int64, evs []format.DeltaEvent) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fault.Problems("%s: applying revision %d failed inside etcd's storage: %v", obj, rev, p)
		}
	}()
	// Leases first: granting writes to the backend, which a write transaction holds locked.
	for _, e := range evs {
		ev := e.EtcdEvent
		if ev.Type != mvccpb.PUT || ev.Kv.Lease == 0 {
			continue
		}
		id := lease.LeaseID(ev.Kv.Lease)
		if r.les.Lookup(id) == nil {
			if _, err := r.les.Grant(id, r.leaseTTL); err != nil && err != lease.ErrLeaseExists {
				return fmt.Errorf("%s: revision %d: create lease %x for key %q: %w", obj, rev, ev.Kv.Lease, ev.Kv.Key, err)
			}
			r.granted++
		}
	}
	// etcd's txn records a timed trace step per put (a time.Now and an append each: ~15% of the replay's CPU);
	// StepWithFunction turns steps off while the puts run and records one.
	trace := traceutil.TODO()
	txn := r.kv.Write(trace)
	// The transaction's own revision (no read of the store: that copies its whole write buffer each time).
	if cur := txn.Rev(); rev != cur+1 {
		txn.End()
		return fault.Problems("%s: next event is at revision %d but the store is at %d: revisions %d-%d are missing from the backup", obj, rev, cur, cur+1, rev-1)
	}
	var problem error
	trace.StepWithFunction(func() {
		for _, e := range evs {
			ev := e.EtcdEvent
			switch ev.Type {
			case mvccpb.PUT:
				txn.Put(ev.Kv.Key, ev.Kv.Value, lease.LeaseID(ev.Kv.Lease))
			case mvccpb.DELETE:
				if n, _ := txn.DeleteRange(ev.Kv.Key, nil); n != 1 && problem == nil {
					problem = fault.Problems("%s: revision %d deletes key %q, which does not exist in the restored store: the backup does not continue the state before it", obj, rev, ev.Kv.Key)
				}
			default:
				if problem == nil {
					problem = fault.Problems("%s: revision %d has an event of unknown type %v", obj, rev, ev.Type)
				}
			}
		}
	}, "replay")
	changes := txn.Changes()
	if problem == nil {
		problem = compareChanges(obj, rev, evs, changes)
	}
	txn.End()
	if problem != nil {
		return problem
	}
	r.rev = rev
	r.events += int64(len(evs))
	for _, e := range evs {
		r.uncommitted += int64(len(e.EtcdEvent.Kv.Key) + len(e.EtcdEvent.Kv.Value))
	}
	if r.uncommitted >= commitBytes {
		r.be.ForceCommit()
		r.uncommitted = 0
	}
	return nil
}

// compareChanges checks each put came out with the create revision, version and lease the source recorded.
func compareChanges(obj string, rev int64, evs []format.DeltaEvent, changes []mvccpb.KeyValue) error {
	if len(changes) != len(evs) {
		return fault.Problems("%s: revision %d has %d events but etcd's store made %d changes", obj, rev, len(evs), len(changes))
	}
	for i, e := range evs {
		want, got := e.EtcdEvent.Kv, changes[i]
		if !bytes.Equal(want.Key, got.Key) {
			return fault.Problems("%s: revision %d event %d is for key %q but the store changed %q", obj, rev, i, want.Key, got.Key)
		}
		if e.EtcdEvent.Type != mvccpb.PUT {
			continue // etcd's change record of a delete carries only the key
		}
		if got.ModRevision != rev {
			return fault.Problems("%s: revision %d key %q was written at revision %d", obj, rev, want.Key, got.ModRevision)
		}
		if want.CreateRevision != got.CreateRevision || want.Version != got.Version || want.Lease != got.Lease {
			return fault.Problems("%s: revision %d key %q: the source had create revision %d, version %d, lease %x; the restore made %d, %d, %x: the backup does not continue the state before it",
				obj, rev, want.Key, want.CreateRevision, want.Version, want.Lease, got.CreateRevision, got.Version, got.Lease)
		}
	}
	return nil
}
