package download

import (
	"context"
	"fmt"
	"io"
	"os"
	"syscall"

	"github.com/etcd-dr/etcd-dr/engine/catalog"
	"github.com/etcd-dr/etcd-dr/engine/format"
	"github.com/etcd-dr/etcd-dr/engine/progress"
	"github.com/etcd-dr/etcd-dr/store"
)

// kernelCopyChunk bounds each copy_file_range call so progress moves and cancellation is seen.
const kernelCopyChunk = 64 << 20

// kernelCopyable reports whether snap can be copied byte for byte by the kernel: a plain object on a directory
// store whose only checksum is its trailer (a metadata sha256 of the stored bytes takes the streaming path).
func kernelCopyable(st *store.Store, snap catalog.Snapshot) (string, bool) {
	if snap.Encrypted || snap.Codec.Suffix() != "" || snap.SHA256 != "" {
		return "", false
	}
	return st.LocalPath(snap.Key)
}

// mappedChunk is how much of the mapping is hashed between looks at the context.
const mappedChunk = 8 << 20

// verifyMapped checks the trailer of a plain object by hashing its file through a read-only memory mapping:
// no copy into user space, so hashing keeps pace with the kernel copy beside it.
func verifyMapped(ctx context.Context, snap catalog.Snapshot, path string) (Verified, error) {
	v := Verified{Key: snap.Key}
	f, err := os.Open(path)
	if err != nil {
		return v, fmt.Errorf("read %s: %w", snap.Key, err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return v, fmt.Errorf("read %s: %w", snap.Key, err)
	}
	th := format.NewTrailerHash()
	if size := fi.Size(); size > 0 {
		data, err := syscall.Mmap(int(f.Fd()), 0, int(size), syscall.PROT_READ, syscall.MAP_SHARED)
		if err != nil {
			return v, fmt.Errorf("map %s: %w", snap.Key, err)
		}
		defer syscall.Munmap(data)
		_ = syscall.Madvise(data, syscall.MADV_SEQUENTIAL)
		for off := 0; off < len(data); off += mappedChunk {
			if err := ctx.Err(); err != nil {
				return v, err
			}
			th.Write(data[off:min(off+mappedChunk, len(data))])
		}
	}
	return checkTrailer(snap, th, v)
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
		v, err := verifyMapped(vctx, snap, src)
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
				// Write the copy back to disk while the hash is still running, not after it.
				if err := dst.Sync(); err != nil {
					return fmt.Errorf("sync %s: %w", dst.Name(), err)
				}
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
