package snapshot

import (
	"bytes"
	"errors"
	"io"
	"math/rand"
	"testing"
)

type failAfter struct {
	n   int
	err error
}

func (f *failAfter) Write(p []byte) (int, error) {
	if f.n -= len(p); f.n < 0 {
		return 0, f.err
	}
	return len(p), nil
}

func TestFanout(t *testing.T) {
	data := make([]byte, 5*fanoutChunk+12345)
	rand.New(rand.NewSource(1)).Read(data)
	var a, b bytes.Buffer
	n, err := fanout(bytes.NewReader(data), &a, &b)
	if err != nil || n != int64(len(data)) || !bytes.Equal(a.Bytes(), data) || !bytes.Equal(b.Bytes(), data) {
		t.Fatalf("fanout: %d bytes, %v; copies equal: %v %v", n, err, bytes.Equal(a.Bytes(), data), bytes.Equal(b.Bytes(), data))
	}
	boom := errors.New("boom")
	var c bytes.Buffer
	if _, err := fanout(bytes.NewReader(data), &c, &failAfter{n: 2 * fanoutChunk, err: boom}); !errors.Is(err, boom) {
		t.Fatalf("a failing writer: %v", err)
	}
	if _, err := fanout(io.MultiReader(bytes.NewReader(data[:100]), iotestErr{boom}), &c); !errors.Is(err, boom) {
		t.Fatalf("a failing reader: %v", err)
	}
	if n, err := fanout(bytes.NewReader(nil), &c); n != 0 || err != nil {
		t.Fatalf("empty: %d %v", n, err)
	}
}

type iotestErr struct{ err error }

func (r iotestErr) Read([]byte) (int, error) { return 0, r.err }
