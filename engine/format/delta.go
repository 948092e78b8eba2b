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
	data, err := json.Marshal(events)
	if err != nil {
		return fmt.Errorf("encode delta: %w", err)
	}
	sum := sha256.Sum256(data)
	if _, err := w.Write(data); err != nil {
		return err
	}
	_, err = w.Write(sum[:])
	return err
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
