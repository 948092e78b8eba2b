package format

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"testing"
	"time"

	"go.etcd.io/etcd/api/v3/mvccpb"
)

// WriteDelta streams exactly what etcd-backup-restore writes: json.Marshal of the event slice, then its sha256.
func TestWriteDeltaIsEtcdBackupRestoresFormat(t *testing.T) {
	var evs []DeltaEvent
	for i := int64(1); i <= 3; i++ {
		evs = append(evs, DeltaEvent{EtcdEvent: &mvccpb.Event{Type: mvccpb.PUT, Kv: &mvccpb.KeyValue{Key: []byte("/k"), Value: []byte("v\"<>&"), ModRevision: 10 + i, CreateRevision: 11, Version: i}},
			Time: time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)})
	}
	for _, tc := range []struct {
		name string
		evs  []DeltaEvent
	}{{"three events", evs}, {"none", []DeltaEvent{}}} {
		t.Run(tc.name, func(t *testing.T) {
			want, err := json.Marshal(tc.evs)
			if err != nil {
				t.Fatal(err)
			}
			sum := sha256.Sum256(want)
			want = append(want, sum[:]...)
			var got bytes.Buffer
			n, err := WriteDelta(&got, tc.evs)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got.Bytes(), want) || n != int64(len(want)) {
				t.Fatalf("WriteDelta wrote %d bytes %q, want %q", n, got.Bytes(), want)
			}
		})
	}
}
