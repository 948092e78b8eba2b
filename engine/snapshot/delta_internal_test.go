package snapshot

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"go.etcd.io/etcd/api/v3/mvccpb"

	"github.com/etcd-dr/etcd-dr/engine/format"
)

// The streamed encoding is byte-identical to format.EncodeDelta (etcd-backup-restore's format).
func TestEncodeDeltaStreamsTheSameBytes(t *testing.T) {
	ts := time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC)
	for _, n := range []int{1, 3, 100} {
		var evs []format.DeltaEvent
		for i := 0; i < n; i++ {
			kv := &mvccpb.KeyValue{Key: []byte("/k<&>" + strings.Repeat("x", i)), Value: []byte{byte(i), 0xff}, ModRevision: int64(i + 2), CreateRevision: 2, Version: int64(i), Lease: int64(i % 2)}
			typ := mvccpb.PUT
			if i%3 == 2 {
				typ = mvccpb.DELETE
			}
			evs = append(evs, format.DeltaEvent{EtcdEvent: &mvccpb.Event{Type: typ, Kv: kv}, Time: ts})
		}
		var want, got bytes.Buffer
		if err := format.EncodeDelta(&want, evs); err != nil {
			t.Fatal(err)
		}
		size, err := encodeDelta(&got, evs)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(want.Bytes(), got.Bytes()) || size != int64(got.Len()) {
			t.Fatalf("%d events: streamed encoding differs (%d bytes, reported %d) from EncodeDelta (%d bytes)", n, got.Len(), size, want.Len())
		}
	}
}
