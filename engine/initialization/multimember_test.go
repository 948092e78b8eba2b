package initialization_test

import (
	"context"
	"fmt"
	"os"
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
