package download

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/etcd-dr/etcd-dr/engine/catalog"
	"github.com/etcd-dr/etcd-dr/engine/fault"
	"github.com/etcd-dr/etcd-dr/engine/format"
	"github.com/etcd-dr/etcd-dr/engine/progress"
	"github.com/etcd-dr/etcd-dr/store"
)

// errStopped ends the download side of Delta when the decoding side stopped first.
var errStopped = errors.New("delta reading stopped")

// DeltaRead is what streaming one delta proved.
type DeltaRead struct {
	Verified
	// Events is the number of events decoded (and handed to the callback).
	Events int `json:"events"`
}

// Delta streams one delta object: read, decrypted and decompressed as Object does, and decoded one event at a
// time by format.DeltaReader within the bounds its name allows, each event handed to each in order. Memory stays
// bounded whatever the object's size: a delta that inflates past what its events can be is refused before it is
// read to the end. m counts decompressed bytes (may be nil). A damaged delta is a fault.ErrProblems naming the object; an error of each is returned as is;
// a failure to read the store is returned unclassified.
func Delta(ctx context.Context, st *store.Store, snap catalog.Snapshot, m *progress.Meter, dec Decrypter, each func(format.DeltaEvent) error) (DeltaRead, error) {
	pr, pw := io.Pipe()
	type result struct {
		v   Verified
		err error
	}
	done := make(chan result, 1)
	w := &pipeWriter{pw: pw}
	go func() {
		v, err := Object(ctx, st, snap, w, m, dec)
		if err != nil {
			pw.CloseWithError(err)
		} else {
			pw.Close()
		}
		done <- result{v, err}
	}()
	dr := format.NewDeltaReader(pr, snap.StartRevision, snap.EndRevision)
	var decodeErr, eachErr error
	for {
		ev, err := dr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			decodeErr = err
			break
		}
		if err := each(ev); err != nil {
			eachErr = err
			break
		}
	}
	pr.CloseWithError(errStopped) // a writer still writing fails instead of reading the rest of the object
	res := <-done
	out := DeltaRead{Verified: res.v, Events: dr.Events()}
	switch {
	case eachErr != nil:
		return out, eachErr
	case ctx.Err() != nil:
		return out, fmt.Errorf("read %s: %w", snap.Key, ctx.Err())
	case res.err != nil && !w.failed:
		// The reading side failed on its own (store, decryption, decompression, checksum): its words are better
		// than what the decoder made of the bytes it was given.
		return out, res.err
	case decodeErr != nil:
		return out, fault.Problems("delta %s (revisions %d-%d): %w", snap.Key, snap.StartRevision, snap.EndRevision, decodeErr)
	}
	return out, nil
}

// pipeWriter remembers that a write failed: the decoding side stopped, and the download's error is only that.
type pipeWriter struct {
	pw     *io.PipeWriter
	failed bool
}

func (w *pipeWriter) Write(p []byte) (int, error) {
	n, err := w.pw.Write(p)
	if err != nil {
		w.failed = true
	}
	return n, err
}
