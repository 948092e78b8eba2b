package restore

import (
	"context"

	"github.com/etcd-dr/etcd-dr/engine/catalog"
	"github.com/etcd-dr/etcd-dr/engine/download"
	"github.com/etcd-dr/etcd-dr/engine/fault"
	"github.com/etcd-dr/etcd-dr/engine/format"
	"github.com/etcd-dr/etcd-dr/store"
)

// fetchAhead is how many deltas are read and decoded ahead of the replay.
const fetchAhead = 2

// fetched is one delta, read (checksum verified) and decoded.
type fetched struct {
	snap   catalog.Snapshot
	events []format.DeltaEvent
	err    error
}

// prefetch reads and decodes the deltas that hold revisions up to target, in order, fetchAhead of the replay: the
// store's latency and the JSON decoding overlap with applying (and the first deltas with the full snapshot's
// download). It stops after an error, or when ctx is done; the caller cancels ctx and drains the channel.
func prefetch(ctx context.Context, st *store.Store, deltas []catalog.Snapshot, target int64, dec download.Decrypter) <-chan fetched {
	ch := make(chan fetched, fetchAhead)
	go func() {
		defer close(ch)
		for _, d := range deltas {
			if d.StartRevision > target {
				return
			}
			f := fetched{snap: d}
			f.events, f.err = fetchDelta(ctx, st, d, dec)
			select {
			case ch <- f:
			case <-ctx.Done():
				return
			}
			if f.err != nil {
				return
			}
		}
	}()
	return ch
}

// fetchDelta downloads one delta (its sha256 trailer verified) and decodes its events.
func fetchDelta(ctx context.Context, st *store.Store, d catalog.Snapshot, dec download.Decrypter) ([]format.DeltaEvent, error) {
	var buf bytesWriter
	if _, err := download.Object(ctx, st, d, &buf, nil, dec); err != nil {
		return nil, err
	}
	events, err := format.DecodeDeltaBytes(buf.b)
	if err != nil {
		return nil, fault.Problems("delta %s: %v", d.Key, err)
	}
	return events, nil
}
