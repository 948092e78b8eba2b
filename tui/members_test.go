package tui

import (
	"context"
	"testing"
	"time"

	"github.com/etcd-dr/etcd-dr/engine/heartbeat"
	"github.com/etcd-dr/etcd-dr/engine/status"
	"github.com/etcd-dr/etcd-dr/store"
	"github.com/etcd-dr/etcd-dr/tui/common"
)

// fakeCluster answers like status.Query would for a 3-member cluster with one member down.
type fakeCluster struct{}

func (fakeCluster) Endpoints() []string {
	return []string{"https://10.0.0.1:2379", "https://10.0.0.2:2379"}
}

func (fakeCluster) Status(context.Context) (*status.Cluster, error) {
	return &status.Cluster{ClusterID: 0xabc, Leader: 1, Problems: []string{}, Members: []status.Member{
		{Name: "etcd-0", ID: 1, Up: true, Healthy: true, Leader: true, LeaderID: 1, RaftTerm: 4, RaftIndex: 10234, Revision: 9876, DBSize: 4 << 20, DBSizeInUse: 3 << 20, Version: "3.6.16", Alarms: []string{}},
		{Name: "etcd-1", ID: 2, Up: true, Healthy: true, LeaderID: 1, RaftTerm: 4, RaftIndex: 10234, Revision: 9876, DBSize: 4 << 20, DBSizeInUse: 3 << 20, Version: "3.6.16", Alarms: []string{}},
		{Name: "etcd-2", ID: 3, Error: "context deadline exceeded (no answer in 5s)", Alarms: []string{}},
	}}, nil
}

// heartbeatStore is the etcdbr-v2 fixture plus the heartbeats of three daemons: a leader, a follower, a stale one.
func heartbeatStore(t *testing.T, name string) string {
	url := memStore(t, "etcdbr-v2", name)
	st, err := store.Open(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	for _, hb := range []heartbeat.Heartbeat{
		{Name: "etcd-0", Role: heartbeat.Leader, LastSnapshotRevision: 123, LastSnapshotTime: fixedNow.Add(-4 * time.Minute), Time: fixedNow.Add(-20 * time.Second), PeriodSeconds: 30, EtcdDRVersion: "test"},
		{Name: "etcd-1", Role: heartbeat.Follower, Time: fixedNow.Add(-10 * time.Second), PeriodSeconds: 30, EtcdDRVersion: "test"},
		{Name: "etcd-2", Role: heartbeat.Unknown, Why: "own etcd member unreachable", Time: fixedNow.Add(-2 * time.Hour), PeriodSeconds: 30, EtcdDRVersion: "test"},
	} {
		if err := heartbeat.Write(context.Background(), st, hb); err != nil {
			t.Fatal(err)
		}
	}
	return url
}

func TestMembersScreen(t *testing.T) {
	url := heartbeatStore(t, "members-v2")
	t.Run("golden with a live cluster", func(t *testing.T) {
		m := newModel(t, false, url)
		m.c.Cluster = fakeCluster{}
		a := startApp(t, m, 80, 24)
		a.waitFor("etcdbr-v2")
		a.press("m")
		got := a.waitFor("STALE", "leader etcd-0", "2/3 answered")
		goldenCompare(t, got)
	})
	t.Run("without --endpoints it says how to ask", func(t *testing.T) {
		m := newModel(t, false, url)
		start(m, 80, 24)
		drive(m, key("enter"), key("m"))
		mustContain(t, m, "Stores › Catalog › Members", "etcd-0", "Leader", "rev 123 · 4m ago", "start etcd-dr with --endpoints")
		drive(m, key("esc"))
		mustContain(t, m, "KIND")
	})
	t.Run("no heartbeats", func(t *testing.T) {
		m := newModel(t, false, memStore(t, "etcdbr-v1", "members-none"))
		start(m, 80, 24)
		drive(m, key("m"))
		mustContain(t, m, "none: no etcd-dr daemon writes heartbeats")
	})
}

var _ common.ClusterStatus = fakeCluster{}
