package members

import (
	"context"
	"fmt"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/etcd-dr/etcd-dr/engine/etcdconn"
	"github.com/etcd-dr/etcd-dr/internal/testenv"
)

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return c
}

func queryCfg(eps []string) Config {
	return Config{Conn: etcdconn.Config{Endpoints: eps}, Timeout: 2 * time.Second}
}

func byName(t *testing.T, cl *Cluster, name string) Member {
	t.Helper()
	for _, m := range cl.Members {
		if m.Name == name {
			return m
		}
	}
	t.Fatalf("member %s not in %v", name, cl.Names())
	return Member{}
}

func TestStatusShowsEveryMemberWithLeaderAndRaft(t *testing.T) {
	c := testenv.StartCluster(t, testenv.Binary(t, "etcd"), 3)
	leader := c.Leader(t)
	_, err := c.Client(t).Put(ctx(t), "k", "v")
	require.NoError(t, err)

	// Only one endpoint given: the member list finds the others.
	cl, err := Query(ctx(t), queryCfg([]string{c.Members[0].ClientURL}))
	require.NoError(t, err)
	require.Len(t, cl.Members, 3)
	require.Empty(t, cl.Problems)
	require.Equal(t, ID(leader.ID()), cl.Leader)
	require.NotZero(t, cl.ClusterID)
	for _, tm := range c.Members {
		m := byName(t, cl, tm.Name)
		require.True(t, m.Up && m.Healthy, "%s: %s", m.Name, m.Error)
		require.Equal(t, ID(tm.ID()), m.ID)
		require.Equal(t, []string{tm.ClientURL}, m.ClientURLs)
		require.Equal(t, []string{tm.PeerURL}, m.PeerURLs)
		require.Equal(t, tm == leader, m.Leader, m.Name)
		require.Equal(t, ID(leader.ID()), m.LeaderID)
		require.NotZero(t, m.RaftTerm)
		require.NotZero(t, m.RaftIndex)
		require.GreaterOrEqual(t, m.Revision, int64(2))
		require.NotZero(t, m.DBSize)
		require.NotZero(t, m.DBSizeInUse)
		require.Equal(t, "3.6.16", m.Version[:len("3.6.16")])
		require.False(t, m.Learner)
		require.Empty(t, m.Alarms)
		require.Empty(t, m.Error)
	}
	require.Equal(t, 3, cl.Answered())
}

func TestStatusShowsKilledMemberDown(t *testing.T) {
	c := testenv.StartCluster(t, testenv.Binary(t, "etcd"), 3)
	victim := c.Members[1]
	victim.Kill()
	c.WaitHealthy(t)

	cl, err := Query(ctx(t), queryCfg(c.Endpoints()))
	require.NoError(t, err)
	require.Len(t, cl.Members, 3, "a down member is shown, not hidden")
	require.Equal(t, 2, cl.Answered())
	down := byName(t, cl, victim.Name)
	require.False(t, down.Up)
	require.False(t, down.Healthy)
	require.Contains(t, down.Error, "connection refused")
	require.Contains(t, down.Error, victim.ClientURL[len("http://"):])
	require.NotZero(t, cl.Leader)
	for _, m := range cl.Members {
		if m.Name != victim.Name {
			require.True(t, m.Healthy, "%s: %s", m.Name, m.Error)
		}
	}
}

func TestStatusQuorumLostShowsNoLeader(t *testing.T) {
	c := testenv.StartCluster(t, testenv.Binary(t, "etcd"), 3)
	c.Members[0].Kill()
	c.Members[1].Kill()
	survivor := c.Members[2]
	var cl *Cluster
	require.Eventually(t, func() bool {
		var err error
		cl, err = Query(ctx(t), Config{Conn: etcdconn.Config{Endpoints: c.Endpoints()}, Timeout: time.Second})
		require.NoError(t, err)
		return cl.Leader == 0
	}, 30*time.Second, 200*time.Millisecond)
	require.Len(t, cl.Members, 3)
	require.Equal(t, 1, cl.Answered())
	m := byName(t, cl, survivor.Name)
	require.True(t, m.Up)
	require.False(t, m.Healthy)
	require.Contains(t, m.Error, "no leader")
	require.Contains(t, fmt.Sprint(cl.Problems), "no leader")
}

func TestStatusNoEndpointAnswers(t *testing.T) {
	// Two ports nobody listens on.
	var eps []string
	for i := 0; i < 2; i++ {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		require.NoError(t, err)
		eps = append(eps, "http://"+l.Addr().String())
		l.Close()
	}
	cl, err := Query(ctx(t), Config{Conn: etcdconn.Config{Endpoints: eps}, Timeout: time.Second})
	require.NoError(t, err)
	require.Equal(t, 0, cl.Answered())
	require.Len(t, cl.Members, 2, "each endpoint is shown down")
	for i, m := range cl.Members {
		require.Equal(t, eps[i], m.Endpoint)
		require.Contains(t, m.Error, "connection refused")
	}
	require.Contains(t, fmt.Sprint(cl.Problems), "member list from")
}

// Endpoints that are not the advertised URLs (port-forwards, IPs for DNS names) reach their members through them.
func TestStatusThroughEndpointsThatAreNotAdvertised(t *testing.T) {
	c := testenv.StartCluster(t, testenv.Binary(t, "etcd"), 3)
	leader := c.Leader(t)
	local := func(m *testenv.Member) string { return strings.Replace(m.ClientURL, "127.0.0.1", "localhost", 1) }
	var eps []string
	for _, m := range c.Members {
		eps = append(eps, local(m))
	}
	cl, err := Query(ctx(t), queryCfg(eps))
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
	require.Equal(t, Leader, settle(t, e).Role)
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

	cl, err := Query(ctx(t), Config{Conn: etcdconn.Config{Endpoints: c.Endpoints(), User: "root:s3cret"}, Timeout: 2 * time.Second})
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
	require.Contains(t, []Role{Leader, Follower}, s.Role, s.Why)

	_, err = Query(ctx(t), Config{Conn: etcdconn.Config{Endpoints: c.Endpoints(), User: "root:wrong"}, Timeout: 2 * time.Second})
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

	cl, err := Query(ctx(t), queryCfg(c.Endpoints()))
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
	require.Equal(t, Follower, s.Role, s.Why)
}

func TestStatusAndElectorOnOtherEtcdVersions(t *testing.T) {
	for _, bin := range []string{"etcd-3.5", "etcd-3.7"} {
		t.Run(bin, func(t *testing.T) {
			c := testenv.StartCluster(t, testenv.Binary(t, bin), 1)
			cl, err := Query(ctx(t), queryCfg(c.Endpoints()))
			require.NoError(t, err)
			require.Len(t, cl.Members, 1)
			m := cl.Members[0]
			require.True(t, m.Healthy && m.Leader, m.Error)
			require.Equal(t, bin[len("etcd-"):], m.Version[:3])
			e, err := NewElector(ElectorConfig{Conn: etcdconn.Config{Endpoints: c.Endpoints()}, Name: "m0", Period: 200 * time.Millisecond})
			require.NoError(t, err)
			defer e.Close()
			require.Equal(t, Leader, settle(t, e).Role)
		})
	}
}
