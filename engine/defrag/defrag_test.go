package defrag

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/require"
	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/etcd-dr/etcd-dr/engine/etcdconn"
	"github.com/etcd-dr/etcd-dr/engine/fault"
	"github.com/etcd-dr/etcd-dr/internal/testenv"
)

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return c
}

func config(c *testenv.Cluster) Config {
	return Config{Conn: etcdconn.Config{Endpoints: c.Endpoints()}, Timeout: 2 * time.Second, HealthWait: 30 * time.Second}
}

// garbage writes about 3 MB and deletes it again, then compacts: free pages a defragmentation gives back.
func garbage(t *testing.T, cli *clientv3.Client) {
	t.Helper()
	val := strings.Repeat("x", 1024)
	for b := 0; b < 30; b++ {
		ops := make([]clientv3.Op, 0, 100)
		for i := 0; i < 100; i++ {
			ops = append(ops, clientv3.OpPut(fmt.Sprintf("/garbage/%02d/%03d", b, i), val))
		}
		_, err := cli.Txn(ctx(t)).Then(ops...).Commit()
		require.NoError(t, err)
	}
	resp, err := cli.Delete(ctx(t), "/garbage/", clientv3.WithPrefix())
	require.NoError(t, err)
	_, err = cli.Compact(ctx(t), resp.Header.Revision, clientv3.WithCompactPhysical())
	require.NoError(t, err)
}

// ownSizes asks every member itself for its db size.
func ownSizes(t *testing.T, c *testenv.Cluster) map[string]int64 {
	t.Helper()
	out := map[string]int64{}
	for _, m := range c.Members {
		st, err := m.Client(t).Status(ctx(t), m.ClientURL)
		require.NoError(t, err)
		out[m.Name] = st.DbSize
	}
	return out
}

func TestDefragFollowersOneByOneThenLeader(t *testing.T) {
	c := testenv.StartCluster(t, testenv.Binary(t, "etcd"), 3)
	leader := c.Leader(t)
	garbage(t, c.Client(t))
	var followers []string
	for _, m := range c.Members {
		if m != leader {
			followers = append(followers, m.Name)
		}
	}
	wantOrder := append(followers, leader.Name)

	// Dry run: the order, and nothing touched.
	before := ownSizes(t, c)
	cfg := config(c)
	cfg.DryRun = true
	rep, err := Run(ctx(t), cfg)
	require.NoError(t, err)
	require.Equal(t, wantOrder, rep.Order)
	require.Empty(t, rep.Steps)
	require.Equal(t, before, ownSizes(t, c))

	// The real run. Before each member, the members' own status shows which are done: exactly the earlier ones.
	cfg = config(c)
	cfg.Metrics = NewMetrics()
	var started []string
	cfg.OnStep = func(s Step) {
		if s.Done {
			return
		}
		now := ownSizes(t, c)
		for _, name := range wantOrder {
			shrunk := now[name] < before[name]
			wasDone := contains(started, name)
			require.Equal(t, wasDone, shrunk, "before %s: %s shrunk=%v (%d -> %d), done=%v", s.Member, name, shrunk, before[name], now[name], wasDone)
		}
		started = append(started, s.Member)
	}
	rep, err = Run(ctx(t), cfg)
	require.NoError(t, err)
	require.Equal(t, wantOrder, started)
	require.Len(t, rep.Steps, 3)
	after := ownSizes(t, c)
	for i, s := range rep.Steps {
		require.Equal(t, wantOrder[i], s.Member)
		require.Equal(t, i == 2, s.Leader)
		require.True(t, s.Done)
		require.Empty(t, s.Error)
		require.Less(t, s.SizeAfter, s.SizeBefore, s.Member)
		require.Equal(t, after[s.Member], s.SizeAfter)
		require.Less(t, after[s.Member], before[s.Member])
	}
	require.Positive(t, rep.Reclaimed)
	require.Equal(t, rep.SizeBefore-rep.SizeAfter, rep.Reclaimed)
	require.Empty(t, rep.Stopped)
	require.Equal(t, 1.0, testutil.ToFloat64(cfg.Metrics.runs.WithLabelValues("ok")))
	require.Equal(t, float64(rep.Reclaimed), testutil.ToFloat64(cfg.Metrics.reclaimed))
	t.Logf("reclaimed %d bytes: %v -> %v", rep.Reclaimed, before, after)
}

func TestDefragRefusedOnAlarmOrDownMember(t *testing.T) {
	c := testenv.StartCluster(t, testenv.Binary(t, "etcd"), 3)
	cli := c.Client(t)
	victim := c.Members[1]
	victim.WaitReady(t)
	_, err := pb.NewMaintenanceClient(cli.ActiveConnection()).Alarm(ctx(t), &pb.AlarmRequest{
		Action: pb.AlarmRequest_ACTIVATE, MemberID: victim.ID(), Alarm: pb.AlarmType_NOSPACE,
	})
	require.NoError(t, err)
	before := ownSizes(t, c)

	cfg := config(c)
	cfg.Metrics = NewMetrics()
	steps := 0
	cfg.OnStep = func(Step) { steps++ }
	rep, err := Run(ctx(t), cfg)
	require.ErrorIs(t, err, fault.ErrRefused)
	require.Contains(t, err.Error(), "member m1 has alarm NOSPACE")
	require.Contains(t, err.Error(), "nothing was defragmented")
	require.Zero(t, steps)
	require.Empty(t, rep.Steps)
	// A young cluster's dbs still grow on their own (member attributes, cluster and storage version): nothing
	// defragmented means no db got smaller.
	for name, size := range ownSizes(t, c) {
		require.GreaterOrEqual(t, size, before[name], "member %s was defragmented", name)
	}
	require.Equal(t, 1.0, testutil.ToFloat64(cfg.Metrics.runs.WithLabelValues("refused")))

	// Dry run says the same.
	cfg.DryRun = true
	_, err = Run(ctx(t), cfg)
	require.ErrorIs(t, err, fault.ErrRefused)

	// Disarmed: ready again.
	_, err = cli.AlarmDisarm(ctx(t), &clientv3.AlarmMember{MemberID: victim.ID(), Alarm: pb.AlarmType_NOSPACE})
	require.NoError(t, err)
	_, err = Run(ctx(t), cfg)
	require.NoError(t, err)

	// A member down: refused, naming it.
	victim.Kill()
	c.WaitHealthy(t)
	_, err = Run(ctx(t), config(c))
	require.ErrorIs(t, err, fault.ErrRefused)
	require.Contains(t, err.Error(), "member m1 is not reachable")
	require.Contains(t, err.Error(), "connection refused")
}

func TestDefragStopsAtFirstFailureAndSaysWhere(t *testing.T) {
	c := testenv.StartCluster(t, testenv.Binary(t, "etcd"), 3)
	leader := c.Leader(t)
	var order []*testenv.Member
	for _, m := range c.Members {
		if m != leader {
			order = append(order, m)
		}
	}
	cfg := config(c)
	cfg.Metrics = NewMetrics()
	cfg.DefragTimeout = 5 * time.Second
	cfg.OnStep = func(s Step) {
		if !s.Done && s.Member == order[1].Name {
			order[1].Kill() // the second follower dies just before its turn
		}
	}
	rep, err := Run(ctx(t), cfg)
	require.Error(t, err)
	require.NotErrorIs(t, err, fault.ErrRefused)
	want := fmt.Sprintf("defragmentation stopped at member %s: ", order[1].Name)
	require.True(t, strings.HasPrefix(err.Error(), want), err.Error())
	require.Contains(t, err.Error(), "already defragmented: "+order[0].Name+"; not started: "+leader.Name)
	require.Equal(t, err.Error(), rep.Stopped)
	require.Len(t, rep.Steps, 2)
	require.True(t, rep.Steps[0].Done)
	require.False(t, rep.Steps[1].Done)
	require.NotEmpty(t, rep.Steps[1].Error)
	require.Equal(t, 1.0, testutil.ToFloat64(cfg.Metrics.runs.WithLabelValues("failed")))
}

func contains(s []string, x string) bool {
	for _, v := range s {
		if v == x {
			return true
		}
	}
	return false
}

type flag struct{ on atomic.Bool }

func (f *flag) IsLeader() bool { return f.on.Load() }

func TestRunScheduledOnlyWhileLeader(t *testing.T) {
	require.ErrorIs(t, CheckSchedule("every day"), fault.ErrRefused)
	require.NoError(t, CheckSchedule(""))
	c := testenv.StartCluster(t, testenv.Binary(t, "etcd"), 3)
	cfg := config(c)
	cfg.Metrics = NewMetrics()
	var leader flag
	runCtx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- RunScheduled(runCtx, "@every 1s", cfg, &leader) }()
	time.Sleep(2500 * time.Millisecond)
	require.Zero(t, testutil.ToFloat64(cfg.Metrics.runs.WithLabelValues("ok")), "a follower never defragments")
	leader.on.Store(true)
	require.Eventually(t, func() bool { return testutil.ToFloat64(cfg.Metrics.runs.WithLabelValues("ok")) >= 1 }, 10*time.Second, 100*time.Millisecond)
	cancel()
	require.NoError(t, <-done)
}
