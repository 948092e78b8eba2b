package leadership

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/etcd-dr/etcd-dr/engine/etcdconn"
	"github.com/etcd-dr/etcd-dr/engine/heartbeat"
	"github.com/etcd-dr/etcd-dr/engine/status"
	"github.com/etcd-dr/etcd-dr/internal/testenv"
)

// These run the Elector and status.Query side by side on real clusters: both must agree on who leads.

func queryCfg(eps []string) status.Config {
	return status.Config{Conn: etcdconn.Config{Endpoints: eps}, Timeout: 2 * time.Second}
}

func byName(t *testing.T, cl *status.Cluster, name string) status.Member {
	t.Helper()
	for _, m := range cl.Members {
		if m.Name == name {
			return m
		}
	}
	t.Fatalf("member %s not in %v", name, cl.Names())
	return status.Member{}
}

func TestStatusThroughEndpointsThatAreNotAdvertised(t *testing.T) {
	c := testenv.StartCluster(t, testenv.Binary(t, "etcd"), 3)
	leader := c.Leader(t)
	local := func(m *testenv.Member) string { return strings.Replace(m.ClientURL, "127.0.0.1", "localhost", 1) }
	var eps []string
	for _, m := range c.Members {
		eps = append(eps, local(m))
	}
	cl, err := status.Query(ctx(t), queryCfg(eps))
	require.NoError(t, err)
	for _, tm := range c.Members {
		m := byName(t, cl, tm.Name)
		require.Equal(t, local(tm), m.Endpoint)
		require.Equal(t, []string{tm.ClientURL}, m.ClientURLs)
		require.True(t, m.Healthy, m.Error)
	}

	e, err := NewElector(ElectorConfig{Conn: etcdconn.Config{Endpoints: []string{local(leader)}}, Name: leader.Name, Period: 200 * time.Millisecond})
	require.NoError(t, err)
	defer e.Close()
	require.Equal(t, heartbeat.Leader, settle(t, e).Role)
	require.Equal(t, local(leader), e.ownEP)
}

func TestStatusWithAuth(t *testing.T) {
	c := testenv.StartCluster(t, testenv.Binary(t, "etcd"), 3)
	cli := c.Client(t)
	_, err := cli.UserAdd(ctx(t), "root", "s3cret")
	require.NoError(t, err)
	_, err = cli.UserGrantRole(ctx(t), "root", "root")
	require.NoError(t, err)
	_, err = cli.AuthEnable(ctx(t))
	require.NoError(t, err)

	cl, err := status.Query(ctx(t), status.Config{Conn: etcdconn.Config{Endpoints: c.Endpoints(), User: "root:s3cret"}, Timeout: 2 * time.Second})
	require.NoError(t, err)
	require.Len(t, cl.Members, 3)
	require.NotZero(t, cl.Leader)
	for _, m := range cl.Members {
		require.True(t, m.Healthy, "%s: %s", m.Name, m.Error)
	}
	e, err := NewElector(ElectorConfig{Conn: etcdconn.Config{Endpoints: c.Endpoints(), User: "root", Password: "s3cret"}, Name: "m1", Period: 200 * time.Millisecond})
	require.NoError(t, err)
	defer e.Close()
	s := settle(t, e)
	require.Contains(t, []heartbeat.Role{heartbeat.Leader, heartbeat.Follower}, s.Role, s.Why)

	_, err = status.Query(ctx(t), status.Config{Conn: etcdconn.Config{Endpoints: c.Endpoints(), User: "root:wrong"}, Timeout: 2 * time.Second})
	require.ErrorContains(t, err, "authentication failed")
	require.NotContains(t, err.Error(), "wrong")
}

// settle polls twice a period apart: a new Leader steps up only after leading for a period.
func settle(t *testing.T, e *Elector) State {
	e.Poll(ctx(t))
	time.Sleep(e.Period())
	return e.Poll(ctx(t))
}

func TestStatusAndElectorWithALearner(t *testing.T) {
	c := testenv.StartCluster(t, testenv.Binary(t, "etcd"), 3)
	peer := fmt.Sprintf("http://127.0.0.1:%d", testenv.FreePort(t))
	var add *clientv3.MemberAddResponse
	require.Eventually(t, func() bool { // etcd adds members only to a cluster that has been connected for a while
		var err error
		add, err = c.Client(t).MemberAddAsLearner(ctx(t), []string{peer})
		return err == nil
	}, 30*time.Second, 500*time.Millisecond)
	var initial []string
	for _, m := range add.Members {
		name := ""
		for _, tm := range c.Members {
			if tm.PeerURL == m.PeerURLs[0] {
				name = tm.Name
			}
		}
		if m.ID == add.Member.ID {
			name = "learner"
		}
		initial = append(initial, name+"="+m.PeerURLs[0])
	}
	l := testenv.StartEtcdOnDataDir(t, testenv.Binary(t, "etcd"), filepath.Join(t.TempDir(), "learner.etcd"), "learner",
		"--listen-peer-urls", peer, "--initial-advertise-peer-urls", peer,
		"--initial-cluster", strings.Join(initial, ","), "--initial-cluster-state", "existing")

	cl, err := status.Query(ctx(t), queryCfg(c.Endpoints()))
	require.NoError(t, err)
	require.Len(t, cl.Members, 4)
	m := byName(t, cl, "learner")
	require.True(t, m.Learner)
	require.True(t, m.Up && m.Healthy, m.Error)
	require.False(t, m.Leader)

	e, err := NewElector(ElectorConfig{Conn: etcdconn.Config{Endpoints: []string{l.ClientURL}}, Period: 200 * time.Millisecond})
	require.NoError(t, err)
	defer e.Close()
	s := settle(t, e)
	require.Equal(t, heartbeat.Follower, s.Role, s.Why)
}

func TestStatusAndElectorOnOtherEtcdVersions(t *testing.T) {
	for _, bin := range []string{"etcd-3.5", "etcd-3.7"} {
		t.Run(bin, func(t *testing.T) {
			c := testenv.StartCluster(t, testenv.Binary(t, bin), 1)
			cl, err := status.Query(ctx(t), queryCfg(c.Endpoints()))
			require.NoError(t, err)
			require.Len(t, cl.Members, 1)
			m := cl.Members[0]
			require.True(t, m.Healthy && m.Leader, m.Error)
			require.Equal(t, bin[len("etcd-"):], m.Version[:3])
			e, err := NewElector(ElectorConfig{Conn: etcdconn.Config{Endpoints: c.Endpoints()}, Name: "m0", Period: 200 * time.Millisecond})
			require.NoError(t, err)
			defer e.Close()
			require.Equal(t, heartbeat.Leader, settle(t, e).Role)
		})
	}
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return c
}
