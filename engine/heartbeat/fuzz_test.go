package heartbeat

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// FuzzHeartbeat feeds arbitrary bytes to the heartbeat parser, as a store (or whoever writes to members/) may
// hold anything. A parsed heartbeat has a name, one of the three roles and a positive period, and it survives
// being written and read back unchanged.
func FuzzHeartbeat(f *testing.F) {
	now := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	for _, hb := range []Heartbeat{
		{Name: "m0", Role: Leader, EtcdMemberID: 0x8e9e05c52164694d, LastSnapshotRevision: 1234, LastSnapshotTime: now.Add(-time.Minute), Time: now, PeriodSeconds: 30, EtcdDRVersion: "v1.2.3"},
		{Name: "m1", Role: Follower, Time: now, PeriodSeconds: 0.5},
		{Name: "m2", Role: Unknown, Why: "quorum lost", Time: now},
	} {
		b, err := json.MarshalIndent(hb, "", "  ")
		require.NoError(f, err)
		f.Add(b, "members/"+hb.Name+".json")
	}
	for _, s := range []string{`{}`, `{"role":"Leader"}`, `{"role":"boss"}`, `{"periodSeconds":1e300}`, `{"periodSeconds":-5}`,
		`{"etcdMemberID":"8e9e05c52164694d"}`, `{"etcdMemberID":123}`, `{"time":"2026-11-23T12:00:00+05:00"}`, `{broken`, `null`, `[]`,
		`{"name":"a\u001b[31mb","role":"Leader\n"}`, `{"lastSnapshotTime":"0001-01-01T00:00:00Z"}`} {
		f.Add([]byte(s), "members/x.json")
	}
	f.Add([]byte(`{}`), "members/\xee.json") // found by the fuzzer: a name from a key that is not UTF-8
	f.Fuzz(func(t *testing.T, b []byte, key string) {
		hb, err := Parse(b, key)
		if err != nil {
			return
		}
		if hb.Name == "" && key != "" && key != "/" {
			t.Fatalf("no name from key %q", key)
		}
		switch hb.Role {
		case Leader, Follower, Unknown:
		default:
			t.Fatalf("role %q is none of Leader, Follower, Unknown", hb.Role)
		}
		if p := hb.Period(); p <= 0 {
			t.Fatalf("period %v from periodSeconds %v", p, hb.PeriodSeconds)
		}
		s := Judge(hb, key, now)
		if s.Stale && s.AgeSeconds < 0 {
			t.Fatalf("stale though written %v s in the future", -s.AgeSeconds)
		}
		out, err := json.Marshal(hb)
		if err != nil {
			t.Fatalf("a parsed heartbeat does not marshal: %v", err)
		}
		again, err := Parse(out, key)
		if err != nil {
			t.Fatalf("written heartbeat does not parse: %v\n%s", err, out)
		}
		if !again.Time.Equal(hb.Time) || !again.LastSnapshotTime.Equal(hb.LastSnapshotTime) {
			t.Fatalf("times changed: %v %v -> %v %v", hb.Time, hb.LastSnapshotTime, again.Time, again.LastSnapshotTime)
		}
		again.Time, again.LastSnapshotTime = hb.Time, hb.LastSnapshotTime
		require.Equal(t, hb, again)
	})
}
