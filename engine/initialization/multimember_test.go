package initialization_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/etcd-dr/etcd-dr/engine"
	"github.com/etcd-dr/etcd-dr/engine/initialization"
	"github.com/etcd-dr/etcd-dr/engine/restore"
	"github.com/etcd-dr/etcd-dr/internal/fixture"
	"github.com/etcd-dr/etcd-dr/internal/testenv"
	"github.com/etcd-dr/etcd-dr/internal/testkit/restoretest"
)

// A real 3-member cluster; one member's etcd is stopped and its data dir deleted while the other two run. Its
// sidecar must not restore it from the backup (a second cluster history would fork): Failed, with the etcdctl
// member remove/add commands naming that member's ID, its dir not recreated and the others untouched.
func TestHandshakeMemberOfRunningClusterNotRestored(t *testing.T) {
	c := testenv.StartCluster(t, testenv.Binary(t, "etcd"), 3)
	lost := c.Members[2]
	id := fmt.Sprintf("%x", lost.ID())
	lost.Kill()
	require.NoError(t, os.RemoveAll(lost.DataDir))

	ctx := context.Background()
	repo, err := engine.Open(ctx, restoretest.StoreURL(t, fixture.StoreBRv1), engine.Options{})
	require.NoError(t, err)
	mgr, err := initialization.NewManager(ctx, initialization.Config{Repo: repo, DataDir: lost.DataDir,
		Cluster: restore.Cluster{Name: lost.Name, InitialCluster: c.InitialCluster(), PeerURLs: []string{lost.PeerURL}, Token: c.Token}})
	require.NoError(t, err)
	require.True(t, mgr.Start(initialization.Request{}))
	mgr.Wait()
	r := mgr.Status()
	require.Equal(t, initialization.Failed, r.State, "reason: %s", r.Reason)
	require.Contains(t, r.Reason, "fork the cluster")
	joined := fmt.Sprint(r.Commands)
	require.Contains(t, joined, "member remove "+id)
	require.Contains(t, joined, "member add "+lost.Name+" --peer-urls="+lost.PeerURL)
	_, err = os.Stat(lost.DataDir)
	require.True(t, os.IsNotExist(err), "the lost member's data dir was written: %v", err)

	// The two others still serve, and still list three members (nothing was removed for them).
	cli := c.Members[0].Client(t)
	cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	ml, err := cli.MemberList(cctx)
	require.NoError(t, err)
	require.Len(t, ml.Members, 3)
	_, err = cli.Put(cctx, "still", "writable")
	require.NoError(t, err)
}

// No member of a 3-member cluster runs (all dirs lost): the first sidecar picks the newest restorable point and
// records it in the store as a control object; the next one restores the recorded point, not whatever is newest
// by then (here the record is moved back to 164 to tell the two apart).
func TestHandshakeNoMemberRunningSharesRecordedPick(t *testing.T) {
	c := testenv.NewCluster(t, 3) // planned only: nothing answers
	storeDir := testenv.CopyStore(t, fixture.StoreBRv1)
	ctx := context.Background()
	repo, err := engine.Open(ctx, "file://"+storeDir, engine.Options{})
	require.NoError(t, err)
	start := func(m *testenv.Member) initialization.Result {
		mgr, err := initialization.NewManager(ctx, initialization.Config{Repo: repo, DataDir: m.DataDir, PeerTimeout: 500 * time.Millisecond,
			Cluster: restore.Cluster{Name: m.Name, InitialCluster: c.InitialCluster(), PeerURLs: []string{m.PeerURL}, Token: c.Token}})
		require.NoError(t, err)
		require.True(t, mgr.Start(initialization.Request{}))
		mgr.Wait()
		return mgr.Status()
	}
	r0 := start(c.Members[0])
	require.Equal(t, initialization.Successful, r0.State, "reason: %s", r0.Reason)
	require.Equal(t, int64(195), r0.Revision)

	recPath := filepath.Join(storeDir, filepath.FromSlash(initialization.RecordKey(c.Token)))
	b, err := os.ReadFile(recPath)
	require.NoError(t, err, "no recorded pick")
	var rec initialization.Record
	require.NoError(t, json.Unmarshal(b, &rec))
	require.Equal(t, int64(195), rec.Revision)
	require.Equal(t, c.Members[0].Name, rec.By)

	rec.Revision = 164
	b, err = json.Marshal(rec)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(recPath, b, 0o644))
	r1 := start(c.Members[1])
	require.Equal(t, initialization.Successful, r1.State, "reason: %s", r1.Reason)
	require.Equal(t, int64(164), r1.Revision, "member 1 did not restore the recorded pick")
}
