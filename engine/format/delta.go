package format

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"time"

	"go.etcd.io/etcd/api/v3/mvccpb"
)

// DeltaEvent is one watch event as etcd-backup-restore stores it in an incremental snapshot.
type DeltaEvent struct {
	EtcdEvent *mvccpb.Event `json:"etcdEvent"`
	Time      time.Time     `json:"time"`
}

// Revision is the event's mod revision (for a delete, the revision of the delete).
func (e DeltaEvent) Revision() int64 {
	if e.EtcdEvent == nil || e.EtcdEvent.Kv == nil {
		return 0
	}
	return e.EtcdEvent.Kv.ModRevision
}

// EncodeDelta writes events as etcd-backup-restore does: the JSON array followed by the sha256 of that JSON.
func EncodeDelta(w io.Writer, events []DeltaEvent) error {
	_, err := WriteDelta(w, events)
	return err
}

// WriteDelta is EncodeDelta one event at a time (byte for byte what json.Marshal of the slice gives), never
// holding the whole JSON; it returns the bytes written, trailer included. No events encode as "[]", never "null".
func WriteDelta(w io.Writer, events []DeltaEvent) (int64, error) {
	h := sha256.New()
	cw := &countingWriter{w: io.MultiWriter(w, h)}
	sep := []byte("[")
	if len(events) == 0 {
		sep = []byte("[]")
	}
	for i := range events {
		b, err := json.Marshal(events[i])
		if err != nil {
			return 0, fmt.Errorf("encode delta: %w", err)
		}
		if _, err := cw.Write(sep); err != nil {
			return 0, err
		}
		if _, err := cw.Write(b); err != nil {
			return 0, err
		}
		sep = []byte(",")
	}
	end := []byte("]")
	if len(events) == 0 {
		end = sep
	}
	if _, err := cw.Write(end); err != nil {
		return 0, err
	}
	if _, err := w.Write(h.Sum(nil)); err != nil {
		return 0, err
	}
	return cw.n + TrailerSize, nil
}

type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// DecodeDelta reads an uncompressed delta, checks its sha256 trailer and decodes the events, all in memory: for
// small deltas and tests. Readers of stored objects stream with DeltaReader.
func DecodeDelta(r io.Reader) ([]DeltaEvent, error) {
	dr := NewDeltaReader(r, 1, 0)
	var events []DeltaEvent
	for {
		ev, err := dr.Next()
		if err == io.EOF {
			return events, nil
		}
		if err != nil {
			return nil, err
		}
		events = append(events, ev)
	}
}

// DecodeDeltaBytes is DecodeDelta on bytes in memory.
func DecodeDeltaBytes(data []byte) ([]DeltaEvent, error) {
	return DecodeDelta(bytes.NewReader(data))
}
