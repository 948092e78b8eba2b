package restore

import (
	"context"
	"errors"
	"fmt"

	"golang.org/x/sync/errgroup"

	"github.com/etcd-dr/etcd-dr/engine/catalog"
	"github.com/etcd-dr/etcd-dr/engine/crypt"
	"github.com/etcd-dr/etcd-dr/engine/download"
	"github.com/etcd-dr/etcd-dr/engine/fault"
	"github.com/etcd-dr/etcd-dr/engine/format"
	"github.com/etcd-dr/etcd-dr/store"
)

// Deltas reach the replay through a pipeline of goroutines with bounded queues: per object, fetching and
// decompressing (download.Object) feeds the decoder through a pipe, the decoder sends batches of whole revisions
// to the replay; and the next object is fetched and decoded while the replay still applies the one before it.
// The store's latency, decompression and JSON decoding overlap with applying, and memory is bounded by the
// batches in flight, not by a delta's size.
const (
	fetchAhead   = 4       // batches decoded ahead of the replay, per object
	objectsAhead = 1       // objects fetched ahead of the one the replay reads
	batchEvents  = 1024    // a batch ends at the first revision boundary past this many events
	batchBytes   = 4 << 20 // ... or past this many bytes of keys and values
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

// pipeline is the deltas' fetch and decode stages; the replay reads them in order with next.
type pipeline struct {
	g       *errgroup.Group
	cancel  context.CancelFunc
	objects chan chan fetched // one queue of batches per object, in the chain's order
	cur     chan fetched
}

// prefetch starts streaming the events of the deltas that hold revisions up to target, in order. A failure of
// an object is delivered in its place, after the batches of the objects before it, so the replay reports the
// first failing object as if it had read them one by one. Stop ends every stage and waits for them.
func prefetch(ctx context.Context, st *store.Store, deltas []catalog.Snapshot, target int64, dec crypt.Decrypter) *pipeline {
	ctx, cancel := context.WithCancel(ctx)
	g, ctx := errgroup.WithContext(ctx)
	p := &pipeline{g: g, cancel: cancel, objects: make(chan chan fetched, objectsAhead)}
	g.Go(func() error {
		defer close(p.objects)
		for _, d := range deltas {
			if d.StartRevision > target {
				return nil
			}
			ch := make(chan fetched, fetchAhead)
			select {
			case p.objects <- ch:
			case <-ctx.Done():
				return nil
			}
			g.Go(func() error {
				defer close(ch)
				send := func(f fetched) bool {
					select {
					case ch <- f:
						return true
					case <-ctx.Done():
						return false
					}
				}
				if err := fetchDelta(ctx, st, d, target, dec, send); err != nil && !errors.Is(err, errStopFetch) {
					send(fetched{snap: d, err: err})
				}
				return nil // delivered in order through ch: the first error in the chain's order wins
			})
		}
		return nil
	})
	return p
}

// next returns the next batch; ok is false when all were read.
func (p *pipeline) next() (fetched, bool) {
	for {
		if p.cur == nil {
			ch, ok := <-p.objects
			if !ok {
				return fetched{}, false
			}
			p.cur = ch
		}
		f, ok := <-p.cur
		if ok {
			return f, true
		}
		p.cur = nil
	}
}

// verdict waits for the pipeline's last word on delta key after the replay failed inside it: a delta that
// fails its checksum is reported as such, not as the replay error its damaged events caused.
func (p *pipeline) verdict(key string) error {
	if p.cur == nil {
		return nil
	}
	for f := range p.cur {
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

// stop ends every stage and waits for them, so that nothing reads the store after the restore returns.
func (p *pipeline) stop() {
	p.cancel()
	_ = p.g.Wait()
}

// fetchDelta streams one delta's events at or below target in batches to send; its last batch follows the
// verified trailer. A delta that holds no events is the gap it makes in its chain.
func fetchDelta(ctx context.Context, st *store.Store, d catalog.Snapshot, target int64, dec crypt.Decrypter, send func(fetched) bool) error {
	if d.Empty {
		return emptyDelta(d)
	}
	batch := make([]format.DeltaEvent, 0, batchEvents+1)
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
			batch, size = make([]format.DeltaEvent, 0, batchEvents+1), 0 // the replay owns the sent one
		}
		batch = append(batch, e)
		size += len(e.EtcdEvent.Kv.Key) + len(e.EtcdEvent.Kv.Value)
		return nil
	})
	var tooBig *format.TooBigError
	if errors.As(err, &tooBig) {
		// A decompression bomb or garbage: the object is bad, whatever the store or the restore do.
		return &fault.Corrupt{Object: d.Key, Err: err,
			What: fmt.Sprintf("delta (revisions %d-%d) refused before being read to its end: %v; restore an older revision or another chain", d.StartRevision, d.EndRevision, tooBig)}
	}
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
	return &fault.Gap{From: g.From, To: g.To, What: g.Describe(), Revision: -1, SafeRevision: d.StartRevision - 1}
}
