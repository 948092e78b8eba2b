package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/etcd-dr/etcd-dr/engine/restore"
	"github.com/etcd-dr/etcd-dr/engine/validate"
	"github.com/etcd-dr/etcd-dr/internal/fixture"
	"github.com/etcd-dr/etcd-dr/internal/testenv"
	"github.com/etcd-dr/etcd-dr/internal/testkit/restoretest"
)

// TestMain lets validate inspect damaged dbs in a child process, as main does.
func TestMain(m *testing.M) {
	validate.RunChild()
	os.Exit(m.Run())
}

func TestValidateStore(t *testing.T) {
	t.Run("clean store", func(t *testing.T) {
		out, errs, code := runCLI(t, "validate", "--store", restoretest.StoreURL(t, fixture.StoreBRv1), "-o", "json")
		require.Equal(t, 0, code, "stdout: %s\nstderr: %s", out, errs)
		var rep validate.StoreReport
		require.NoError(t, json.Unmarshal([]byte(out), &rep))
		require.True(t, rep.OK)
		require.Len(t, rep.Objects, 5)
		require.Empty(t, rep.Problems)
	})
	t.Run("a gap is a problem", func(t *testing.T) {
		out, errs, code := runCLI(t, "validate", "--store", restoretest.StoreURL(t, fixture.StoreBRv2))
		require.Equal(t, 3, code, "stdout: %s\nstderr: %s", out, errs)
		require.Contains(t, out, "revisions 104-113 are in no object")
		require.Contains(t, errs, "1 problem in")
	})
	t.Run("a corrupt object is named", func(t *testing.T) {
		dir := testenv.CopyStore(t, fixture.StoreBRv1)
		p := filepath.Join(dir, "v1", "Backup-1763900840", "Incr-00000186-00000195-1763900900")
		b, err := os.ReadFile(p)
		require.NoError(t, err)
		b[len(b)/2] ^= 1
		require.NoError(t, os.WriteFile(p, b, 0o644))
		out, errs, code := runCLI(t, "validate", "--store", "file://"+dir, "-o", "json")
		require.Equal(t, 3, code, "stdout: %s\nstderr: %s", out, errs)
		var rep validate.StoreReport
		require.NoError(t, json.Unmarshal([]byte(out), &rep))
		require.False(t, rep.OK)
		require.Len(t, rep.Problems, 1)
		require.Equal(t, "v1/Backup-1763900840/Incr-00000186-00000195-1763900900", rep.Problems[0].Object)
	})
	t.Run("trial restore", func(t *testing.T) {
		trialDir := t.TempDir()
		out, errs, code := runCLI(t, "validate", "--store", restoretest.StoreURL(t, fixture.StoreBRv2), "--trial-restore", "--trial-dir", trialDir, "-o", "json")
		require.Equal(t, 3, code, "stdout: %s\nstderr: %s", out, errs) // the known gap
		var rep validate.StoreReport
		require.NoError(t, json.Unmarshal([]byte(out), &rep))
		require.NotNil(t, rep.Trial)
		require.True(t, rep.Trial.OK, rep.Trial.What)
		require.Equal(t, int64(103), rep.Trial.Revision)
		requireNothingBeside(t, trialDir)
	})
	t.Run("neither store nor data dir", func(t *testing.T) {
		_, errs, code := runCLI(t, "validate", "--store", "")
		require.Equal(t, 2, code)
		require.Contains(t, errs, "--data-dir")
	})
}

func TestValidateDataDir(t *testing.T) {
	dataDir := filepath.Join(t.TempDir(), "etcd")
	_, errs, code := runCLI(t, "restore", "--store", restoretest.StoreURL(t, fixture.StoreBRv1), "--data-dir", dataDir)
	require.Equal(t, 0, code, errs)

	out, errs, code := runCLI(t, "validate", "--data-dir", dataDir, "--store", restoretest.StoreURL(t, fixture.StoreBRv1), "-o", "json")
	require.Equal(t, 0, code, "stdout: %s\nstderr: %s", out, errs)
	var rep validate.DataDirReport
	require.NoError(t, json.Unmarshal([]byte(out), &rep))
	require.True(t, rep.OK)
	require.Equal(t, int64(195), rep.Revision)
	require.Equal(t, int64(195), rep.StoreRevision)

	out, _, code = runCLI(t, "validate", "--data-dir", dataDir, "--store", restoretest.StoreURL(t, fixture.StoreOperator))
	require.Equal(t, 3, code)
	require.Contains(t, out, "the store has newer data")

	out, _, code = runCLI(t, "validate", "--data-dir", filepath.Join(t.TempDir(), "none"))
	require.Equal(t, 3, code)
	require.Contains(t, out, "missing")

	db := filepath.Join(dataDir, "member", "snap", "db")
	b, err := os.ReadFile(db)
	require.NoError(t, err)
	for pg := 2; pg < len(b)/4096; pg++ {
		b[pg*4096+8] ^= 0xff
	}
	require.NoError(t, os.WriteFile(db, b, 0o600))
	out, errs, code = runCLI(t, "validate", "--data-dir", dataDir)
	require.Equal(t, 3, code, "stdout: %s\nstderr: %s", out, errs)
	require.Contains(t, out, "bbolt database is damaged")
}

// initialize: a missing data dir is restored, a valid one left alone, an invalid one refused unless --move-aside.
func TestInitialize(t *testing.T) {
	parent := t.TempDir()
	dataDir := filepath.Join(parent, "etcd")
	store := restoretest.StoreURL(t, fixture.StoreBRv1)

	out, errs, code := runCLI(t, "initialize", "--store", store, "--data-dir", dataDir, "-o", "json")
	require.Equal(t, 0, code, "stdout: %s\nstderr: %s", out, errs)
	var res restore.InitResult
	require.NoError(t, json.Unmarshal([]byte(out), &res))
	require.Equal(t, restore.ActionRestored, res.Action)
	require.True(t, res.Validation.Missing)
	require.Equal(t, int64(195), res.Restore.Revision)

	out, errs, code = runCLI(t, "initialize", "--store", store, "--data-dir", dataDir)
	require.Equal(t, 0, code, "stdout: %s\nstderr: %s", out, errs)
	require.Contains(t, out, "nothing to do")

	require.NoError(t, os.RemoveAll(filepath.Join(dataDir, "member", "wal")))
	out, errs, code = runCLI(t, "initialize", "--store", store, "--data-dir", dataDir)
	require.Equal(t, 3, code, "stdout: %s\nstderr: %s", out, errs)
	require.Contains(t, errs, "--move-aside")
	requireNothingBeside(t, parent, "etcd")

	out, errs, code = runCLI(t, "initialize", "--store", store, "--data-dir", dataDir, "--move-aside", "-o", "json")
	require.Equal(t, 0, code, "stdout: %s\nstderr: %s", out, errs)
	res = restore.InitResult{}
	require.NoError(t, json.Unmarshal([]byte(out), &res))
	require.Equal(t, restore.ActionRestored, res.Action)
	require.NotEmpty(t, res.Restore.MovedAside)
	requireNothingBeside(t, parent, "etcd", filepath.Base(res.Restore.MovedAside))
	restoretest.Judge(t, testenv.Binary(t, "etcd"), dataDir, restore.DefaultName, 195, restoretest.State(t, fixture.StoreBRv1, 195))
}
