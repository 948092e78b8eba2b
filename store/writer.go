package store

import (
	"context"
	"errors"
	"fmt"
	"io"

	"gocloud.dev/blob"
)

// WriteOptions tunes NewWriter.
type WriteOptions struct {
	Metadata    map[string]string
	ContentType string
	// BufferSize and MaxConcurrency bound what a multipart upload holds in memory (BufferSize x MaxConcurrency);
	// zero keeps the backend's defaults.
	BufferSize, MaxConcurrency int
}

// Writer streams one object. It becomes visible under its key only on Commit; Abort (or a failed Commit)
// leaves nothing visible.
type Writer struct {
	w    objectWriter
	s    *Store
	key  string
	done bool
}

// objectWriter is one backend's way of writing an object: gocloud's blob writer, or fileWriter on a directory.
type objectWriter interface {
	Write(p []byte) (int, error)
	commit() error
	abort()
}

// NewWriter starts writing key. Always finish with Commit or Abort.
func (s *Store) NewWriter(ctx context.Context, key string, opts WriteOptions) (*Writer, error) {
	if err := CheckKey(key); err != nil {
		return nil, err
	}
	if path, ok := s.LocalPath(key); ok {
		fw, err := newFileWriter(ctx, path, opts.Metadata)
		if err != nil {
			return nil, s.wrap("write", key, err)
		}
		return &Writer{w: fw, s: s, key: key}, nil
	}
	wctx, cancel := context.WithCancel(ctx)
	ct := opts.ContentType
	if ct == "" {
		ct = "application/octet-stream"
	}
	bopts := &blob.WriterOptions{Metadata: opts.Metadata, ContentType: ct, BufferSize: opts.BufferSize, MaxConcurrency: opts.MaxConcurrency}
	if s.loc.Scheme == "azblob" {
		return &Writer{w: newUploadWriter(wctx, cancel, s.bucket, key, bopts), s: s, key: key}, nil
	}
	w, err := s.bucket.NewWriter(wctx, key, bopts)
	if err != nil {
		cancel()
		return nil, s.wrap("write", key, err)
	}
	return &Writer{w: &blobWriter{w: w, cancel: cancel}, s: s, key: key}, nil
}

func (w *Writer) Write(p []byte) (int, error) {
	n, err := w.w.Write(p)
	if err != nil {
		return n, w.s.wrap("write", w.key, err)
	}
	return n, nil
}

// Commit makes the object visible under its key.
func (w *Writer) Commit() error {
	if w.done {
		return fmt.Errorf("write %s object %s: already finished", w.s.url, w.key)
	}
	w.done = true
	if err := w.w.commit(); err != nil {
		return w.s.wrap("commit", w.key, err)
	}
	return nil
}

// Abort drops what was written; nothing becomes visible. Safe to call after Commit (no-op).
func (w *Writer) Abort() {
	if w.done {
		return
	}
	w.done = true
	w.w.abort()
}

// blobWriter writes through gocloud: the object appears when Close succeeds with its context still live.
type blobWriter struct {
	w      *blob.Writer
	cancel context.CancelFunc
}

func (b *blobWriter) Write(p []byte) (int, error) { return b.w.Write(p) }

func (b *blobWriter) commit() error {
	defer b.cancel()
	return b.w.Close()
}

func (b *blobWriter) abort() {
	b.cancel() // gocloud: a writer whose context is canceled does not commit on Close
	_ = b.w.Close()
}

// errAborted ends an aborted upload's stream, so the backend sees a failed read and commits nothing.
var errAborted = errors.New("write aborted")

// uploadWriter streams through Bucket.Upload, fed by a pipe. It is the azblob path: gocloud v0.47's azureblob
// writer, once an upload has failed (store unreachable, context ended), nils its pipe in the upload goroutine
// while Close still closes it, a nil-pointer panic in Close. Upload hands the driver the whole reader instead,
// and its Close then only waits for the upload and returns its error.
type uploadWriter struct {
	pw     *io.PipeWriter
	cancel context.CancelFunc
	done   chan error
}

func newUploadWriter(ctx context.Context, cancel context.CancelFunc, b *blob.Bucket, key string, opts *blob.WriterOptions) *uploadWriter {
	pr, pw := io.Pipe()
	u := &uploadWriter{pw: pw, cancel: cancel, done: make(chan error, 1)}
	go func() {
		err := b.Upload(ctx, key, pr, opts)
		// A failed upload stops reading: pending and later Writes get its error instead of blocking.
		if err != nil {
			pr.CloseWithError(err)
		} else {
			pr.CloseWithError(io.ErrClosedPipe)
		}
		u.done <- err
	}()
	return u
}

func (u *uploadWriter) Write(p []byte) (int, error) { return u.pw.Write(p) }

func (u *uploadWriter) commit() error {
	defer u.cancel()
	_ = u.pw.Close() // EOF: the upload commits the object
	return <-u.done
}

func (u *uploadWriter) abort() {
	u.cancel() // before the stream ends, so that the backend does not take the end for a whole object
	u.pw.CloseWithError(errAborted)
	<-u.done
}
