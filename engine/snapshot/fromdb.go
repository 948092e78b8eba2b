package snapshot

import (
	"context"
	"crypto/sha256"
	"fmt"
	"hash"
	"io"
	"os"
	"time"

	"github.com/etcd-dr/etcd-dr/engine/catalog"
)

// FullFromDB writes an etcd db file that no etcd serves (a chain folded into one db by compact) into the store as
// a full snapshot, the way Full writes etcd's: the v2 name of rev, etcd-dr's metadata with etcdVersion, cfg's
// compression and encryption, etcd's sha256 trailer appended and verified, and the revision inside the db checked
// against rev, all before the upload is committed. cfg.Client is not used.
func FullFromDB(ctx context.Context, cfg Config, db string, rev int64, etcdVersion string) (Result, error) {
	if cfg.Store == nil {
		return Result{}, fmt.Errorf("snapshot: Store is required")
	}
	s, err := newSnapshotter(cfg)
	if err != nil {
		return Result{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	started := time.Now()
	res := Result{Kind: catalog.Full, EndRevision: rev, EtcdVersion: etcdVersion, Time: s.cfg.Now().UTC()}
	// The name must be the revision inside: read from the db itself, as Full does for a busy etcd.
	inside, err := DBRevision(db)
	if err != nil {
		return res, err
	}
	if inside != rev {
		return res, fmt.Errorf("db %s holds revision %d, not %d: not uploaded", db, inside, rev)
	}
	f, err := os.Open(db)
	if err != nil {
		return res, fmt.Errorf("open db %s: %w", db, err)
	}
	defer f.Close()
	sctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	g := newStallGuard(sctx, cancel, s.cfg.StallTimeout)
	defer g.stop()
	key := s.fullKey(rev, res.Time)
	p, err := s.stream(sctx, key, s.meta(etcdVersion, 0, rev, -1), g.reader(&trailed{r: f, h: sha256.New()}), nil)
	if err != nil {
		return res, g.explain(fmt.Errorf("upload %s from %s: %w", key, db, err))
	}
	if err := p.w.Commit(); err != nil {
		return res, fmt.Errorf("commit %s: %w", key, err)
	}
	res.Key, res.Size, res.ContentSize, res.Took = key, p.stored, p.th.Size(), time.Since(started)
	s.cfg.Logger.Info("full snapshot from a db", "key", key, "revision", rev, "bytes", res.Size, "dbBytes", res.ContentSize, "took", res.Took.Round(time.Millisecond))
	s.observe(res)
	return res, nil
}

// trailed reads r and then the sha256 of what it read: a db file as etcd's Maintenance.Snapshot sends it.
type trailed struct {
	r    io.Reader
	h    hash.Hash
	tail []byte
	eof  bool
}

func (t *trailed) Read(p []byte) (int, error) {
	if !t.eof {
		n, err := t.r.Read(p)
		t.h.Write(p[:n])
		if err == io.EOF {
			t.eof, t.tail = true, t.h.Sum(nil)
			err = nil
		}
		if n > 0 || err != nil {
			return n, err
		}
	}
	if len(t.tail) == 0 {
		return 0, io.EOF
	}
	n := copy(p, t.tail)
	t.tail = t.tail[n:]
	return n, nil
}
