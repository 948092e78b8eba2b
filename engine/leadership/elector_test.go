package leadership

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/require"
	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/etcd-dr/etcd-dr/engine/etcdconn"
	"github.com/etcd-dr/etcd-dr/engine/fault"
	"github.com/etcd-dr/etcd-dr/engine/heartbeat"
	"github.com/etcd-dr/etcd-dr/engine/status"
	"github.com/etcd-dr/etcd-dr/internal/testenv"
	"github.com/etcd-dr/etcd-dr/store"
)

// daemons runs one Elector beside each member, as the sidecars would: half find their member by --name over
// all endpoints, half by the one endpoint they talk to.
type daemons struct {
	electors []*Elector
	metrics  []*Metrics
	period   time.Duration

	mu         sync.Mutex
	samples    int
	violations []string
}

func startDaemons(t *testing.T, c *testenv.Cluster, period time.Duration) *daemons {
	return startDaemonsWithStore(t, c, period, nil)
}

// startDaemonsWithStore also runs each daemon's heartbeat writer into st (when not nil), every period.
func startDaemonsWithStore(t *testing.T, c *testenv.Cluster, period time.Duration, st *store.Store) *daemons {
	t.Helper()
	d := &daemons{period: period}
	runCtx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for i, m := range c.Members {
		cfg := ElectorConfig{Period: period, Metrics: NewMetrics()}
		if i%2 == 0 {
			cfg.Name, cfg.Conn = m.Name, etcdconn.Config{Endpoints: c.Endpoints()}
		} else {
			cfg.Conn = etcdconn.Config{Endpoints: []string{m.ClientURL}}
		}
		e, err := NewElector(cfg)
		require.NoError(t, err)
		require.NoError(t, e.Check(runCtx))
		d.electors = append(d.electors, e)
		d.metrics = append(d.metrics, cfg.Metrics)
		wg.Add(1)
		go func() {
			defer wg.Done()
			// Daemons on different hosts check out of phase.
			time.Sleep(time.Duration(i) * period / 3)
			_ = e.Run(runCtx)
		}()
		if st != nil {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_ = heartbeat.Run(runCtx, heartbeat.RunConfig{Store: st, Name: m.Name, Period: period, Fill: e.Heartbeat})
			}()
		}
	}
	// Sample four times a period: never two Leaders.
	wg.Add(1)
	go func() {
		defer wg.Done()
		tk := time.NewTicker(period / 4)
		defer tk.Stop()
		for {
			select {
			case <-runCtx.Done():
				return
			case <-tk.C:
			}
			var leaders []string
			for i, e := range d.electors {
				if e.IsLeader() {
					leaders = append(leaders, c.Members[i].Name)
				}
			}
			d.mu.Lock()
			d.samples++
			if len(leaders) > 1 {
				d.violations = append(d.violations, time.Now().Format("15:04:05.000")+" two leaders: "+leaders[0]+", "+leaders[1])
			}
			d.mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		cancel()
		wg.Wait()
		for _, e := range d.electors {
			e.Close()
		}
	})
	return d
}

func (d *daemons) roles() []heartbeat.Role {
	out := make([]heartbeat.Role, len(d.electors))
	for i, e := range d.electors {
		out[i] = e.Role()
	}
	return out
}

// waitRoles waits until want(roles) holds; it fails after n periods.
func (d *daemons) waitRoles(t *testing.T, n int, what string, want func([]heartbeat.Role) bool) time.Duration {
	t.Helper()
	start := time.Now()
	deadline := start.Add(time.Duration(n) * d.period)
	for !want(d.roles()) {
		if time.Now().After(deadline) {
			var whys []string
			for _, e := range d.electors {
				s := e.State()
				whys = append(whys, string(s.Role)+" ("+s.Why+")")
			}
			t.Fatalf("%s: not within %d periods of %v; roles: %v", what, n, d.period, whys)
		}
		time.Sleep(d.period / 10)
	}
	return time.Since(start)
}

func (d *daemons) noTwoLeaders(t *testing.T) {
	t.Helper()
	d.mu.Lock()
	defer d.mu.Unlock()
	require.Empty(t, d.violations, "two Leaders at once (%d samples)", d.samples)
	require.GreaterOrEqual(t, d.samples, 5)
}

func oneLeaderAt(idx int) func([]heartbeat.Role) bool {
	return func(rs []heartbeat.Role) bool {
		for i, r := range rs {
			if (i == idx) != (r == heartbeat.Leader) || (i != idx && r != heartbeat.Follower) {
				return false
			}
		}
		return true
	}
}

func indexOf(c *testenv.Cluster, m *testenv.Member) int {
	for i, x := range c.Members {
		if x == m {
			return i
		}
	}
	return -1
}

func TestElectorsExactlyOneLeader(t *testing.T) {
	c := testenv.StartCluster(t, testenv.Binary(t, "etcd"), 3)
	leader := c.Leader(t)
	d := startDaemons(t, c, 200*time.Millisecond)
	d.waitRoles(t, 25, "the etcd leader's daemon is Leader, the others Follower", oneLeaderAt(indexOf(c, leader)))
	time.Sleep(2 * time.Second)
	leader = c.Leader(t) // the same, unless a loaded machine made etcd elect again
	d.waitRoles(t, 5, "roles follow etcd's leader", oneLeaderAt(indexOf(c, leader)))
	d.noTwoLeaders(t)

	li := indexOf(c, leader)
	s := d.electors[li].State()
	require.Equal(t, status.ID(leader.ID()), s.MemberID)
	require.Equal(t, status.ID(leader.ID()), s.LeaderID)
	require.NotZero(t, s.Term)
	require.Equal(t, 1.0, testutil.ToFloat64(d.metrics[li].role.WithLabelValues("Leader")))
	require.Equal(t, 0.0, testutil.ToFloat64(d.metrics[li].role.WithLabelValues("Unknown")))
	require.Equal(t, 1.0, testutil.ToFloat64(d.metrics[li].changes.WithLabelValues("Unknown", "Leader")))
	reg := prometheus.NewPedanticRegistry()
	require.NoError(t, reg.Register(d.metrics[li]))
	n, err := testutil.GatherAndCount(reg)
	require.NoError(t, err)
	require.Equal(t, 4, n) // three role gauges + one change
}

func TestElectorLeaderKilledNewLeaderTakesOver(t *testing.T) {
	c := testenv.StartCluster(t, testenv.Binary(t, "etcd"), 3)
	period := 500 * time.Millisecond
	old := c.Leader(t)
	d := startDaemons(t, c, period)
	d.waitRoles(t, 25, "first leader", oneLeaderAt(indexOf(c, old)))

	old.Kill()
	oi := indexOf(c, old)
	d.waitRoles(t, 3, "the killed leader's daemon is Unknown", func(rs []heartbeat.Role) bool { return rs[oi] == heartbeat.Unknown })
	// etcd elects a new leader after its election timeout; its daemon follows within 2 check periods.
	var newLeader status.ID
	clients := map[int]*clientv3.Client{}
	for i, m := range c.Members {
		if i != oi {
			clients[i] = m.Client(t)
		}
	}
	for newLeader == 0 {
		for i, m := range c.Members {
			if i == oi {
				continue
			}
			sctx, cancel := context.WithTimeout(ctx(t), time.Second)
			st, err := clients[i].Status(sctx, m.ClientURL)
			cancel()
			if err == nil && st.Leader != 0 && st.Leader == st.Header.MemberId {
				newLeader = status.ID(st.Leader)
			}
		}
		time.Sleep(period / 10)
	}
	ni := -1
	for i, m := range c.Members {
		if status.ID(m.ID()) == newLeader {
			ni = i
		}
	}
	require.NotEqual(t, oi, ni)
	took := d.waitRoles(t, 2, "the new etcd leader's daemon is Leader", func(rs []heartbeat.Role) bool { return rs[ni] == heartbeat.Leader })
	t.Logf("new leader's daemon was Leader %v after etcd elected it (period %v)", took, period)
	d.waitRoles(t, 3, "the third daemon is Follower", func(rs []heartbeat.Role) bool { return rs[3-oi-ni] == heartbeat.Follower })
	require.Contains(t, d.electors[oi].State().Why, "unreachable")
	d.noTwoLeaders(t)
}

// Heartbeats go to an object store: S3 (versitygw) and GCS (fake-gcs-server).
func TestElectorQuorumLostAllUnknownThenRecovers(t *testing.T) {
	for _, backend := range testenv.ObjectStores {
		t.Run(backend, func(t *testing.T) {
			url := testenv.StartBucket(t, backend, "backups").URL("etcd-main")
			electorQuorumLostAllUnknownThenRecovers(t, url)
		})
	}
}

func electorQuorumLostAllUnknownThenRecovers(t *testing.T, url string) {
	st, err := store.Open(ctx(t), url)
	require.NoError(t, err)
	defer st.Close()
	beats := func() map[string]heartbeat.Heartbeat {
		seen, problems := heartbeat.ReadOf(ctx(t), st, []string{"m0", "m1", "m2"}, time.Now())
		require.Empty(t, problems)
		out := map[string]heartbeat.Heartbeat{}
		for _, s := range seen {
			out[s.Name] = s.Heartbeat
		}
		return out
	}
	waitBeats := func(what string, ok func(map[string]heartbeat.Heartbeat) bool) {
		t.Helper()
		require.Eventually(t, func() bool { return ok(beats()) }, 30*time.Second, 50*time.Millisecond, "%s: heartbeats %v", what, beats())
	}

	c := testenv.StartCluster(t, testenv.Binary(t, "etcd"), 3)
	period := 200 * time.Millisecond
	d := startDaemonsWithStore(t, c, period, st)
	d.waitRoles(t, 25, "a leader", func(rs []heartbeat.Role) bool {
		return count(rs, heartbeat.Leader) == 1 && count(rs, heartbeat.Follower) == 2
	})
	waitBeats("heartbeats show one Leader", func(hb map[string]heartbeat.Heartbeat) bool {
		n := 0
		for _, h := range hb {
			if h.Role == heartbeat.Leader {
				n++
			}
		}
		return len(hb) == 3 && n == 1
	})

	c.Members[0].Kill()
	c.Members[1].Kill()
	// The survivor loses its leader after etcd's election timeout (1s), or fails its quorum read.
	d.waitRoles(t, 25, "all Unknown with quorum lost", func(rs []heartbeat.Role) bool { return count(rs, heartbeat.Unknown) == 3 })
	time.Sleep(time.Second)
	d.waitRoles(t, 1, "still all Unknown", func(rs []heartbeat.Role) bool { return count(rs, heartbeat.Unknown) == 3 })
	why := d.electors[2].State().Why
	require.True(t, strings.Contains(why, "no leader") || strings.Contains(why, "quorum"), why)
	waitBeats("heartbeats say Unknown, and why", func(hb map[string]heartbeat.Heartbeat) bool {
		for _, h := range hb {
			if h.Role != heartbeat.Unknown || h.Why == "" || h.EtcdMemberID == 0 && h.Name == "m2" {
				return false
			}
		}
		return len(hb) == 3
	})

	c.Members[0].Restart(t)
	c.Members[1].Restart(t)
	c.WaitHealthy(t)
	leader := c.Leader(t)
	d.waitRoles(t, 25, "a Leader again after recovery", oneLeaderAt(indexOf(c, leader)))
	waitBeats("heartbeats show the Leader again", func(hb map[string]heartbeat.Heartbeat) bool { return hb[leader.Name].Role == heartbeat.Leader })
	d.noTwoLeaders(t)
}

// A graceful leadership transfer (etcd does one when its leader stops on SIGTERM) is instant: the new leader's
// daemon steps up only after a period, by when the old one has stepped down.
func TestElectorLeaderTransferNoOverlap(t *testing.T) {
	c := testenv.StartCluster(t, testenv.Binary(t, "etcd"), 3)
	d := startDaemons(t, c, 300*time.Millisecond)
	leader := c.Leader(t)
	d.waitRoles(t, 25, "first leader", oneLeaderAt(indexOf(c, leader)))
	for i := 0; i < 3; i++ {
		target := c.Members[(indexOf(c, leader)+1)%3]
		_, err := leader.Client(t).MoveLeader(ctx(t), target.ID())
		require.NoError(t, err)
		d.waitRoles(t, 10, "the transferee's daemon is Leader", oneLeaderAt(indexOf(c, target)))
		leader = target
	}
	d.noTwoLeaders(t)
}

func TestElectorNameNotAMember(t *testing.T) {
	c := testenv.StartCluster(t, testenv.Binary(t, "etcd"), 3)
	e, err := NewElector(ElectorConfig{Conn: etcdconn.Config{Endpoints: c.Endpoints()}, Name: "m7", Period: 200 * time.Millisecond})
	require.NoError(t, err)
	defer e.Close()
	err = e.Check(ctx(t))
	require.ErrorIs(t, err, fault.ErrRefused)
	require.Equal(t, `member name "m7": is not a member of this etcd cluster; its members are: m0, m1, m2`, err.Error())
	s := e.Poll(ctx(t))
	require.Equal(t, heartbeat.Unknown, s.Role)
	require.Contains(t, s.Why, "m0, m1, m2")
}

func TestElectorEtcdDownIsUnknownAndCheckPasses(t *testing.T) {
	e, err := NewElector(ElectorConfig{Conn: etcdconn.Config{Endpoints: []string{"http://127.0.0.1:1"}}, Name: "m0", Period: 200 * time.Millisecond})
	require.NoError(t, err)
	defer e.Close()
	require.NoError(t, e.Check(ctx(t)), "an unreachable etcd is not a bad --name")
	var changes []heartbeat.Role
	e.cfg.OnChange = func(from, to State) { changes = append(changes, to.Role) }
	s := e.Poll(ctx(t))
	require.Equal(t, heartbeat.Unknown, s.Role)
	require.NotEmpty(t, s.Why)
	require.Empty(t, changes, "Unknown to Unknown is no change")
	require.False(t, e.IsLeader())
	_, err = NewElector(ElectorConfig{Conn: etcdconn.Config{Endpoints: []string{"http://127.0.0.1:1"}}, Name: "a/b"})
	require.True(t, errors.Is(err, fault.ErrRefused))
}

func count(rs []heartbeat.Role, r heartbeat.Role) int {
	n := 0
	for _, x := range rs {
		if x == r {
			n++
		}
	}
	return n
}

// A daemon beside the only member of a one-member cluster leads at its first check: no other daemon exists, so
// there is no handover to wait a period for (the demo's daemon used to sit Unknown for seconds).
func TestElectorOneMemberLeadsAtOnce(t *testing.T) {
	e0, _ := testenv.StartEmbedded(t)
	e, err := NewElector(ElectorConfig{Conn: etcdconn.Config{Endpoints: []string{e0.Config().AdvertiseClientUrls[0].String()}}, Name: "embedded", Period: 5 * time.Second})
	require.NoError(t, err)
	defer e.Close()
	s := e.Poll(ctx(t))
	require.Equal(t, heartbeat.Leader, s.Role, "why: %s", s.Why)
	require.True(t, e.IsLeader())
	require.True(t, e.Alone(), "a one-member cluster's leader is alone")
}
