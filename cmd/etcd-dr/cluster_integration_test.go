package main

import (
	"context"
	"encoding/json"
	"path/filepath"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/require"

	"github.com/etcd-dr/etcd-dr/engine"
	"github.com/etcd-dr/etcd-dr/engine/etcdconn"
	"github.com/etcd-dr/etcd-dr/internal/testenv"
)

// Three daemons' cluster awareness beside a real cluster, one shared store: one Leader, heartbeats that list
// shows, metrics registered; a --name that is not a member is refused.
func TestBackupMembersBesideACluster(t *testing.T) {
	c := testenv.StartCluster(t, testenv.Binary(t, "etcd"), 3)
	leader := c.Leader(t)
	url := "file://" + filepath.Join(t.TempDir(), "store")
	st, err := engine.OpenUnlisted(context.Background(), url, engine.Options{Create: true})
	require.NoError(t, err)
	defer st.Close()
	o := clusterOptions{leaderCheckPeriod: 200 * time.Millisecond, heartbeatPeriod: 200 * time.Millisecond}

	_, err = o.start(context.Background(), backupMemberConfig{Etcd: etcdconn.Config{Endpoints: c.Endpoints()}, Name: "m9", EtcdMember: "m9", Repo: st})
	require.Error(t, err)
	require.Equal(t, 2, exitCode(err))
	require.Contains(t, err.Error(), "its members are: m0, m1, m2")
	bad := clusterOptions{leaderCheckPeriod: time.Second, heartbeatPeriod: time.Second, defragSchedule: "sometimes"}
	require.Equal(t, 2, exitCode(bad.check()))

	ctx, cancel := context.WithCancel(context.Background())
	regs := make([]*prometheus.Registry, 3)
	var bms []*backupMember
	for i, m := range c.Members {
		regs[i] = prometheus.NewRegistry()
		bm, err := o.start(ctx, backupMemberConfig{Etcd: etcdconn.Config{Endpoints: []string{m.ClientURL}}, Name: m.Name, Repo: st, Registry: regs[i],
			LastSnapshot: func() (int64, time.Time) { return 100 + int64(i), time.Now() }})
		require.NoError(t, err)
		bms = append(bms, bm)
	}
	defer func() {
		cancel()
		for _, bm := range bms {
			bm.Wait()
		}
	}()
	require.Eventually(t, func() bool {
		for i, m := range c.Members {
			if bms[i].Elector.IsLeader() != (m == leader) {
				return false
			}
		}
		return true
	}, 20*time.Second, 50*time.Millisecond)

	var l struct {
		Members []struct {
			Name                 string `json:"name"`
			Role                 string `json:"role"`
			LastSnapshotRevision int64  `json:"lastSnapshotRevision"`
			Stale                bool   `json:"stale"`
		} `json:"members"`
	}
	require.Eventually(t, func() bool {
		out, _, code := runCLI(t, "list", "--store", url, "-o", "json")
		require.Equal(t, 0, code)
		require.NoError(t, json.Unmarshal([]byte(out), &l))
		if len(l.Members) != 3 {
			return false
		}
		for i, m := range l.Members {
			want := "Follower"
			if c.Members[i] == leader {
				want = "Leader"
			}
			if m.Name != c.Members[i].Name || m.Role != want || m.LastSnapshotRevision != 100+int64(i) || m.Stale {
				return false
			}
		}
		return true
	}, 20*time.Second, 100*time.Millisecond, "%+v", l.Members)

	li := 0
	for i, m := range c.Members {
		if m == leader {
			li = i
		}
	}
	require.True(t, bms[li].Elector.IsLeader())
	for _, name := range []string{"etcddr_backup_role", "etcddr_backup_role_changes_total", "etcddr_defrag_runs_total"} {
		n, err := testutil.GatherAndCount(regs[li], name)
		require.NoError(t, err)
		if name != "etcddr_defrag_runs_total" { // no run yet: the vector is empty
			require.Positive(t, n, name)
		}
	}
	require.Eventually(t, func() bool {
		n, _ := testutil.GatherAndCount(regs[li], "etcddr_heartbeat_age_seconds")
		return n == 3
	}, 10*time.Second, 100*time.Millisecond)

	// Stopped: the last heartbeats say so.
	cancel()
	for _, bm := range bms {
		bm.Wait()
	}
	bms = nil
	out, _, _ := runCLI(t, "list", "--store", url)
	require.Contains(t, out, "Unknown (daemon stopped)")
}
