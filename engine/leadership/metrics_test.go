package leadership

import (
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/require"

	"github.com/etcd-dr/etcd-dr/engine/heartbeat"
)

func TestMetricsHeartbeatAgesAreTheNewestPerMember(t *testing.T) {
	now := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	m := NewMetrics()
	m.now = func() time.Time { return now }
	beat := func(name string, age time.Duration) heartbeat.Seen {
		return heartbeat.Seen{Heartbeat: heartbeat.Heartbeat{Name: name, Time: now.Add(-age)}}
	}
	m.SeenHeartbeats([]heartbeat.Seen{beat("m0", 10*time.Second), beat("m1", 20*time.Second), beat("m2", 91*time.Second)})
	m.SeenHeartbeats([]heartbeat.Seen{beat("m2", 5*time.Minute), beat("", time.Second)}) // older, and nameless: ignored
	require.NoError(t, testutil.CollectAndCompare(m, strings.NewReader(`
# HELP etcddr_heartbeat_age_seconds Seconds since each backup member's newest heartbeat in the store (by the heartbeat's own time).
# TYPE etcddr_heartbeat_age_seconds gauge
etcddr_heartbeat_age_seconds{member="m0"} 10
etcddr_heartbeat_age_seconds{member="m1"} 20
etcddr_heartbeat_age_seconds{member="m2"} 91
`), "etcddr_heartbeat_age_seconds"))
}
