package snapshot

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path"
	"time"

	retry "github.com/cenkalti/backoff/v5"

	"github.com/etcd-dr/etcd-dr/engine/catalog"
	"github.com/etcd-dr/etcd-dr/store"
)

// uploader moves spooled deltas to the store in revision order, in its own goroutine, so that the watch never
// waits behind a failing upload. Once per run it first reconciles the spool with the store.
type uploader struct {
	s    *Snapshotter
	sp   *spool
	ver  string
	stop context.CancelFunc
	done chan struct{}
}

// newUploadBackoff retries a failing store after 1 s, doubling up to 30 s.
func newUploadBackoff() *retry.ExponentialBackOff {
	b := &retry.ExponentialBackOff{InitialInterval: time.Second, Multiplier: 2, MaxInterval: 30 * time.Second, RandomizationFactor: 0.1}
	b.Reset()
	return b
}

func (s *Snapshotter) startUploader(ctx context.Context, sp *spool, ver string) *uploader {
	uctx, cancel := context.WithCancel(ctx)
	u := &uploader{s: s, sp: sp, ver: ver, stop: cancel, done: make(chan struct{})}
	go u.run(uctx)
	return u
}

// halt stops the uploader and waits for it (an upload in flight is canceled).
func (u *uploader) halt() {
	u.stop()
	<-u.done
}

func (u *uploader) run(ctx context.Context) {
	defer close(u.done)
	b := newUploadBackoff()
	for {
		err := u.pass(ctx)
		if ctx.Err() != nil {
			return
		}
		var wake <-chan time.Time
		if err != nil {
			d := b.NextBackOff()
			u.s.fail(catalog.Delta, err)
			u.s.cfg.Logger.Warn("store unreachable; spooled deltas wait on local disk, the watch goes on", "spool", u.sp.dir, "err", err, "retryIn", d.Round(100*time.Millisecond))
			wake = time.After(d)
		} else {
			b.Reset()
		}
		select {
		case <-ctx.Done():
			return
		case <-wake:
		case <-u.kickWhenHealthy(err):
		}
	}
}

// kickWhenHealthy is the kick channel while uploads work; while they fail only the backoff wakes the
// uploader, so a short delta period does not hammer a store that is away.
func (u *uploader) kickWhenHealthy(err error) <-chan struct{} {
	if err != nil {
		return nil
	}
	return u.sp.kick
}

// pass reconciles the spool with the store if this run has not yet, then uploads every spooled delta in order;
// it stops at the first failure (a later delta must not land before an earlier one).
func (u *uploader) pass(ctx context.Context) error {
	err := u.upload(ctx)
	u.sp.mu.Lock()
	if ctx.Err() == nil {
		u.sp.uploadErr = err
		u.sp.changedLocked()
	}
	u.sp.mu.Unlock()
	return err
}

func (u *uploader) upload(ctx context.Context) error {
	sp := u.sp
	sp.mu.Lock()
	reconciled := sp.reconciled
	sp.mu.Unlock()
	if !reconciled {
		if err := u.reconcile(ctx); err != nil {
			return err
		}
	}
	for {
		sp.mu.Lock()
		es, err := sp.entries()
		storeEnd := sp.storeEnd
		sp.mu.Unlock()
		if err != nil || len(es) == 0 {
			return err
		}
		e := es[0]
		if e.snap.StartRevision != storeEnd+1 {
			// Only a reconcile moves the store's end under the spool; do it again rather than upload a gap or an overlap.
			sp.mu.Lock()
			sp.reconciled = false
			sp.mu.Unlock()
			return fmt.Errorf("spooled delta %s does not continue the store (ends at revision %d); reconciling with the store", e.path, storeEnd)
		}
		data, err := os.ReadFile(e.path)
		if err != nil {
			return fmt.Errorf("read spooled delta %s: %w", e.path, err)
		}
		res := Result{Kind: catalog.Delta, Key: path.Join(Folder, path.Base(e.path)), StartRevision: e.snap.StartRevision,
			EndRevision: e.snap.EndRevision, Final: e.snap.Final, Time: e.snap.Time, EtcdVersion: u.ver}
		u.s.mu.Lock()
		res, err = u.s.uploadDelta(ctx, deltaObject{res: res, data: data, meta: u.s.deltaMeta(u.ver, res.StartRevision, res.EndRevision, -1, data)})
		u.s.mu.Unlock()
		if err != nil {
			return fmt.Errorf("upload spooled delta %s (revisions %d-%d): %w", e.path, e.snap.StartRevision, e.snap.EndRevision, err)
		}
		sp.mu.Lock()
		rmErr := os.Remove(e.path)
		saveErr := sp.saveStoreEndLocked(e.snap.EndRevision)
		sp.changedLocked()
		sp.mu.Unlock()
		u.s.observe(res)
		if rmErr != nil {
			// Next pass sees it as already stored (same key in the store) and tries again.
			return fmt.Errorf("remove uploaded spooled delta %s: %w", e.path, rmErr)
		}
		if saveErr != nil {
			return saveErr
		}
	}
}

// reconcile reads where the store ends and makes the spool continue it: deltas the store already holds under
// the same name (uploaded just before a crash) are removed; deltas that do not continue the store's chain (it
// moved on, lost objects, or belongs to another history) are set aside, and the backup loop is told to go on
// from the store's end instead.
func (u *uploader) reconcile(ctx context.Context) error {
	sp := u.sp
	_, end, err := Last(ctx, u.s.cfg.Store)
	if err != nil {
		return fmt.Errorf("read where the store ends: %w", err)
	}
	sp.mu.Lock()
	es, err := sp.entries()
	sp.mu.Unlock()
	if err != nil {
		return err
	}
	// Deltas ending at or before the store's end are stored already (a crash between the upload and the
	// removal) or belong to a chain the store no longer continues. Looked up without the lock: only the
	// backup loop changes the spool meanwhile, and it only appends.
	stored := map[string]bool{}
	for _, e := range es {
		if e.snap.EndRevision > end {
			break
		}
		_, err := u.s.cfg.Store.Attributes(ctx, path.Join(Folder, path.Base(e.path)))
		switch {
		case err == nil:
			stored[e.path] = true
		case !errors.Is(err, store.ErrNotFound):
			return fmt.Errorf("check whether spooled delta %s is in the store: %w", e.path, err)
		}
	}

	sp.mu.Lock()
	defer sp.mu.Unlock()
	if es, err = sp.entries(); err != nil {
		return err
	}
	var rest, aside []spooled
	for _, e := range es {
		switch {
		case stored[e.path]:
			if err := os.Remove(e.path); err != nil {
				return fmt.Errorf("remove spooled delta %s, already in the store: %w", e.path, err)
			}
			u.s.cfg.Logger.Info("spooled delta already in the store", "key", path.Join(Folder, path.Base(e.path)))
		case e.snap.EndRevision <= end:
			aside = append(aside, e)
		default:
			rest = append(rest, e)
		}
	}
	from := sp.end + 1 // where the spool continues from
	if len(rest) > 0 {
		from = rest[0].snap.StartRevision
	}
	if from != end+1 {
		aside = append(aside, rest...)
	}
	if len(aside) > 0 {
		dir, err := sp.setAsideLocked(aside, u.s.cfg.Now())
		if err != nil {
			return err
		}
		u.s.cfg.Logger.Warn("spooled deltas do not continue the store's newest chain; set aside (not uploaded, not deleted), backing up from the store's end",
			"storeEnd", end, "spoolFrom", from, "deltas", len(aside), "setAside", dir)
	}
	if from != end+1 {
		sp.end = end
		select {
		case sp.resynced <- struct{}{}:
		default:
		}
	}
	sp.reconciled = true
	sp.changedLocked()
	if err := sp.saveStoreEndLocked(end); err != nil {
		return err
	}
	u.s.cfg.Logger.Info("spool reconciled with the store", "storeEnd", end, "spooledDeltas", len(es)-len(aside)-len(stored))
	return nil
}
