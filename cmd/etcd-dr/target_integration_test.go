package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"github.com/etcd-dr/etcd-dr/engine/restore"
	"github.com/etcd-dr/etcd-dr/internal/fixture"
	"github.com/etcd-dr/etcd-dr/internal/testenv"
	"github.com/etcd-dr/etcd-dr/internal/testkit/restoretest"
)

// The data dir of a running etcd (3.6) is refused with exit 2 by restore and initialize, --move-aside or not:
// nothing is moved aside and etcd keeps serving from it.
func TestRestoreAndInitializeRefuseLiveDataDir(t *testing.T) {
	etcd := testenv.Binary(t, "etcd")
	parent := t.TempDir()
	dataDir := filepath.Join(parent, "etcd")
	store := restoretest.StoreURL(t, fixture.StoreOperator)
	out, errs, code := runCLI(t, "restore", "--store", store, "--data-dir", dataDir)
	require.Equal(t, 0, code, "stdout: %s\nstderr: %s", out, errs)
	m := testenv.StartEtcdOnDataDir(t, etcd, dataDir, restore.DefaultName)

	for _, args := range [][]string{
		{"restore", "--move-aside"},
		{"restore"},
		{"initialize", "--move-aside"},
		{"initialize"},
		{"restore", "--move-aside", "-o", "json"},
	} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			out, errs, code := runCLI(t, append(args, "--store", store, "--data-dir", dataDir)...)
			require.Equal(t, 2, code, "stdout: %s\nstderr: %s", out, errs)
			require.Contains(t, out+errs, "locked by another process")
			requireNothingBeside(t, parent, "etcd")
		})
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err := m.Client(t).Put(ctx, "still", "serving")
	require.NoError(t, err, "etcd keeps serving from its data dir")
}

// A second restore while another holds <dir>.etcd-dr.lock is refused at once (before the store is read: this
// store does not exist), naming the holder; a dangling-symlink --data-dir is refused the same way.
func TestRestoreRefusesBusyOrDanglingTarget(t *testing.T) {
	parent := t.TempDir()
	dataDir := filepath.Join(parent, "etcd")
	f, err := os.OpenFile(dataDir+".etcd-dr.lock", os.O_CREATE|os.O_RDWR, 0o600)
	require.NoError(t, err)
	_, err = f.WriteString("pid 777 on node-a since 2026-12-03T10:00:00Z")
	require.NoError(t, err)
	require.NoError(t, unix.Flock(int(f.Fd()), unix.LOCK_EX))
	out, errs, code := runCLI(t, "restore", "--store", "file:///nonexistent/store", "--data-dir", dataDir)
	require.Equal(t, 2, code, "stdout: %s\nstderr: %s", out, errs)
	require.Contains(t, errs, "pid 777 on node-a")
	f.Close()

	link := filepath.Join(parent, "link")
	require.NoError(t, os.Symlink(filepath.Join(parent, "nowhere"), link))
	out, errs, code = runCLI(t, "restore", "--store", "file:///nonexistent/store", "--data-dir", link, "--move-aside")
	require.Equal(t, 2, code, "stdout: %s\nstderr: %s", out, errs)
	require.Contains(t, errs, "symbolic link")
	fi, err := os.Lstat(link)
	require.NoError(t, err)
	require.NotZero(t, fi.Mode()&os.ModeSymlink, "the link is left alone")
}

// --all-members with a member name that is a path is refused (exit 2) and writes nothing anywhere.
func TestRestoreAllMembersRefusesPathNames(t *testing.T) {
	top := t.TempDir()
	dataDir := filepath.Join(top, "a", "b", "out")
	for _, initial := range []string{"../../x=http://127.0.0.1:2380", "/abs=http://127.0.0.1:2380"} {
		out, errs, code := runCLI(t, "restore", "--store", restoretest.StoreURL(t, fixture.StoreOperator), "--data-dir", dataDir, "--all-members", "--initial-cluster", initial)
		require.Equal(t, 2, code, "stdout: %s\nstderr: %s", out, errs)
		require.Contains(t, errs, "member name")
		requireNothingBeside(t, top)
	}
}
