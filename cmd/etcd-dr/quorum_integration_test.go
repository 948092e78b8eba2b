package main

import (
	"context"
	"encoding/json"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/etcd-dr/etcd-dr/internal/fixture"
	"github.com/etcd-dr/etcd-dr/internal/testenv"
	"github.com/etcd-dr/etcd-dr/internal/testkit/snapshottest"
)

// backupObjects counts the store's backup objects (heartbeats under members/ excluded).
func backupObjects(t *testing.T, url string) int {
	cat := snapshottest.Catalog(t, url)
	n := 0
	for _, ch := range cat.Chains {
		n += len(ch.Objects())
	}
	return n
}

// roles reads the backup members' roles from the store, as `list -o json` shows them.
func roles(t *testing.T, url string) map[string]string {
	out, errs, code := runCLI(t, "list", "--store", url, "-o", "json")
	require.Equal(t, 0, code, errs)
	var l struct {
		Members []struct {
			Name string `json:"name"`
			Role string `json:"role"`
		} `json:"members"`
	}
	require.NoError(t, json.Unmarshal([]byte(out), &l))
	got := map[string]string{}
	for _, m := range l.Members {
		got[m.Name] = m.Role
	}
	return got
}

// Issue 6: quorum lost -> every daemon Unknown, no snapshots, heartbeats say so; recovery -> snapshots resume,
// and the chain has no gap and restores to exactly the live etcd.
func TestDaemonQuorumLostThenRecovers(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary, runs a 3-member cluster")
	}
	c, url, daemons := daemonsBesideCluster(t, "200ms")
	leader := c.Leader(t)
	ctx := t.Context()
	daemons[leader.Name].waitLog(t, `"msg":"full snapshot"`)

	// Two of three members down, the leader among them: no leader, no quorum.
	down := []*testenv.Member{leader}
	for _, m := range c.Members {
		if m != leader {
			down = append(down, m)
			break
		}
	}
	for _, m := range down {
		m.Kill()
	}
	deadline := time.Now().Add(time.Minute)
	for {
		r := roles(t, url)
		all := len(r) == 3
		for _, role := range r {
			all = all && strings.HasPrefix(role, "Unknown")
		}
		if all {
			break
		}
		require.True(t, time.Now().Before(deadline), "heartbeats never all said Unknown: %v", r)
		time.Sleep(200 * time.Millisecond)
	}
	before := backupObjects(t, url)
	time.Sleep(2 * time.Second) // ten leader-check periods without quorum
	require.Equal(t, before, backupObjects(t, url), "no snapshots while quorum is lost")

	// Recovery: the members come back, a leader's daemon resumes, and new writes reach the store.
	for _, m := range down {
		m.Restart(t)
	}
	c.WaitHealthy(t)
	cli := c.Client(t)
	require.NoError(t, fixture.Workload(ctx, cli, "/after", 10))
	want, err := fixture.Revision(ctx, cli)
	require.NoError(t, err)
	deadline = time.Now().Add(2 * time.Minute)
	for {
		if n := snapshottest.Catalog(t, url).Newest(); n != nil && n.EndRevision >= want {
			break
		}
		require.True(t, time.Now().Before(deadline), "snapshots did not resume up to revision %d", want)
		time.Sleep(100 * time.Millisecond)
	}
	for name, d := range daemons {
		require.NoError(t, d.cmd.Process.Signal(syscall.SIGTERM))
		require.NoError(t, d.wait(), "daemon %s", name)
	}
	cat := snapshottest.Catalog(t, url)
	for _, ch := range cat.Chains {
		require.Empty(t, ch.Gaps, "chain %s", ch.Base.Key)
		require.Empty(t, ch.Notes, "chain %s: overlapping writers", ch.Base.Key)
	}
	rev, err := fixture.Revision(context.Background(), cli)
	require.NoError(t, err)
	require.Equal(t, rev, cat.Newest().EndRevision)
	snapshottest.Judge(t, url, 0, cli)
}
