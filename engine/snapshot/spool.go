package snapshot

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/etcd-dr/etcd-dr/engine/catalog"
)

// DefaultSpoolLimit bounds the spool (bytes of stored deltas) unless Config.SpoolLimit says otherwise.
const DefaultSpoolLimit = 1 << 30

// spool keeps delta objects on local disk, in revision order, on their way to the store: every delta goes
// here first and a background uploader moves them to the store, so the watch never waits behind a failing
// upload (etcd may compact its history meanwhile) and the chain continues without a gap once the store is
// back, even across a crash. Files are the objects' stored bytes under their object names, written
// atomically; storeEndFile remembers where the store ended, so a restart with an empty spool resumes at once.
type spool struct {
	dir   string
	limit int64

	mu sync.Mutex
	// end is the last revision the spool's deltas reach (the store's end when the spool is empty): the next
	// delta put must start at end+1. 0: unknown (nothing to continue).
	end int64
	// storeEnd is the last revision the store holds, as far as this spool knows (persisted).
	storeEnd int64
	// reconciled is set once storeEnd was read from the store itself in this run (or the run wrote there).
	reconciled bool
	// uploadErr is the last upload failure, nil after a success.
	uploadErr error
	// changed is closed and replaced whenever the spool's content or upload state changes.
	changed chan struct{}
	// kick wakes the uploader (buffered, 1); resynced tells the backup loop that end moved (buffered, 1).
	kick     chan struct{}
	resynced chan struct{}
}

type spooled struct {
	path string
	snap catalog.Snapshot
	size int64
}

const (
	spoolTmp      = ".spooling-"
	storeEndFile  = "store-end"
	setAsidePrefx = "set-aside-"
)

// errSpoolFull: the spool holds its limit; the delta stays in memory.
var errSpoolFull = errors.New("spool full")

// outOfStepError: a delta put does not start where the spool ends (the uploader moved the end to the store's).
type outOfStepError struct{ end int64 }

func (e outOfStepError) Error() string {
	return fmt.Sprintf("the spool continues from revision %d", e.end+1)
}

// openSpool reads what a previous run left in dir: its deltas and where the store ended.
func openSpool(dir string, limit int64) (*spool, error) {
	sp := &spool{dir: dir, limit: limit, changed: make(chan struct{}), kick: make(chan struct{}, 1), resynced: make(chan struct{}, 1)}
	// A kill -9 in the middle of a put leaves a partial temporary file: never a delta, so it goes.
	tmps, _ := filepath.Glob(filepath.Join(dir, spoolTmp+"*"))
	for _, tmp := range tmps {
		_ = os.Remove(tmp)
	}
	b, err := os.ReadFile(filepath.Join(dir, storeEndFile))
	switch {
	case err == nil:
		if sp.storeEnd, err = strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64); err != nil {
			return nil, fmt.Errorf("spool %s: %s holds %q, not a revision (move the file away to start over from the store's end)", dir, storeEndFile, b)
		}
	case !os.IsNotExist(err):
		return nil, fmt.Errorf("spool %s: %w", dir, err)
	}
	es, err := sp.entries()
	if err != nil {
		return nil, err
	}
	sp.end = sp.storeEnd
	if len(es) > 0 {
		sp.end = es[len(es)-1].snap.EndRevision
	}
	return sp, nil
}

// entries are the spooled deltas, in revision order.
func (sp *spool) entries() ([]spooled, error) {
	des, err := os.ReadDir(sp.dir)
	if err != nil {
		return nil, fmt.Errorf("spool %s: %w", sp.dir, err)
	}
	var out []spooled
	for _, de := range des {
		if de.IsDir() || strings.HasPrefix(de.Name(), spoolTmp) {
			continue
		}
		snap, ok := catalog.ParseName(de.Name())
		if !ok || snap.Kind != catalog.Delta {
			continue
		}
		fi, err := de.Info()
		if err != nil {
			return nil, fmt.Errorf("spool %s: %w", sp.dir, err)
		}
		out = append(out, spooled{path: filepath.Join(sp.dir, de.Name()), snap: snap, size: fi.Size()})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].snap.StartRevision < out[j].snap.StartRevision })
	return out, nil
}

func sizeOf(es []spooled) (n int64) {
	for _, e := range es {
		n += e.size
	}
	return n
}

// put adds obj to the spool when it continues the spool's end and fits in the limit, and wakes the uploader.
func (sp *spool) put(obj deltaObject) error {
	sp.mu.Lock()
	defer sp.mu.Unlock()
	if sp.end == 0 || obj.res.StartRevision != sp.end+1 {
		return outOfStepError{end: sp.end}
	}
	es, err := sp.entries()
	if err != nil {
		return err
	}
	if used := sizeOf(es); used+int64(len(obj.data)) > sp.limit {
		return fmt.Errorf("%w: %s holds %d bytes of deltas, the limit is %d", errSpoolFull, sp.dir, used, sp.limit)
	}
	if err := writeFileAtomic(sp.dir, path.Base(obj.res.Key), obj.data); err != nil {
		return fmt.Errorf("spool delta %s in %s: %w", path.Base(obj.res.Key), sp.dir, err)
	}
	sp.end = obj.res.EndRevision
	sp.changedLocked()
	select {
	case sp.kick <- struct{}{}:
	default:
	}
	return nil
}

// restart says the store now ends at rev and this run knows it (a full snapshot taken, or the store read):
// the spool is empty and continues from there.
func (sp *spool) restart(rev int64) error {
	sp.mu.Lock()
	defer sp.mu.Unlock()
	sp.end, sp.reconciled = rev, true
	sp.changedLocked()
	return sp.saveStoreEndLocked(rev)
}

// End is where the spool ends.
func (sp *spool) End() int64 {
	sp.mu.Lock()
	defer sp.mu.Unlock()
	return sp.end
}

func (sp *spool) saveStoreEndLocked(rev int64) error {
	sp.storeEnd = rev
	if err := writeFileAtomic(sp.dir, storeEndFile, []byte(strconv.FormatInt(rev, 10)+"\n")); err != nil {
		return fmt.Errorf("record the store's end (revision %d) in %s: %w", rev, sp.dir, err)
	}
	return nil
}

func (sp *spool) changedLocked() {
	close(sp.changed)
	sp.changed = make(chan struct{})
}

// setAsideLocked moves es into a set-aside folder of the spool: kept for an operator to look at, never
// uploaded, never deleted.
func (sp *spool) setAsideLocked(es []spooled, now time.Time) (string, error) {
	if len(es) == 0 {
		return "", nil
	}
	dir := filepath.Join(sp.dir, setAsidePrefx+now.UTC().Format("20060102T150405.000000000Z"))
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", fmt.Errorf("set spooled deltas aside in %s: %w", dir, err)
	}
	for _, e := range es {
		if err := os.Rename(e.path, filepath.Join(dir, filepath.Base(e.path))); err != nil {
			return dir, fmt.Errorf("set spooled delta %s aside in %s: %w", e.path, dir, err)
		}
	}
	syncDir(sp.dir)
	syncDir(dir)
	sp.changedLocked()
	return dir, nil
}

// waitDrained waits until this run knows the store's end and every spooled delta is in the store. With
// giveUp it returns as soon as an upload fails instead of waiting for the store to come back.
func (sp *spool) waitDrained(ctx context.Context, giveUp bool) error {
	for {
		sp.mu.Lock()
		es, err := sp.entries()
		reconciled, uploadErr, changed := sp.reconciled, sp.uploadErr, sp.changed
		sp.mu.Unlock()
		switch {
		case err != nil:
			return err
		case reconciled && len(es) == 0:
			return nil
		case giveUp && uploadErr != nil:
			return fmt.Errorf("%d deltas wait in the spool %s for the store: %w", len(es), sp.dir, uploadErr)
		}
		select {
		case sp.kick <- struct{}{}:
		default:
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%d deltas wait in the spool %s for the store: %w", len(es), sp.dir, context.Cause(ctx))
		case <-changed:
		}
	}
}

// writeFileAtomic writes data to dir/name: a temporary file, synced, renamed into place, the folder synced.
func writeFileAtomic(dir, name string, data []byte) error {
	tmp := filepath.Join(dir, spoolTmp+name)
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, filepath.Join(dir, name))
	}
	if err != nil {
		os.Remove(tmp)
		return err
	}
	syncDir(dir)
	return nil
}

func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		d.Close()
	}
}
