package main

import (
	"context"
	"encoding/json"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/etcd-dr/etcd-dr/engine/heartbeat"
	"github.com/etcd-dr/etcd-dr/engine/status"
	"github.com/etcd-dr/etcd-dr/internal/testenv"
	"github.com/etcd-dr/etcd-dr/store"
)

type statusOut struct {
	Leader  string `json:"leader"`
	Members []struct {
		Name       string   `json:"name"`
		ID         string   `json:"id"`
		Up         bool     `json:"up"`
		Healthy    bool     `json:"healthy"`
		Leader     bool     `json:"leader"`
		RaftTerm   uint64   `json:"raftTerm"`
		RaftIndex  uint64   `json:"raftIndex"`
		Revision   int64    `json:"revision"`
		DBSize     int64    `json:"dbSize"`
		Version    string   `json:"version"`
		Alarms     []string `json:"alarms"`
		ClientURLs []string `json:"clientURLs"`
		PeerURLs   []string `json:"peerURLs"`
		Error      string   `json:"error"`
		Backup     *struct {
			Role  string `json:"role"`
			Stale bool   `json:"stale"`
		} `json:"backup"`
	} `json:"members"`
	BackupMembers []map[string]any `json:"backupMembers"`
}

func writeBeats(t *testing.T, url string, beats ...heartbeat.Heartbeat) {
	t.Helper()
	st, err := store.Open(context.Background(), url, store.OpenOptions{Create: true})
	require.NoError(t, err)
	defer st.Close()
	for _, hb := range beats {
		require.NoError(t, heartbeat.Write(context.Background(), st, hb))
	}
}

// One real cluster for the status and defrag verbs, in the order an SRE would meet them.
func TestStatusAndDefragCLI(t *testing.T) {
	c := testenv.StartCluster(t, testenv.Binary(t, "etcd"), 3)
	leader := c.Leader(t)
	eps := strings.Join(c.Endpoints(), ",")

	t.Run("status shows every member with leader and raft data", func(t *testing.T) {
		out, errOut, code := runCLI(t, "status", "--endpoints", eps, "-o", "json")
		require.Equal(t, 0, code, errOut)
		var s statusOut
		require.NoError(t, json.Unmarshal([]byte(out), &s), out)
		require.Len(t, s.Members, 3)
		require.Equal(t, status.ID(leader.ID()).String(), s.Leader)
		for i, m := range s.Members {
			tm := c.Members[i]
			require.Equal(t, tm.Name, m.Name)
			require.Equal(t, status.ID(tm.ID()).String(), m.ID)
			require.True(t, m.Up && m.Healthy, m.Error)
			require.Equal(t, tm == leader, m.Leader)
			require.NotZero(t, m.RaftTerm)
			require.NotZero(t, m.RaftIndex)
			require.NotZero(t, m.Revision)
			require.NotZero(t, m.DBSize)
			require.True(t, strings.HasPrefix(m.Version, "3.6."))
			require.Equal(t, []string{}, m.Alarms)
			require.Equal(t, []string{tm.ClientURL}, m.ClientURLs)
			require.Equal(t, []string{tm.PeerURL}, m.PeerURLs)
			require.Nil(t, m.Backup)
		}
		text, _, code := runCLI(t, "status", "--endpoints", c.Members[0].ClientURL)
		require.Equal(t, 0, code)
		require.Contains(t, text, "3 members, 3 answering, leader "+leader.Name)
		for _, m := range c.Members {
			require.Contains(t, text, m.PeerURL)
		}
		require.NotContains(t, text, "DOWN")
	})

	// On a directory, on S3 and on GCS: the heartbeats come from the store whatever it is.
	for _, backend := range append([]string{"file"}, testenv.ObjectStores...) {
		t.Run("status with --store shows heartbeats beside members on "+backend, func(t *testing.T) {
			url := "file://" + filepath.Join(t.TempDir(), "store")
			if backend != "file" {
				url = testenv.StartBucket(t, backend, "beats").URL("etcd-main")
			}
			now := time.Now()
			writeBeats(t, url,
				heartbeat.Heartbeat{Name: leader.Name, Role: heartbeat.Leader, EtcdMemberID: status.ID(leader.ID()), LastSnapshotRevision: 42, Time: now, PeriodSeconds: 30},
				heartbeat.Heartbeat{Name: "gone", Role: heartbeat.Follower, EtcdMemberID: 0x1234, Time: now.Add(-time.Hour), PeriodSeconds: 30})
			out, errOut, code := runCLI(t, "status", "--endpoints", eps, "--store", url, "-o", "json")
			require.Equal(t, 0, code, errOut)
			var s statusOut
			require.NoError(t, json.Unmarshal([]byte(out), &s), out)
			require.Len(t, s.BackupMembers, 2)
			for _, m := range s.Members {
				if m.Name == leader.Name {
					require.NotNil(t, m.Backup)
					require.Equal(t, "Leader", m.Backup.Role)
					require.False(t, m.Backup.Stale)
				} else {
					require.Nil(t, m.Backup)
				}
			}
			text, _, code := runCLI(t, "status", "--endpoints", eps, "--store", url)
			require.Equal(t, 0, code)
			require.Contains(t, text, "Backup members (heartbeats in")
			require.Contains(t, text, "STALE")
			require.Contains(t, text, "42")
			require.NotContains(t, text, "Problems:")

			// A daemon whose clock runs an hour ahead claims Leader beside a follower: etcd says who leads.
			var follower *testenv.Member
			for _, m := range c.Members {
				if m != leader {
					follower = m
				}
			}
			writeBeats(t, url, heartbeat.Heartbeat{Name: follower.Name, Role: heartbeat.Leader, EtcdMemberID: status.ID(follower.ID()), Time: now.Add(time.Hour), PeriodSeconds: 30})
			text, _, code = runCLI(t, "status", "--endpoints", eps, "--store", url)
			require.Equal(t, 0, code)
			require.Contains(t, text, "3 members, 3 answering, leader "+leader.Name)
			require.Contains(t, text, "Problems:\n  the heartbeat of "+follower.Name+" says Leader but etcd's leader is "+leader.Name)
		})
	}

	t.Run("defrag dry run shows followers then the leader", func(t *testing.T) {
		out, errOut, code := runCLI(t, "defrag", "--endpoints", eps, "--dry-run")
		require.Equal(t, 0, code, errOut)
		require.Contains(t, out, "the cluster is ready")
		require.Contains(t, out, "3. "+leader.Name+" (leader, last)")
		out, _, code = runCLI(t, "defrag", "--endpoints", eps, "--dry-run", "-o", "json")
		require.Equal(t, 0, code)
		var rep struct {
			DryRun bool     `json:"dryRun"`
			Order  []string `json:"order"`
			Steps  []any    `json:"steps"`
		}
		require.NoError(t, json.Unmarshal([]byte(out), &rep), out)
		require.True(t, rep.DryRun)
		require.Equal(t, leader.Name, rep.Order[2])
		require.Empty(t, rep.Steps)
	})

	t.Run("defrag runs member by member", func(t *testing.T) {
		out, errOut, code := runCLI(t, "defrag", "--endpoints", eps)
		require.Equal(t, 0, code, errOut)
		require.Equal(t, 3, strings.Count(out, "defragmenting "), out)
		require.Equal(t, 3, strings.Count(out, " done in "), out)
		last := strings.LastIndex(out, "defragmenting ")
		require.True(t, strings.HasPrefix(out[last:], "defragmenting "+leader.Name+" (leader"), out)
		require.Contains(t, out, "Total db size:")
	})

	t.Run("killed member: status shows it down, exit 0; defrag refused, exit 2", func(t *testing.T) {
		victim := c.Members[1]
		if victim == leader {
			victim = c.Members[2]
		}
		victim.Kill()
		c.WaitHealthy(t)
		out, errOut, code := runCLI(t, "status", "--endpoints", eps, "-o", "json", "--timeout", "2s")
		require.Equal(t, 0, code, errOut)
		var s statusOut
		require.NoError(t, json.Unmarshal([]byte(out), &s), out)
		require.Len(t, s.Members, 3)
		for _, m := range s.Members {
			if m.Name == victim.Name {
				require.False(t, m.Up)
				require.Contains(t, m.Error, "connection refused")
			} else {
				require.True(t, m.Healthy, m.Error)
			}
		}
		text, _, code := runCLI(t, "status", "--endpoints", eps, "--timeout", "2s")
		require.Equal(t, 0, code)
		require.Contains(t, text, "DOWN")
		require.Contains(t, text, victim.Name+": down: ")

		_, errOut, code = runCLI(t, "defrag", "--endpoints", eps, "--timeout", "2s")
		require.Equal(t, 2, code)
		require.Contains(t, errOut, "defragmentation refused, nothing was defragmented: member "+victim.Name+" is not reachable")
	})
}

func TestStatusCLINoEndpointAnswers(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	ep := "http://" + l.Addr().String()
	l.Close()
	out, errOut, code := runCLI(t, "status", "--endpoints", ep, "--timeout", "1s")
	require.Equal(t, 1, code)
	require.Contains(t, out, "DOWN")
	require.Contains(t, out, "connection refused")
	require.Contains(t, errOut, "no etcd endpoint answered")

	out, _, code = runCLI(t, "status", "--endpoints", ep, "--timeout", "1s", "-o", "json")
	require.Equal(t, 1, code)
	var s statusOut
	require.NoError(t, json.Unmarshal([]byte(out), &s), out)
	require.Len(t, s.Members, 1)
	require.False(t, s.Members[0].Up)

	_, errOut, code = runCLI(t, "status")
	require.Equal(t, 2, code)
	require.Contains(t, errOut, "--endpoints is required")
}

func TestListShowsHeartbeats(t *testing.T) {
	td := testenv.Testdata(t)
	urls := map[string]string{"file": "file://" + testenv.CopyStore(t, "stores/etcdbr-v2")}
	for _, backend := range testenv.ObjectStores {
		u := testenv.StartBucket(t, backend, "backups").URL("etcdbr-v2")
		testenv.UploadDir(t, u, filepath.Join(td, "stores/etcdbr-v2"), "")
		urls[backend] = u
	}
	now := time.Now().UTC().Truncate(time.Second)
	for name, url := range urls {
		t.Run(name, func(t *testing.T) {
			writeBeats(t, url,
				heartbeat.Heartbeat{Name: "etcd-0", Role: heartbeat.Leader, EtcdMemberID: 0xabc, LastSnapshotRevision: 77, LastSnapshotTime: now, Time: now, PeriodSeconds: 30},
				heartbeat.Heartbeat{Name: "etcd-1", Role: heartbeat.Unknown, Why: "quorum lost", Time: now.Add(-10 * time.Minute), PeriodSeconds: 30})
			out, errOut, code := runCLI(t, "list", "--store", url, "-o", "json")
			require.Equal(t, 0, code, errOut)
			var l struct {
				Chains   []any            `json:"chains"`
				Members  []map[string]any `json:"members"`
				Problems []any            `json:"problems"`
			}
			require.NoError(t, json.Unmarshal([]byte(out), &l), out)
			require.NotEmpty(t, l.Chains)
			require.Empty(t, l.Problems)
			require.Len(t, l.Members, 2)
			m0, m1 := l.Members[0], l.Members[1]
			require.Equal(t, "etcd-0", m0["name"])
			require.Equal(t, "Leader", m0["role"])
			require.Equal(t, 77.0, m0["lastSnapshotRevision"])
			require.Equal(t, now.Format(time.RFC3339), m0["time"])
			require.Equal(t, false, m0["stale"])
			require.Equal(t, "etcd-1", m1["name"])
			require.Equal(t, "Unknown", m1["role"])
			require.Equal(t, 0.0, m1["lastSnapshotRevision"])
			require.Equal(t, true, m1["stale"])

			text, _, code := runCLI(t, "list", "--store", url)
			require.Equal(t, 0, code)
			require.Contains(t, text, "Backup members (heartbeats in")
			require.Contains(t, text, "Unknown (quorum lost)")
			require.Contains(t, text, "STALE")
		})
	}
}
