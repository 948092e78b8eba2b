package snapshot

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/etcd-dr/etcd-dr/engine/catalog"
)

// ErrHandOver, as the cause of Run's context, stops Run without storing what it has buffered: another member
// takes over from the store's end, and a late delta of ours would overlap its first one.
var ErrHandOver = errors.New("backup leadership handed over")

// FullRequest asks a running backup loop for a full snapshot; the result comes back on Reply (buffered, 1).
type FullRequest struct {
	Options FullOptions
	Reply   chan FullReply
}

// FullReply answers a FullRequest.
type FullReply struct {
	Result Result
	Err    error
}

// Run keeps the store's newest chain growing until ctx ends: it resumes where the store ends (a full snapshot
// first when the store holds none, or etcd compacted past its end), then writes a delta every DeltaPeriod, or
// sooner when buffered events pass MemoryLimit, and nothing for a quiet period. Full snapshots requested on
// fulls are taken between deltas, so deltas never overlap them. A failed upload keeps its events and retries
// with backoff; the watch is restarted from the last stored revision, so no revision is lost while the store
// is away (as long as etcd keeps the history). When ctx ends, Run catches up to etcd's current revision and
// writes a last delta marked .final.
func (s *Snapshotter) Run(ctx context.Context, fulls <-chan FullRequest) error {
	r := &runner{s: s, fulls: fulls}
	if s.cfg.SpoolDir != "" {
		r.spool = &spool{dir: s.cfg.SpoolDir, limit: s.cfg.SpoolLimit}
	}
	return r.run(ctx)
}

type runner struct {
	s     *Snapshotter
	fulls <-chan FullRequest
	ver   string
	next  int64 // first revision not in the store
	buf   buffer
	w     *watcher
	// stopped is set while the watch is canceled for an upload that retries.
	stopped bool
	spool   *spool // nil without a SpoolDir
	// wctx outlives the caller's ctx, so the final delta can still catch up after a SIGTERM.
	wctx    context.Context
	wcancel context.CancelFunc
}

func (r *runner) run(ctx context.Context) error {
	r.wctx, r.wcancel = context.WithCancel(context.WithoutCancel(ctx))
	defer r.wcancel()
	defer func() {
		if r.w != nil {
			r.w.cancel()
		}
	}()
	backoff := newBackoff()
	for {
		err := r.resume(ctx)
		if err == nil {
			break
		}
		if ctx.Err() != nil {
			return nil
		}
		r.s.cfg.Logger.Error("cannot start backups; retrying", "err", err, "in", backoff.peek())
		if !backoff.wait(ctx) {
			return nil
		}
	}
	tick := time.NewTicker(r.s.cfg.DeltaPeriod)
	defer tick.Stop()
	watchBackoff := newBackoff() // a watch that keeps failing (no leader, etcd down) is not restarted in a busy loop
	for {
		select {
		case <-ctx.Done():
			if errors.Is(context.Cause(ctx), ErrHandOver) {
				r.handOver()
				return nil
			}
			return r.final()
		case req := <-r.fulls:
			res, err := r.full(ctx, req.Options)
			req.Reply <- FullReply{Result: res, Err: err}
		case <-tick.C:
			if !r.flush(ctx, false) || r.spool == nil {
				continue
			}
			if err := r.s.drain(ctx, r.spool, r.ver); err != nil {
				r.s.cfg.Logger.Debug("spool not drained yet", "err", err)
			}
		case resp, ok := <-r.w.ch:
			if !ok {
				watchBackoff.wait(ctx)
				r.restartWatch()
				continue
			}
			last, err := take(resp, r.next, &r.buf, r.s.cfg.Now().UTC())
			switch {
			case errors.Is(err, ErrCompacted):
				r.s.cfg.Logger.Warn("watch hit a compacted revision; taking a full snapshot so the chain has no gap", "err", err)
				r.flush(ctx, false) // what is buffered still continues the current chain
				if _, err := r.full(ctx, FullOptions{Forced: true}); err != nil {
					r.s.cfg.Logger.Error("forced full snapshot failed; will retry", "err", err)
					backoff.wait(ctx)
				}
				r.restartWatch()
				continue
			case err != nil:
				r.s.cfg.Logger.Warn("watch failed; restarting it", "err", err, "in", watchBackoff.peek())
				watchBackoff.wait(ctx)
				r.restartWatch()
				continue
			}
			watchBackoff = newBackoff()
			if last > 0 {
				r.next = last + 1
			}
			if r.buf.bytes >= r.s.cfg.MemoryLimit {
				r.flush(ctx, false)
			}
		}
	}
}

// resume finds where the store ends and starts the watch there, taking a full snapshot first if needed.
func (r *runner) resume(ctx context.Context) error {
	r.ver = r.s.etcdVersion(ctx)
	if err := r.s.drain(ctx, r.spool, r.ver); err != nil {
		return fmt.Errorf("upload the deltas spooled in %s before resuming: %w", r.spool.dir, err)
	}
	_, end, err := Last(ctx, r.s.cfg.Store)
	if err != nil {
		return err
	}
	cur, err := r.s.revision(ctx)
	if err != nil {
		return err
	}
	switch {
	case end == 0:
		r.s.cfg.Logger.Info("store holds no chain; starting one with a full snapshot")
		_, err = r.fullLocked(ctx, FullOptions{Force: true})
		return err
	case cur < end:
		r.s.cfg.Logger.Warn("etcd is behind the store's newest chain (restored etcd, or another cluster's store); starting a new chain", "etcdRevision", cur, "storeEnd", end)
		_, err = r.fullLocked(ctx, FullOptions{Force: true})
		return err
	}
	r.s.cfg.Logger.Info("resuming the store's newest chain", "from", end+1, "etcdRevision", cur)
	r.next = end + 1
	r.restartWatch()
	return nil
}

func (r *runner) restartWatch() {
	if r.w != nil {
		r.w.cancel()
	}
	r.w = r.s.watch(r.wctx, r.next)
	r.stopped = false
}

// full flushes the buffered deltas into the current chain, then takes a full snapshot and continues after it.
func (r *runner) full(ctx context.Context, opts FullOptions) (Result, error) {
	if !r.flush(ctx, false) {
		return Result{Kind: catalog.Full}, fmt.Errorf("full snapshot postponed: the pending delta could not be stored")
	}
	return r.fullLocked(ctx, opts)
}

func (r *runner) fullLocked(ctx context.Context, opts FullOptions) (Result, error) {
	r.s.mu.Lock()
	res, err := r.s.full(ctx, opts)
	r.s.mu.Unlock()
	if err != nil {
		return res, err
	}
	if !res.Skipped && res.EndRevision+1 > r.next {
		// Events up to the full snapshot's revision are in it; the watch's copies are dropped by take.
		r.buf.reset()
		r.next = res.EndRevision + 1
		r.restartWatch()
	}
	return res, nil
}

// flush stores the buffered events as a delta, retrying with backoff while ctx lives. While it retries the
// watch is stopped (its client-side buffer would grow without bound) and restarted afterwards from r.next.
func (r *runner) flush(ctx context.Context, final bool) bool {
	if len(r.buf.events) == 0 {
		return true
	}
	if ctx.Err() != nil {
		return false // stopping: final() stores what is buffered
	}
	if r.spool != nil && r.spoolFlush(ctx, final) {
		return true
	}
	b := newBackoff()
	for {
		r.s.mu.Lock()
		res, err := r.s.writeDelta(ctx, &r.buf, r.ver, final)
		r.s.mu.Unlock()
		if err == nil {
			r.s.observe(res)
			r.buf.reset()
			if r.stopped {
				r.restartWatch()
			}
			return true
		}
		if ctx.Err() != nil {
			// Stopping: final() stores what is buffered.
			r.s.cfg.Logger.Debug("delta upload interrupted by the stop", "from", r.buf.first(), "to", r.buf.last())
			return false
		}
		r.s.fail(catalog.Delta, err)
		if !r.stopped {
			r.w.cancel()
			r.stopped = true
		}
		r.s.cfg.Logger.Warn("delta upload failed; retrying", "from", r.buf.first(), "to", r.buf.last(), "err", err, "in", b.peek())
		if !b.wait(ctx) {
			return false
		}
	}
}

// spoolFlush stores the buffer through the spool: the spool drains first (order), then the delta is uploaded;
// when the store is away the delta goes into the spool and the watch goes on. It reports false when neither
// worked (spool full or unwritable): the caller then holds the events and retries.
func (r *runner) spoolFlush(ctx context.Context, final bool) bool {
	obj, err := r.s.buildDelta(&r.buf, r.ver, final)
	if err != nil {
		r.s.cfg.Logger.Error("encode delta", "err", err)
		return false
	}
	err = r.s.drain(ctx, r.spool, r.ver)
	if err == nil {
		var res Result
		r.s.mu.Lock()
		res, err = r.s.uploadDelta(ctx, obj)
		r.s.mu.Unlock()
		if err == nil {
			r.s.observe(res)
			r.buf.reset()
			return true
		}
	}
	r.s.fail(catalog.Delta, err)
	if used := r.spool.size(); used+int64(len(obj.data)) > r.spool.limit {
		r.s.cfg.Logger.Error("store unreachable and the spool is full; holding events in memory", "spool", r.spool.dir, "bytes", used, "limit", r.spool.limit, "err", err)
		return false
	}
	if perr := r.spool.put(obj); perr != nil {
		r.s.cfg.Logger.Error("store unreachable and the spool cannot be written", "spool", r.spool.dir, "err", perr, "storeErr", err)
		return false
	}
	r.s.cfg.Logger.Warn("store unreachable; delta spooled on local disk", "key", obj.res.Key, "from", obj.res.StartRevision, "to", obj.res.EndRevision, "err", err)
	r.buf.reset()
	return true
}

// handOver drops what is buffered: the next leader resumes from the store's end and stores those revisions.
func (r *runner) handOver() {
	if len(r.buf.events) > 0 {
		r.s.cfg.Logger.Info("no longer the backup leader; leaving the buffered revisions to the next leader", "from", r.buf.first(), "to", r.buf.last())
	}
	r.buf.reset()
}

// final catches up to etcd's current revision and stores what is buffered as the last delta (.final).
func (r *runner) final() error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(r.wctx), r.s.cfg.StallTimeout)
	defer cancel()
	if r.stopped {
		r.restartWatch()
	}
	target, err := r.s.revision(ctx)
	if err == nil && target >= r.next {
		err = r.s.catchUp(ctx, r.w, &r.next, &r.buf, target)
	}
	if err != nil {
		r.s.cfg.Logger.Warn("final delta may miss the newest revisions; the next run resumes from the store's end", "err", err)
	}
	if len(r.buf.events) == 0 {
		r.s.cfg.Logger.Info("stopped; nothing left to store", "storeEnd", r.next-1)
		return nil
	}
	if !r.flush(ctx, true) {
		return fmt.Errorf("final delta (revisions %d-%d) not stored; the next run resumes from the store's end", r.buf.first(), r.buf.last())
	}
	return nil
}

// backoff doubles from 1s to 30s.
type backoff struct{ d time.Duration }

func newBackoff() *backoff             { return &backoff{d: time.Second} }
func (b *backoff) peek() time.Duration { return b.d }

func (b *backoff) wait(ctx context.Context) bool {
	t := time.NewTimer(b.d)
	defer t.Stop()
	b.d = min(b.d*2, 30*time.Second)
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
