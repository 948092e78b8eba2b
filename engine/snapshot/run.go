package snapshot

import (
	"context"
	"errors"
	"fmt"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

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
		sp, err := openSpool(s.cfg.SpoolDir, s.cfg.SpoolLimit)
		if err != nil {
			return err
		}
		r.spool = sp
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
	spool   *spool    // nil without a SpoolDir
	up      *uploader // moves the spool to the store (nil without a spool)
	// needFull is set when the spool's end is unknown (the store holds no chain it continues): the next tick
	// takes a full snapshot to start one.
	needFull bool
	// spoolFullSince is when the spool refused a delta for lack of room (zero: it did not); loud, not silent.
	spoolFullSince, spoolFullLogged time.Time
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
		if r.up != nil {
			r.up.halt()
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
			if r.needFull {
				if _, err := r.fullLocked(ctx, FullOptions{Force: true}); err != nil {
					r.s.cfg.Logger.Error("full snapshot to start a new chain failed; will retry", "err", err)
				}
				continue
			}
			r.flush(ctx, false)
		case <-r.resynced():
			r.resync(r.spool.End())
		case resp, ok := <-r.watchCh():
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
// With a spool that knows where it ends, the watch resumes from there at once, without waiting for the store;
// the uploader reconciles the spool with the store once it answers.
func (r *runner) resume(ctx context.Context) error {
	r.ver = r.s.etcdVersion(ctx)
	cur, err := r.s.revision(ctx)
	if err != nil {
		return err
	}
	if r.spool != nil {
		if done, err := r.resumeSpool(cur); done || err != nil {
			return err
		}
	}
	_, end, err := Last(ctx, r.s.cfg.Store)
	if err != nil {
		return err
	}
	if r.spool != nil {
		// The store itself said where it ends: the spool (empty) continues from there.
		if err := r.spool.restart(end); err != nil {
			return err
		}
		if r.up == nil {
			r.up = r.s.startUploader(r.wctx, r.spool, r.ver)
		}
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

// resumeSpool starts the watch from the spool's end when the spool knows it and etcd has reached it.
func (r *runner) resumeSpool(cur int64) (bool, error) {
	sp := r.spool
	end := sp.End()
	if end > cur {
		// etcd restored, or the spool of another cluster: what it holds is no history of this etcd.
		sp.mu.Lock()
		es, err := sp.entries()
		var dir string
		if err == nil {
			dir, err = sp.setAsideLocked(es, r.s.cfg.Now())
		}
		sp.end = 0
		sp.mu.Unlock()
		if err != nil {
			return false, err
		}
		r.s.cfg.Logger.Warn("etcd is behind the spool's end (restored etcd, or another cluster's spool); spooled deltas set aside, resuming from the store", "etcdRevision", cur, "spoolEnd", end, "setAside", dir)
		return false, nil
	}
	if end == 0 {
		return false, nil
	}
	r.s.cfg.Logger.Info("resuming from the spool's end; the spool goes to the store beside the watch", "from", end+1, "etcdRevision", cur, "spool", sp.dir)
	r.next = end + 1
	r.restartWatch()
	if r.up == nil {
		r.up = r.s.startUploader(r.wctx, sp, r.ver)
	}
	return true, nil
}

// resync makes the backup loop continue the spool's end after the uploader moved it to the store's: buffered
// revisions the store holds are dropped, and the watch goes back when the spool no longer holds what the
// loop had passed on (etcd compacted meanwhile: the watch forces a full snapshot, logged).
func (r *runner) resync(end int64) {
	if end == 0 {
		r.s.cfg.Logger.Warn("the store holds no chain for the spool to continue; taking a full snapshot to start one")
		r.buf.reset()
		r.needFull, r.next = true, 0
		if !r.stopped {
			r.w.cancel()
			r.stopped = true
		}
		return
	}
	r.buf.dropThrough(end)
	switch {
	case len(r.buf.events) > 0 && r.buf.first() == end+1:
	case len(r.buf.events) == 0 && r.next <= end+1:
		r.next = end + 1 // take drops what the store holds
	default:
		r.s.cfg.Logger.Warn("going back to the store's end: revisions after it are only in deltas set aside", "from", end+1, "was", r.next)
		r.buf.reset()
		r.next = end + 1
		r.restartWatch()
	}
}

func (r *runner) resynced() <-chan struct{} {
	if r.spool == nil {
		return nil
	}
	return r.spool.resynced
}

// watchCh is the watch's channel, nil while the watch is stopped (a canceled watch's channel is closed).
func (r *runner) watchCh() clientv3.WatchChan {
	if r.stopped || r.w == nil {
		return nil
	}
	return r.w.ch
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
	if r.spool != nil {
		// The spooled deltas continue the current chain: they go to the store before a full snapshot starts
		// the next one. A requested snapshot does not wait for a store that is away; a forced one must.
		if err := r.spool.waitDrained(ctx, !opts.Forced && !r.needFull); err != nil {
			return Result{Kind: catalog.Full}, fmt.Errorf("full snapshot postponed: %w", err)
		}
	}
	r.s.mu.Lock()
	res, err := r.s.full(ctx, opts)
	r.s.mu.Unlock()
	if err != nil {
		return res, err
	}
	if r.spool != nil && !res.Skipped {
		if err := r.spool.restart(res.EndRevision); err != nil {
			r.s.cfg.Logger.Error("full snapshot stored, but the spool could not record it", "key", res.Key, "err", err)
		}
		r.needFull = false
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
	if r.spool != nil {
		return r.spoolFlush(final)
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

// spoolFlush puts the buffer into the spool, never waiting for the store; the uploader takes it from there.
// It reports false when the spool cannot take it (full, or unwritable): the events stay in memory, and past
// MemoryLimit the watch pauses until the spool has room again.
func (r *runner) spoolFlush(final bool) bool {
	for attempt := 0; ; attempt++ {
		obj, err := r.s.buildDelta(&r.buf, r.ver, final)
		if err != nil {
			r.s.cfg.Logger.Error("encode delta", "from", r.buf.first(), "to", r.buf.last(), "err", err)
			return false
		}
		err = r.spool.put(obj)
		var step outOfStepError
		switch {
		case err == nil:
			r.s.cfg.Logger.Debug("delta spooled", "key", obj.res.Key, "from", obj.res.StartRevision, "to", obj.res.EndRevision, "events", obj.res.Events)
			r.buf.reset()
			if !r.spoolFullSince.IsZero() {
				r.s.cfg.Logger.Warn("the spool has room again", "spool", r.spool.dir, "fullFor", time.Since(r.spoolFullSince).Round(time.Second))
				r.spoolFullSince, r.spoolFullLogged = time.Time{}, time.Time{}
			}
			if r.stopped {
				r.restartWatch()
			}
			return true
		case errors.As(err, &step) && attempt == 0:
			r.resync(step.end)
			if len(r.buf.events) == 0 || r.needFull {
				return true
			}
			continue
		}
		now := time.Now()
		if r.spoolFullSince.IsZero() {
			r.spoolFullSince = now
		}
		if now.Sub(r.spoolFullLogged) >= 30*time.Second {
			r.spoolFullLogged = now
			r.s.cfg.Logger.Error("SPOOL CANNOT TAKE DELTAS: events wait in memory; past the memory limit the watch pauses, and if etcd compacts meanwhile a full snapshot starts a new chain (a gap in point-in-time restores). Free room in the spool or bring the store back",
				"spool", r.spool.dir, "limit", r.spool.limit, "from", r.buf.first(), "to", r.buf.last(), "err", err)
		}
		if r.buf.bytes >= r.s.cfg.MemoryLimit && !r.stopped {
			r.s.cfg.Logger.Error("watch paused: the spool is full and the buffered events reached the memory limit", "spool", r.spool.dir, "next", r.next, "memoryLimit", r.s.cfg.MemoryLimit)
			r.w.cancel()
			r.stopped = true
		}
		return false
	}
}

// handOver drops what is buffered: the next leader resumes from the store's end and stores those revisions.
func (r *runner) handOver() {
	if len(r.buf.events) > 0 {
		r.s.cfg.Logger.Info("no longer the backup leader; leaving the buffered revisions to the next leader", "from", r.buf.first(), "to", r.buf.last())
	}
	r.buf.reset()
	if r.up != nil {
		// Stop uploading at once: the next leader continues from the store's end, and a late upload of ours
		// would overlap its deltas. What stays in the spool is reconciled when this member leads again.
		r.up.halt()
		r.up = nil
	}
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
	if r.spool != nil {
		return r.finalSpool(ctx)
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

// finalSpool spools the last delta, then gives the spool one last upload pass (the uploader stopped first, so
// that pass does not wait for its backoff). What the store does not take stays spooled for the next run.
func (r *runner) finalSpool(ctx context.Context) error {
	if len(r.buf.events) > 0 && !r.flush(ctx, true) {
		return fmt.Errorf("final delta (revisions %d-%d) neither spooled in %s nor stored; the next run resumes from the spool's end", r.buf.first(), r.buf.last(), r.spool.dir)
	}
	if r.up != nil {
		r.up.halt()
		r.up = nil
	}
	u := &uploader{s: r.s, sp: r.spool, ver: r.ver}
	if err := u.pass(ctx); err != nil {
		n, _ := r.spool.entries()
		r.s.cfg.Logger.Warn("stopped with deltas still spooled; the next run uploads them", "spool", r.spool.dir, "deltas", len(n), "err", err)
		return nil
	}
	r.s.cfg.Logger.Info("stopped; spool uploaded", "storeEnd", r.spool.End())
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
