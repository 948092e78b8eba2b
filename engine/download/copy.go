package download

import (
	"context"
	"io"
)

// copyBufSize and copyBufs size the pipeline: big reads cut syscalls, several buffers let reading/writing and
// hashing overlap.
const (
	copyBufSize = 1 << 20
	copyBufs    = 4
)

// TeeCopy copies src to dst while a second goroutine feeds the same bytes to side (a hash), so that hashing
// runs beside the I/O instead of after it. It returns the bytes copied. side must not fail.
func TeeCopy(ctx context.Context, dst io.Writer, src io.Reader, side io.Writer) (int64, error) {
	free := make(chan []byte, copyBufs)
	for i := 0; i < copyBufs; i++ {
		free <- make([]byte, copyBufSize)
	}
	work := make(chan []byte, copyBufs)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for b := range work {
			side.Write(b)
			free <- b[:cap(b)]
		}
	}()
	var total int64
	var err error
	for {
		if err = ctx.Err(); err != nil {
			break // the store's reader may not watch the context (file://, mem://): stop here
		}
		buf := <-free
		n, rerr := fill(src, buf)
		if n > 0 {
			if _, werr := dst.Write(buf[:n]); werr != nil {
				err = werr
				break
			}
			total += int64(n)
			work <- buf[:n]
		} else {
			free <- buf
		}
		if rerr == io.EOF {
			break
		}
		if rerr != nil {
			err = rerr
			break
		}
	}
	close(work)
	<-done
	return total, err
}

// fill reads until buf is full or src ends; unlike io.ReadFull it passes on src's own errors unchanged (a
// decompressor's io.ErrUnexpectedEOF means a truncated object) and reports a clean end as io.EOF.
func fill(src io.Reader, buf []byte) (int, error) {
	n := 0
	for n < len(buf) {
		m, err := src.Read(buf[n:])
		n += m
		if err != nil {
			return n, err
		}
	}
	return n, nil
}
