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
	removeStaleCopies(s.cfg.TempDir, s.cfg.Logger)
	tmp, err := os.CreateTemp(s.cfg.TempDir, fmt.Sprintf("etcd-dr-full-%d-*.db", os.Getpid()))
	if err != nil {
		return res, s.fail(catalog.Full, fmt.Errorf("temporary copy of the snapshot (set a temp dir with room for one etcd db): %w", err))
	}
	defer func() { tmp.Close(); os.Remove(tmp.Name()) }()

	res.Time = s.cfg.Now().UTC()
	key := s.fullKey(before, res.Time)
	sctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	g := newStallGuard(sctx, cancel, s.cfg.StallTimeout)
	defer g.stop()
	rc, err := s.cfg.Client.Snapshot(sctx)
	if err != nil {
		return res, s.fail(catalog.Full, fmt.Errorf("start etcd snapshot: %w", err))
	}
	defer rc.Close()
	p, err := s.stream(sctx, key, s.meta(res.EtcdVersion, 0, before, -1), g.reader(rc), tmp)
	if err != nil {
		return res, s.fail(catalog.Full, g.explain(fmt.Errorf("stream etcd snapshot into %s: %w", key, err)))
	}
	after, err := s.revision(sctx)
	if err != nil {
		p.w.Abort()
		return res, s.fail(catalog.Full, err)
	}
	inside := before
	if after != before {
		// The snapshot holds a revision in [before, after]: read which from the streamed db itself.
		if inside, err = DBRevision(tmp.Name()); err != nil {
			p.w.Abort()
			return res, s.fail(catalog.Full, fmt.Errorf("read the revision inside the streamed snapshot: %w", err))
		}
	}
	if inside != before {
		// etcd moved during the stream: the name would lie. Upload the plain copy again under the right name.
		p.w.Abort()
		s.cfg.Logger.Info("revision moved during the full snapshot; uploading under the revision inside it", "named", before, "inside", inside)
		key = s.fullKey(inside, res.Time)
		if _, err := tmp.Seek(0, io.SeekStart); err != nil {
			return res, s.fail(catalog.Full, err)
		}
		g.touch()
		if p, err = s.stream(sctx, key, s.meta(res.EtcdVersion, 0, inside, p.th.Size()), g.reader(tmp), nil); err != nil {
			return res, s.fail(catalog.Full, g.explain(fmt.Errorf("upload %s: %w", key, err)))
		}
	}
	if err := p.w.Commit(); err != nil {
		return res, s.fail(catalog.Full, err)
	}
	res.Key, res.EndRevision = key, inside
	res.Size, res.ContentSize = p.stored, p.th.Size()
	res.Took = time.Since(started)
	s.cfg.Logger.Info("full snapshot", "key", key, "revision", inside, "bytes", res.Size, "dbBytes", res.ContentSize, "took", res.Took.Round(time.Millisecond), "forced", opts.Forced)
	s.observe(res)
	return res, nil
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
