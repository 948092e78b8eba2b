package snapshot

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync/atomic"
	"time"

	"github.com/etcd-dr/etcd-dr/engine/format"
	"github.com/etcd-dr/etcd-dr/store"
)

// pending is an upload written in full but not yet committed.
type pending struct {
	w      *store.Writer
	th     *format.TrailerHash // over the plain bytes: etcd's sha256 trailer, verified
	stored int64
}

// Multipart uploads hold at most uploadPartSize x uploadConcurrency bytes: constant memory at any db size.
const (
	uploadPartSize    = 5 << 20 // S3's minimum part size
	uploadConcurrency = 4
)

// stream writes src into a new object key: plain bytes (teed into tee when set, and through the trailer check)
// -> compression -> encryption -> store. The trailer is verified before it returns; the caller commits.
func (s *Snapshotter) stream(ctx context.Context, key string, meta map[string]string, src io.Reader, tee io.Writer) (*pending, error) {
	w, err := s.cfg.Store.NewWriter(ctx, key, store.WriteOptions{Metadata: meta, BufferSize: uploadPartSize, MaxConcurrency: uploadConcurrency})
	if err != nil {
		return nil, err
	}
	p := &pending{w: w, th: format.NewTrailerHash()}
	ok := false
	defer func() {
		if !ok {
			w.Abort()
		}
	}()
	cw := &counter{w: w}
	var sink io.Writer = cw
	var enc io.WriteCloser
	if s.cfg.Encrypt != nil {
		if enc, err = s.cfg.Encrypt(cw); err != nil {
			return nil, fmt.Errorf("encrypt: %w", err)
		}
		sink = enc
	}
	comp, err := format.NewCompressor(sink, s.cfg.Compression)
	if err != nil {
		return nil, err
	}
	dst := []io.Writer{p.th, comp}
	if tee != nil {
		dst = append(dst, tee)
	}
	if _, err := fanout(src, dst...); err != nil {
		return nil, err
	}
	if err := comp.Close(); err != nil {
		return nil, fmt.Errorf("compress: %w", err)
	}
	if enc != nil {
		if err := enc.Close(); err != nil {
			return nil, fmt.Errorf("encrypt: %w", err)
		}
	}
	if err := p.th.Verify(); err != nil {
		return nil, fmt.Errorf("etcd's snapshot of %d bytes failed its sha256 check, not uploaded: %w", p.th.Size(), err)
	}
	p.stored = cw.n
	ok = true
	return p, nil
}

// counter counts what passes to w. (A full snapshot's stored bytes are not hashed: object metadata is fixed
// before the stream starts, so the hash could not be recorded; etcd's own sha256 trailer protects the content.)
type counter struct {
	w io.Writer
	n int64
}

func (c *counter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// stallGuard cancels a context when the streams it watches make no progress for a while: no deadline on a
// stream that moves, however long it takes.
type stallGuard struct {
	last    atomic.Int64
	timeout time.Duration
	cancel  context.CancelCauseFunc
	done    chan struct{}
	fired   atomic.Bool
}

func newStallGuard(ctx context.Context, cancel context.CancelCauseFunc, timeout time.Duration) *stallGuard {
	g := &stallGuard{timeout: timeout, cancel: cancel, done: make(chan struct{})}
	g.touch()
	tick := max(timeout/8, 10*time.Millisecond)
	go func() {
		t := time.NewTicker(tick)
		defer t.Stop()
		for {
			select {
			case <-g.done:
				return
			case <-ctx.Done():
				return
			case <-t.C:
				if time.Since(time.Unix(0, g.last.Load())) > g.timeout {
					g.fired.Store(true)
					cancel(fmt.Errorf("%w: no progress for %s", errStalled, g.timeout))
					return
				}
			}
		}
	}()
	return g
}

func (g *stallGuard) touch() { g.last.Store(time.Now().UnixNano()) }
func (g *stallGuard) stop()  { close(g.done) }

// reader marks progress on every read.
func (g *stallGuard) reader(r io.Reader) io.Reader { return guardReader{r: r, g: g} }

// explain names a stall as the reason of err.
func (g *stallGuard) explain(err error) error {
	if g.fired.Load() {
		return fmt.Errorf("%w (%w: no progress for %s)", err, errStalled, g.timeout)
	}
	return err
}

type guardReader struct {
	r io.Reader
	g *stallGuard
}

func (r guardReader) Read(p []byte) (int, error) {
	n, err := r.r.Read(p)
	if n > 0 {
		r.g.touch()
	}
	return n, err
}

// IsStalled reports whether err is a stream given up for lack of progress.
func IsStalled(err error) bool { return errors.Is(err, errStalled) }
