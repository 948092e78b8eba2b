package status

import (
	"context"
	"fmt"
	"net"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

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
