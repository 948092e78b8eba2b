package snapshot

import (
	"errors"
	"io"
	"sync"
	"sync/atomic"
)

// fanoutChunk is the size of the buffers fanout reads into; fanoutBuffers of them circulate (constant memory).
const (
	fanoutChunk   = 256 << 10
	fanoutBuffers = 4
)

type chunk struct {
	b    []byte
	refs atomic.Int32
}

// fanout copies src to every writer, each in its own goroutine over shared read-only buffers, so that hashing,
// compressing/uploading and the local copy run side by side instead of one after the other. It returns the bytes
// read and the first error of src or of any writer.
func fanout(src io.Reader, dsts ...io.Writer) (int64, error) {
	pool := make(chan *chunk, fanoutBuffers)
	for i := 0; i < fanoutBuffers; i++ {
		pool <- &chunk{b: make([]byte, fanoutChunk)}
	}
	var (
		mu       sync.Mutex
		firstErr error
		failed   atomic.Bool
		wg       sync.WaitGroup
	)
	fail := func(err error) {
		mu.Lock()
		if firstErr == nil {
			firstErr = err
		}
		mu.Unlock()
		failed.Store(true)
	}
	chans := make([]chan *chunk, len(dsts))
	for i, w := range dsts {
		chans[i] = make(chan *chunk, fanoutBuffers)
		wg.Add(1)
		go func(w io.Writer, in <-chan *chunk) {
			defer wg.Done()
			broken := false
			for c := range in {
				if !broken && !failed.Load() {
					if _, err := w.Write(c.b); err != nil {
						fail(err)
						broken = true
					}
				}
				if c.refs.Add(-1) == 0 {
					pool <- c
				}
			}
		}(w, chans[i])
	}
	var total int64
	for !failed.Load() {
		c := <-pool
		n, err := io.ReadFull(src, c.b[:cap(c.b)])
		if n > 0 {
			total += int64(n)
			c.b = c.b[:n]
			c.refs.Store(int32(len(chans)))
			for _, ch := range chans {
				ch <- c
			}
		} else {
			pool <- c
		}
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			break
		}
		if err != nil {
			fail(err)
			break
		}
	}
	for _, ch := range chans {
		close(ch)
	}
	wg.Wait()
	return total, firstErr
}
