package restore

import (
	"context"
	"errors"

	"github.com/etcd-dr/etcd-dr/engine/catalog"
	"github.com/etcd-dr/etcd-dr/engine/download"
	"github.com/etcd-dr/etcd-dr/engine/fault"
	"github.com/etcd-dr/etcd-dr/engine/format"
	"github.com/etcd-dr/etcd-dr/store"
)

// Deltas reach the replay as a stream of batches of whole revisions, decoded ahead of it: the store's latency and
// the JSON decoding overlap with applying, and memory is bounded by the batches in flight, not by a delta's size.
const (
	fetchAhead  = 4       // batches decoded ahead of the replay
	batchEvents = 1024    // a batch ends at the first revision boundary past this many events
	batchBytes  = 4 << 20 // ... or past this many bytes of keys and values
)

// fetched is one batch of a delta's events: whole revisions, in order. The last batch of a delta has last set
// and is sent only once the delta's sha256 trailer has been verified.
type fetched struct {
	snap   catalog.Snapshot
	events []format.DeltaEvent
	last   bool
	err    error
}

// errStopFetch ends a delta's download when the replay no longer listens.
var errStopFetch = errors.New("restore stopped reading deltas")

// prefetch streams the events of the deltas that hold revisions up to target, in order. It stops after an error,
// or when ctx is done; the caller cancels ctx and drains the channel.
func prefetch(ctx context.Context, st *store.Store, deltas []catalog.Snapshot, target int64, dec download.Decrypter) <-chan fetched {
	ch := make(chan fetched, fetchAhead)
	send := func(f fetched) bool {
		select {
		case ch <- f:
			return true
		case <-ctx.Done():
			return false
		}
	}
	go func() {
		defer close(ch)
		for _, d := range deltas {
			if d.StartRevision > target {
				return
			}
			if err := fetchDelta(ctx, st, d, target, dec, send); err != nil {
				if !errors.Is(err, errStopFetch) {
					send(fetched{snap: d, err: err})
				}
				return
			}
		}
	}()
	return ch
}

// fetchDelta streams one delta's events at or below target in batches to send; its last batch follows the
// verified trailer. A delta that holds no events is the gap it makes in its chain.
func fetchDelta(ctx context.Context, st *store.Store, d catalog.Snapshot, target int64, dec download.Decrypter, send func(fetched) bool) error {
	if d.Empty {
		return emptyDelta(d)
	}
	var batch []format.DeltaEvent
	size := 0
	read, err := download.Delta(ctx, st, d, nil, dec, func(e format.DeltaEvent) error {
		rev := e.Revision()
		if rev > target {
			return nil // read on: the delta's trailer is checked before its last batch is applied
		}
		if n := len(batch); n > 0 && rev != batch[n-1].Revision() && (n >= batchEvents || size >= batchBytes) {
			if !send(fetched{snap: d, events: batch}) {
				return errStopFetch
			}
			batch, size = nil, 0
		}
		batch = append(batch, e)
		size += len(e.EtcdEvent.Kv.Key) + len(e.EtcdEvent.Kv.Value)
		return nil
	})
	if err != nil {
		return err
	}
	if read.Events == 0 {
		return emptyDelta(d)
	}
	if !send(fetched{snap: d, events: batch, last: true}) {
		return errStopFetch
	}
	return nil
}

// emptyDelta is the refusal of a delta that holds no events: by the catalog's rule its revisions are a gap, and
// the chain restores only up to the revision before it.
func emptyDelta(d catalog.Snapshot) error {
	g := catalog.Gap{From: d.StartRevision, To: d.EndRevision, Object: d.Key}
	return fault.Problems("%s; the chain restores only up to revision %d — rerun with --revision %d", g.Describe(), d.StartRevision-1, d.StartRevision-1)
}

// verdict waits for the prefetcher's last word on delta key after the replay failed inside it: a delta that
// fails its checksum is reported as such, not as the replay error its damaged events caused.
func verdict(deltas <-chan fetched, key string) error {
	for f := range deltas {
		if f.snap.Key != key {
			return nil
		}
		if f.err != nil {
			return f.err
		}
		if f.last {
			return nil
		}
	}
	return nil
}
