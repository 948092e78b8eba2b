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

// DecodeDelta reads an uncompressed delta, checks its sha256 trailer and decodes the events.
func DecodeDelta(r io.Reader) ([]DeltaEvent, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, err
	}
	return DecodeDeltaBytes(data)
}

// DecodeDeltaBytes is DecodeDelta on bytes in memory.
func DecodeDeltaBytes(data []byte) ([]DeltaEvent, error) {
	if len(data) < TrailerSize {
		return nil, fmt.Errorf("%w: delta is only %d bytes", ErrNoTrailer, len(data))
	}
	body, trailer := data[:len(data)-TrailerSize], data[len(data)-TrailerSize:]
	if sum := sha256.Sum256(body); !bytes.Equal(sum[:], trailer) {
		return nil, fmt.Errorf("%w: delta content hashes to %x, trailer says %x", ErrChecksum, sum[:8], trailer[:8])
	}
	var events []DeltaEvent
	if err := json.Unmarshal(body, &events); err != nil {
		return nil, fmt.Errorf("delta is not a JSON array of events: %w", err)
	}
	for i, ev := range events {
		if ev.EtcdEvent == nil || ev.EtcdEvent.Kv == nil {
			return nil, fmt.Errorf("delta event %d has no key-value", i)
		}
	}
	return events, nil
}
