package download

import (
	"context"
	"fmt"
	"io"
	"os"

	"github.com/etcd-dr/etcd-dr/engine/catalog"
	"github.com/etcd-dr/etcd-dr/engine/progress"
	"github.com/etcd-dr/etcd-dr/store"
)

// kernelCopyChunk bounds each copy_file_range call so progress moves and cancellation is seen.
const kernelCopyChunk = 64 << 20

// kernelCopyable reports whether snap can be copied byte for byte by the kernel: a plain object on a directory store.
func kernelCopyable(st *store.Store, snap catalog.Snapshot) (string, bool) {
	if snap.Encrypted || snap.Codec.Suffix() != "" {
		return "", false
	}
	return st.LocalPath(snap.Key)
}

// kernelCopy copies a plain object from a directory store into dst with copy_file_range (what cp does), while
// Object verifies the same object in a second goroutine; the copy counts only if the verification passes.
func kernelCopy(ctx context.Context, st *store.Store, snap catalog.Snapshot, src string, dst *os.File, m *progress.Meter) (Verified, error) {
	type result struct {
		v   Verified
		err error
	}
	verified := make(chan result, 1)
	vctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		v, err := Object(vctx, st, snap, io.Discard, nil, nil)
		verified <- result{v, err}
	}()
	copyErr := func() error {
		f, err := os.Open(src)
		if err != nil {
			return fmt.Errorf("read %s: %w", snap.Key, err)
		}
		defer f.Close()
		for {
			if err := ctx.Err(); err != nil {
				return err
			}
			n, err := io.CopyN(dst, f, kernelCopyChunk)
			m.Add(n)
			if err == io.EOF {
				return nil
			}
			if err != nil {
				return fmt.Errorf("copy %s: %w", snap.Key, err)
			}
		}
	}()
	if copyErr != nil {
		cancel()
		<-verified
		return Verified{Key: snap.Key}, copyErr
	}
	r := <-verified
	if r.err == nil && r.v.Bytes != m.Done() {
		return r.v, fmt.Errorf("copy %s: copied %d bytes but verified %d: the object changed while it was read; try again", snap.Key, m.Done(), r.v.Bytes)
	}
	return r.v, r.err
}
