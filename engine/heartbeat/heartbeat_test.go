package heartbeat

import (
	"context"
	"encoding/json"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/etcd-dr/etcd-dr/engine/catalog"
	"github.com/etcd-dr/etcd-dr/engine/status"
	"github.com/etcd-dr/etcd-dr/internal/testenv"
	"github.com/etcd-dr/etcd-dr/store"
)

func TestHeartbeatsRoundTrip(t *testing.T) {
	s3 := testenv.StartS3(t)
	s3.Env(t)
	s3.CreateBucket(t, "backups")
	gcs := testenv.StartGCS(t)
	gcs.Env(t)
	gcs.CreateBucket(t, "backups")
	for name, url := range map[string]string{
		"file": "file://" + t.TempDir(),
		"s3":   s3.URL("backups", "etcd-main"),
		"gs":   gcs.URL("backups", "etcd-main"),
	} {
		t.Run(name, func(t *testing.T) {
			c := ctx(t)
			st, err := store.Open(c, url, store.OpenOptions{Create: true})
			require.NoError(t, err)
			defer st.Close()
			now := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
			snap := now.Add(-time.Minute)
			beats := []Heartbeat{
				{Name: "m0", Role: Leader, EtcdMemberID: 0x8e9e05c52164694d, LastSnapshotRevision: 1234, LastSnapshotTime: snap, Time: now.Add(-10 * time.Second), PeriodSeconds: 30},
				{Name: "m1", Role: Follower, EtcdMemberID: 0x91bc3c398fb3c146, Time: now.Add(-20 * time.Second), PeriodSeconds: 30},
				// Three periods and a bit old: stale.
				{Name: "m2", Role: Unknown, Why: "quorum lost", Time: now.Add(-91 * time.Second), PeriodSeconds: 30},
			}
			for _, hb := range beats {
				require.NoError(t, Write(c, st, hb))
			}
			// A second write replaces the first whole.
			beats[1].LastSnapshotRevision = 7
			require.NoError(t, Write(c, st, beats[1]))
			// Someone else's file under members/, and a broken heartbeat.
			put(t, st, "members/README.txt", "not a heartbeat")
			put(t, st, "members/m9.json", "{broken")

			cat, err := catalog.Load(c, st)
			require.NoError(t, err)
			require.Empty(t, cat.Chains)
			require.Empty(t, cat.Problems, "heartbeats are not backup problems")
			seen, problems := Read(c, st, cat.Heartbeats, now)
			require.Len(t, problems, 1)
			require.Equal(t, "members/m9.json", problems[0].Object)
			require.Contains(t, problems[0].What, "not heartbeat JSON")
			require.Len(t, seen, 3)
			for i, s := range seen {
				want := beats[i]
				want.EtcdDRVersion = Version()
				require.Equal(t, want, s.Heartbeat)
				require.Equal(t, Key(want.Name), s.Key)
				require.Equal(t, i == 2, s.Stale, want.Name)
			}
			require.Equal(t, 10.0, seen[0].AgeSeconds)
			require.Equal(t, int64(7), seen[1].LastSnapshotRevision)

			// The JSON names are the ones the console and other tools read.
			r, err := st.NewReader(c, "members/m0.json")
			require.NoError(t, err)
			b, _ := io.ReadAll(r)
			r.Close()
			var raw map[string]any
			require.NoError(t, json.Unmarshal(b, &raw))
			require.Equal(t, "m0", raw["name"])
			require.Equal(t, "Leader", raw["role"])
			require.Equal(t, "8e9e05c52164694d", raw["etcdMemberID"])
			require.Equal(t, 1234.0, raw["lastSnapshotRevision"])
			require.Equal(t, "2026-11-23T11:59:00Z", raw["lastSnapshotTime"])
			require.Equal(t, "2026-11-23T11:59:50Z", raw["time"])
			require.NotEmpty(t, raw["etcdDRVersion"])
			_, has := raw["lastSnapshotTime"]
			require.True(t, has)

		})
	}
}

func TestHeartbeatBadName(t *testing.T) {
	st, err := store.Open(context.Background(), "file://"+t.TempDir())
	require.NoError(t, err)
	defer st.Close()
	for _, n := range []string{"", "a/b", "..", ".hidden"} {
		require.Error(t, Write(context.Background(), st, Heartbeat{Name: n}), n)
	}
}

func TestRunHeartbeatsWritesUntilStoppedThenSaysSo(t *testing.T) {
	st, err := store.Open(context.Background(), "file://"+t.TempDir())
	require.NoError(t, err)
	defer st.Close()
	require.NoError(t, Write(context.Background(), st, Heartbeat{Name: "m2", Role: Leader, Time: time.Now().Add(-time.Minute)}))
	var mu sync.Mutex
	readBack := map[string]bool{}
	c, cancel := context.WithCancel(context.Background())
	n := 0
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = Run(c, RunConfig{Store: st, Name: "m1", Period: 50 * time.Millisecond, Fill: func() Heartbeat {
			n++
			return Heartbeat{Role: Follower, LastSnapshotRevision: int64(n)}
		}, Seen: func(seen []Seen) {
			mu.Lock()
			defer mu.Unlock()
			for _, h := range seen {
				readBack[h.Name] = true
			}
		}, Peers: func() []string { return []string{"m1", "m2", "m3"} }})
	}()
	require.Eventually(t, func() bool {
		hb, err := readHeartbeat(context.Background(), st, Key("m1"))
		return err == nil && hb.LastSnapshotRevision >= 3 && hb.Role == Follower
	}, 10*time.Second, 20*time.Millisecond)
	cancel()
	<-done
	mu.Lock()
	require.Equal(t, map[string]bool{"m1": true, "m2": true}, readBack, "m1 and m2 read back; m3 has none")
	mu.Unlock()
	hb, err := readHeartbeat(context.Background(), st, Key("m1"))
	require.NoError(t, err)
	require.Equal(t, Unknown, hb.Role)
	require.Equal(t, "daemon stopped", hb.Why)
	require.Equal(t, 0.05, hb.PeriodSeconds)
	require.Equal(t, "m1", hb.Name)
}

func put(t *testing.T, st *store.Store, key, body string) {
	t.Helper()
	w, err := st.NewWriter(context.Background(), key, store.WriteOptions{})
	require.NoError(t, err)
	_, err = w.Write([]byte(body))
	require.NoError(t, err)
	require.NoError(t, w.Commit())
}

func TestCompareHeartbeatsWithTheCluster(t *testing.T) {
	cl := &status.Cluster{Leader: 1, Members: []status.Member{{Name: "m0", ID: 1, Up: true}, {Name: "m1", ID: 2, Up: true}, {Name: "m2", ID: 3, Up: true}}}
	now := time.Now()
	beat := func(name string, id status.ID, role Role, at time.Time) Seen {
		return Judge(Heartbeat{Name: name, EtcdMemberID: id, Role: role, Time: at, PeriodSeconds: 30}, Key(name), now)
	}
	for _, tc := range []struct {
		name string
		seen []Seen
		want []string
	}{
		{"all well", []Seen{beat("m0", 1, Leader, now), beat("m1", 2, Follower, now)}, nil},
		{"no heartbeats at all", nil, nil},
		{"leader's daemon stale", []Seen{beat("m0", 1, Leader, now.Add(-time.Hour)), beat("m1", 2, Follower, now)},
			[]string{"the heartbeat of m0, beside the etcd leader, is stale (1h0m0s old)"}},
		{"leader's daemon missing", []Seen{beat("m1", 2, Follower, now)},
			[]string{"no heartbeat from a daemon beside the etcd leader m0"}},
		{"a clock an hour ahead claims Leader: etcd decides", []Seen{beat("m0", 1, Leader, now), beat("m2", 3, Leader, now.Add(time.Hour))},
			[]string{"the heartbeat of m2 says Leader but etcd's leader is m0"}},
		{"leader's daemon not yet Leader", []Seen{beat("m0", 1, Follower, now)},
			[]string{"the daemon beside the etcd leader (m0) says Follower"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := Compare(cl, tc.seen)
			require.Len(t, got, len(tc.want), "%q", got)
			for i := range tc.want {
				require.True(t, strings.HasPrefix(got[i], tc.want[i]), got[i])
			}
		})
	}
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return c
}
