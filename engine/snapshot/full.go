package snapshot

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"strconv"
	"time"

	"github.com/etcd-dr/etcd-dr/engine/catalog"
)

// FullOptions tunes one full snapshot.
type FullOptions struct {
	// Force takes the snapshot even when the revision has not changed since the newest full snapshot.
	Force bool
	// Forced marks the result as forced by a compacted watch (metrics and logs).
	Forced bool
}

// Full streams a full snapshot into the store, unless etcd's revision equals the newest full snapshot's.
// The object's name carries the revision inside the snapshot: read before the stream and checked against the
// streamed db itself before the upload is committed; its sha256 trailer is verified before the commit too.
func (s *Snapshotter) Full(ctx context.Context, opts FullOptions) (Result, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.full(ctx, opts)
}

func (s *Snapshotter) full(ctx context.Context, opts FullOptions) (Result, error) {
	started := time.Now()
	res := Result{Kind: catalog.Full, Forced: opts.Forced}
	before, err := s.revision(ctx)
	if err != nil {
		return res, s.fail(catalog.Full, err)
	}
	if !opts.Force && !opts.Forced {
		lastFull, _, err := Last(ctx, s.cfg.Store)
		if err != nil {
			return res, s.fail(catalog.Full, fmt.Errorf("list the store to compare revisions: %w", err))
		}
		if lastFull == before {
			res.Skipped, res.EndRevision = true, before
			res.Why = fmt.Sprintf("revision %d unchanged since the newest full snapshot", before)
			s.cfg.Logger.Info("full snapshot skipped", "revision", before, "why", res.Why)
			s.observe(res)
			return res, nil
		}
	}
	res.EtcdVersion = s.etcdVersion(ctx)
	res.Time = s.cfg.Now().UTC()
	removeStaleCopies(s.cfg.TempDir, s.cfg.Logger)
	// First straight into the store, while etcd stays at before: a watcher of the revision gives up at once
	// when it moves. Then (a busy etcd) again with a plain local copy, to read the revision inside the db.
	done, err := s.attempt(ctx, before, &res, false)
	if errors.Is(err, errMoved) {
		s.cfg.Logger.Info("etcd moved during the full snapshot; taking it again with a local copy to read the revision inside", "from", before)
		if before, err = s.revision(ctx); err == nil {
			done, err = s.attempt(ctx, before, &res, true)
		}
	}
	if err != nil {
		return res, s.fail(catalog.Full, err)
	}
	res.Key, res.EndRevision, res.Size, res.ContentSize = done.key, done.rev, done.stored, done.size
	res.Took = time.Since(started)
	s.cfg.Logger.Info("full snapshot", "key", res.Key, "revision", res.EndRevision, "bytes", res.Size, "dbBytes", res.ContentSize, "took", res.Took.Round(time.Millisecond), "forced", opts.Forced)
	s.observe(res)
	return res, nil
}

// errMoved: etcd's revision moved during a stream without a local copy; the name cannot be proven.
var errMoved = errors.New("etcd's revision moved during the snapshot")

// movedPoll is how often the revision is read while a snapshot streams without a local copy.
const movedPoll = 100 * time.Millisecond

type committed struct {
	key          string
	rev          int64
	stored, size int64
}

// attempt streams one snapshot named for revision before and commits it when that is the revision inside it.
// Without a copy it fails with errMoved as soon as etcd moves; with one, it reads the revision from the streamed
// db and uploads the copy under the right name when they differ.
func (s *Snapshotter) attempt(ctx context.Context, before int64, res *Result, withCopy bool) (committed, error) {
	sctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	g := newStallGuard(sctx, cancel, s.cfg.StallTimeout)
	defer g.stop()
	var tmp *os.File
	if withCopy {
		var err error
		if tmp, err = os.CreateTemp(s.cfg.TempDir, fmt.Sprintf("etcd-dr-full-%d-*.db", os.Getpid())); err != nil {
			return committed{}, fmt.Errorf("temporary copy of the snapshot (set a temp dir with room for one etcd db): %w", err)
		}
		defer func() { tmp.Close(); os.Remove(tmp.Name()) }()
	} else {
		go func() {
			t := time.NewTicker(movedPoll)
			defer t.Stop()
			for {
				select {
				case <-sctx.Done():
					return
				case <-t.C:
					if r, err := s.revision(sctx); err == nil && r != before {
						cancel(errMoved)
						return
					}
				}
			}
		}()
	}
	key := s.fullKey(before, res.Time)
	rc, err := s.cfg.Client.Snapshot(sctx)
	if err != nil {
		return committed{}, fmt.Errorf("start etcd snapshot: %w", err)
	}
	defer rc.Close()
	var tee io.Writer
	if tmp != nil {
		tee = tmp
	}
	p, err := s.stream(sctx, key, s.meta(res.EtcdVersion, 0, before, -1), g.reader(rc), tee)
	if err != nil {
		if errors.Is(context.Cause(sctx), errMoved) {
			return committed{}, errMoved
		}
		return committed{}, g.explain(fmt.Errorf("stream etcd snapshot into %s: %w", key, err))
	}
	after, err := s.revision(sctx)
	if err != nil {
		p.w.Abort()
		return committed{}, err
	}
	inside := before
	if after != before {
		if tmp == nil {
			p.w.Abort()
			return committed{}, errMoved
		}
		// The snapshot holds a revision in [before, after]: read which from the streamed db itself.
		if inside, err = DBRevision(tmp.Name()); err != nil {
			p.w.Abort()
			return committed{}, fmt.Errorf("read the revision inside the streamed snapshot: %w", err)
		}
	}
	if inside != before {
		// The name would lie: upload the plain copy again under the revision inside it.
		p.w.Abort()
		s.cfg.Logger.Info("uploading the full snapshot under the revision inside it", "named", before, "inside", inside)
		key = s.fullKey(inside, res.Time)
		if _, err := tmp.Seek(0, io.SeekStart); err != nil {
			return committed{}, err
		}
		g.touch()
		if p, err = s.stream(sctx, key, s.meta(res.EtcdVersion, 0, inside, p.th.Size()), g.reader(tmp), nil); err != nil {
			return committed{}, g.explain(fmt.Errorf("upload %s: %w", key, err))
		}
	}
	if err := p.w.Commit(); err != nil {
		return committed{}, err
	}
	return committed{key: key, rev: inside, stored: p.stored, size: p.th.Size()}, nil
}

func (s *Snapshotter) fullKey(rev int64, t time.Time) string {
	return path.Join(Folder, catalog.Name(catalog.Full, 0, rev, t, s.cfg.Compression, false, s.cfg.Encrypt != nil))
}

// meta is the object metadata etcd-dr writes; contentSize < 0 leaves it out (unknown before a stream ends).
func (s *Snapshotter) meta(etcdVersion string, start, end, contentSize int64) map[string]string {
	m := map[string]string{
		catalog.MetaEtcdDR:        WriterVersion,
		catalog.MetaStartRevision: strconv.FormatInt(start, 10),
		catalog.MetaEndRevision:   strconv.FormatInt(end, 10),
	}
	if etcdVersion != "" {
		m[catalog.MetaEtcdVersion] = etcdVersion
	}
	if contentSize >= 0 {
		m[catalog.MetaContentSize] = strconv.FormatInt(contentSize, 10)
	}
	return m
}

// errStalled is the cause of a stream canceled for making no progress.
var errStalled = errors.New("stalled")
