package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/etcd-dr/etcd-dr/internal/testenv"
	"github.com/etcd-dr/etcd-dr/internal/testkit/restoretest"
)

// etcdbrctlRestore restores with etcdbrctl v0.40 from the etcd-backup-restore store at <home>/backups/v2 into a
// new data dir, which it returns.
func etcdbrctlRestore(t *testing.T, home string) string {
	t.Helper()
	work := t.TempDir()
	dataDir := filepath.Join(work, "etcd")
	testenv.Etcdbrctl(t, []string{"HOME=" + home}, "restore", "--data-dir", dataDir,
		"--storage-provider", "Local", "--store-container", "backups",
		"--snapstore-temp-directory", filepath.Join(work, "snapstore-tmp"),
		"--restoration-temp-snapshots-dir", filepath.Join(work, "restoration-tmp"),
		"--embedded-etcd-quota-bytes", fmt.Sprint(256<<20))
	return dataDir
}

// What etcd-dr copies and compacts, etcdbrctl restores: an etcd-backup-restore chain (etcd 3.5 full snapshot and
// deltas) copied by `etcd-dr copy` is restored by etcdbrctl v0.40 from the copy; then `etcd-dr compact` folds the
// copied chain into one full snapshot, which etcdbrctl restores alone. Both data dirs are served by a real etcd 3.5
// with every key, value, create/mod revision and version of the chain's state.
func TestEtcdbrctlRestoresCopiedAndCompacted(t *testing.T) {
	etcd35 := testenv.Binary(t, "etcd-3.5")
	testenv.Binary(t, "etcdbrctl") // skip (or fail in CI) before starting anything
	ch := restoretest.SyntheticChainOf(t, testenv.StartCluster(t, etcd35, 1).Client(t), 200, 3000, 1000, 64)
	home := t.TempDir()
	dst := filepath.Join(home, "backups")
	out, errOut, code := runCLI(t, "copy", "--store", "file://"+ch.Store, "--to-store", "file://"+dst, "-o", "json")
	require.Equal(t, exitOK, code, errOut)
	res := decodeCopy(t, out)
	require.Equal(t, len(fileTree(t, ch.Store)), *res.Copied)
	require.Equal(t, fileTree(t, ch.Store), fileTree(t, dst))

	t.Run("copied chain", func(t *testing.T) {
		// etcdbrctl replays deltas without their leases; the judge drops those of delta-written keys.
		dataDir := etcdbrctlRestore(t, home)
		restoretest.Judge(t, etcd35, dataDir, "default", ch.Revision, restoretest.WithoutDeltaLeases(ch.State, ch.FullRevision))
	})

	t.Run("compacted snapshot", func(t *testing.T) {
		out, errOut, code := runCLI(t, "compact", "--store", "file://"+dst, "--compression", "gzip", "-o", "json")
		require.Equal(t, exitOK, code, errOut)
		var c struct {
			Key      string `json:"key"`
			Revision int64  `json:"revision"`
		}
		require.NoError(t, json.Unmarshal([]byte(out), &c), out)
		require.Equal(t, ch.Revision, c.Revision)
		require.True(t, strings.HasPrefix(c.Key, fmt.Sprintf("v2/Full-00000000-%08d-", ch.Revision)), c.Key)
		// etcdbrctl must restore from the compacted snapshot alone: take the old chain away from its view.
		entries, err := os.ReadDir(filepath.Join(dst, "v2"))
		require.NoError(t, err)
		for _, e := range entries {
			if "v2/"+e.Name() != c.Key {
				require.NoError(t, os.Remove(filepath.Join(dst, "v2", e.Name())))
			}
		}
		dataDir := etcdbrctlRestore(t, home)
		// The compacted snapshot is a full snapshot: its leases are in it, as etcd-dr's restore kept them.
		restoretest.Judge(t, etcd35, dataDir, "default", ch.Revision, ch.State)
	})
}
