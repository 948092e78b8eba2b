package snapshot

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"path"
	"time"

	"go.etcd.io/etcd/api/v3/mvccpb"
	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/etcd-dr/etcd-dr/engine/catalog"
	"github.com/etcd-dr/etcd-dr/engine/fault"
	"github.com/etcd-dr/etcd-dr/engine/format"
	"github.com/etcd-dr/etcd-dr/store"
)

// ErrCompacted marks a watch that asked for revisions etcd has compacted away: only a full snapshot can
// continue the backups without a gap.
var ErrCompacted = errors.New("watch start revision compacted")

// eventOverhead approximates the JSON of one event beyond its base64 key and value (field names, revisions,
// time): buffered bytes are counted as the delta's JSON will be, so MemoryLimit bounds the object too.
const eventOverhead = 160

// buffer holds the events of whole revisions not yet stored.
type buffer struct {
	events []format.DeltaEvent
	bytes  int64
}

func (b *buffer) add(ev *clientv3.Event, t time.Time) {
	e := mvccpb.Event(*ev)
	b.events = append(b.events, format.DeltaEvent{EtcdEvent: &e, Time: t})
	b.bytes += int64(len(e.Kv.Key)+len(e.Kv.Value))*4/3 + eventOverhead
}

func (b *buffer) first() int64 { return b.events[0].Revision() }
func (b *buffer) last() int64  { return b.events[len(b.events)-1].Revision() }
func (b *buffer) reset()       { b.events, b.bytes = nil, 0 }

// dropThrough drops the events of revisions up to rev (stored elsewhere already).
func (b *buffer) dropThrough(rev int64) {
	i := 0
	for i < len(b.events) && b.events[i].Revision() <= rev {
		e := b.events[i].EtcdEvent
		b.bytes -= int64(len(e.Kv.Key)+len(e.Kv.Value))*4/3 + eventOverhead
		i++
	}
	b.events = b.events[i:]
	if len(b.events) == 0 {
		b.reset()
	}
}

// deltaObject is a delta encoded and ready to upload.
type deltaObject struct {
	res  Result
	data []byte
	meta map[string]string
}

// writeDelta stores the buffered events as one delta object (revisions first..last) and returns its result.
// Deltas are small (bounded by MemoryLimit), so the object is built in memory and its stored-bytes sha256
// goes into its metadata.
func (s *Snapshotter) writeDelta(ctx context.Context, b *buffer, etcdVersion string, final bool) (Result, error) {
	obj, err := s.buildDelta(b, etcdVersion, final)
	if err != nil {
		return obj.res, err
	}
	return s.uploadDelta(ctx, obj)
}

func (s *Snapshotter) buildDelta(b *buffer, etcdVersion string, final bool) (deltaObject, error) {
	res := Result{Kind: catalog.Delta, StartRevision: b.first(), EndRevision: b.last(), Events: len(b.events), Final: final, EtcdVersion: etcdVersion}
	obj := deltaObject{res: res}
	var stored bytes.Buffer
	var sink io.Writer = &stored
	var enc io.WriteCloser
	var err error
	if s.cfg.Encrypt != nil {
		if enc, err = s.cfg.Encrypt(&stored); err != nil {
			return obj, fmt.Errorf("encrypt: %w", err)
		}
		sink = enc
	}
	comp, err := format.NewCompressor(sink, s.cfg.Compression)
	if err != nil {
		return obj, err
	}
	plainSize, err := encodeDelta(comp, b.events)
	if err != nil {
		return obj, err
	}
	if err := comp.Close(); err != nil {
		return obj, err
	}
	if enc != nil {
		if err := enc.Close(); err != nil {
			return obj, err
		}
	}
	obj.res.Time = s.cfg.Now().UTC()
	obj.res.Key = path.Join(Folder, catalog.Name(catalog.Delta, res.StartRevision, res.EndRevision, obj.res.Time, s.cfg.Compression, final, s.cfg.Encrypt != nil))
	obj.res.ContentSize = plainSize
	obj.data = stored.Bytes()
	obj.meta = s.deltaMeta(etcdVersion, res.StartRevision, res.EndRevision, plainSize, obj.data)
	return obj, nil
}

func (s *Snapshotter) deltaMeta(etcdVersion string, start, end, plainSize int64, data []byte) map[string]string {
	sum := sha256.Sum256(data)
	meta := s.meta(etcdVersion, start, end, plainSize)
	meta[catalog.MetaSHA256] = hex.EncodeToString(sum[:])
	return meta
}

func (s *Snapshotter) uploadDelta(ctx context.Context, obj deltaObject) (Result, error) {
	started := time.Now()
	res := obj.res
	sctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	g := newStallGuard(sctx, cancel, s.cfg.StallTimeout)
	defer g.stop()
	w, err := s.cfg.Store.NewWriter(sctx, res.Key, store.WriteOptions{Metadata: obj.meta})
	if err != nil {
		return res, err
	}
	if _, err := io.Copy(w, g.reader(bytes.NewReader(obj.data))); err != nil {
		w.Abort()
		return res, g.explain(err)
	}
	if err := w.Commit(); err != nil {
		return res, g.explain(err)
	}
	res.Size = int64(len(obj.data))
	res.Took = time.Since(started)
	s.cfg.Logger.Info("delta snapshot", "key", res.Key, "from", res.StartRevision, "to", res.EndRevision, "events", res.Events, "bytes", res.Size, "final", res.Final, "took", res.Took.Round(time.Millisecond))
	return res, nil
}

// encodeDelta streams a non-empty delta into w through the one encoder (format.WriteDelta).
func encodeDelta(w io.Writer, events []format.DeltaEvent) (int64, error) {
	if len(events) == 0 {
		return 0, fmt.Errorf("encode delta: no events")
	}
	return format.WriteDelta(w, events)
}

// watcher reads the events of revisions from next onwards, whole revisions at a time.
type watcher struct {
	cancel context.CancelFunc
	ch     clientv3.WatchChan
}

func (s *Snapshotter) watch(ctx context.Context, next int64) *watcher {
	wctx, cancel := context.WithCancel(clientv3.WithRequireLeader(ctx))
	ch := s.cfg.Client.Watch(wctx, "", clientv3.WithPrefix(), clientv3.WithRev(next), clientv3.WithProgressNotify())
	return &watcher{cancel: cancel, ch: ch}
}

// take adds a watch response's events of revisions >= next to b; it returns the last revision seen (0 if none).
func take(resp clientv3.WatchResponse, next int64, b *buffer, now time.Time) (int64, error) {
	if resp.CompactRevision != 0 || errors.Is(resp.Err(), rpctypes.ErrCompacted) {
		return 0, fmt.Errorf("%w: etcd compacted up to revision %d, past the next revision to back up (%d)", ErrCompacted, resp.CompactRevision, next)
	}
	if err := resp.Err(); err != nil {
		return 0, fmt.Errorf("watch etcd from revision %d: %w", next, err)
	}
	var last int64
	for _, ev := range resp.Events {
		if ev.Kv.ModRevision < next {
			continue // already stored (in the full snapshot or an earlier delta)
		}
		b.add(ev, now)
		last = ev.Kv.ModRevision
	}
	return last, nil
}

// catchUp reads the watch until every revision up to target is buffered. It gives up when the watch makes no
// progress for the stall timeout.
func (s *Snapshotter) catchUp(ctx context.Context, w *watcher, next *int64, b *buffer, target int64) error {
	stall := time.NewTimer(s.cfg.StallTimeout)
	defer stall.Stop()
	for *next <= target {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-stall.C:
			return fmt.Errorf("watch made no progress for %s while catching up to revision %d (at %d)", s.cfg.StallTimeout, target, *next-1)
		case resp, ok := <-w.ch:
			if !ok {
				return fmt.Errorf("watch closed while catching up to revision %d (at %d)", target, *next-1)
			}
			last, err := take(resp, *next, b, s.cfg.Now().UTC())
			if err != nil {
				return err
			}
			if last > 0 {
				*next = last + 1
				stall.Reset(s.cfg.StallTimeout)
			}
			if resp.IsProgressNotify() && resp.Header.Revision >= target {
				*next = max(*next, target+1)
			}
		}
	}
	return nil
}

// Delta writes one delta now: the events from the end of the store's newest chain up to etcd's current
// revision. When etcd has compacted past the chain's end, it takes a full snapshot instead (no silent gap).
func (s *Snapshotter) Delta(ctx context.Context) (Result, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	res := Result{Kind: catalog.Delta}
	_, end, err := Last(ctx, s.cfg.Store)
	if err != nil {
		return res, s.fail(catalog.Delta, err)
	}
	if end == 0 {
		return res, &fault.NoneCompatible{What: "the store holds no full snapshot for a delta to continue: take a full snapshot first", NeedsFull: true}
	}
	target, err := s.revision(ctx)
	if err != nil {
		return res, s.fail(catalog.Delta, err)
	}
	switch {
	case target < end:
		return res, fault.Refused("etcd is at revision %d, behind the store's newest chain (ends at %d): this store holds another cluster's history, or etcd was restored; take a full snapshot into a new store prefix", target, end)
	case target == end:
		res.Skipped, res.EndRevision, res.Why = true, end, fmt.Sprintf("no new revision since %d", end)
		s.observe(res)
		return res, nil
	}
	ver := s.etcdVersion(ctx)
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	next := end + 1
	w := s.watch(wctx, next)
	var b buffer
	if err := s.catchUp(wctx, w, &next, &b, target); err != nil {
		if errors.Is(err, ErrCompacted) {
			s.cfg.Logger.Warn("delta impossible, taking a full snapshot", "reason", err)
			return s.full(ctx, FullOptions{Forced: true})
		}
		return res, s.fail(catalog.Delta, err)
	}
	if len(b.events) == 0 {
		res.Skipped, res.EndRevision, res.Why = true, end, "no events"
		return res, nil
	}
	res, err = s.writeDelta(ctx, &b, ver, false)
	if err != nil {
		return res, s.fail(catalog.Delta, err)
	}
	s.observe(res)
	return res, nil
}
