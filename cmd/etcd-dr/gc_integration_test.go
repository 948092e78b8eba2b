package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/etcd-dr/etcd-dr/engine/catalog"
	"github.com/etcd-dr/etcd-dr/engine/format"
	"github.com/etcd-dr/etcd-dr/engine/gc"
	"github.com/etcd-dr/etcd-dr/engine/restore/restoretest"
)

// etcd-dr gc on a directory store: --dry-run deletes nothing, a real run deletes exactly the chains the
// policy drops (deltas too) and leaves members/; bad policies exit 2.
func TestGCVerb(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "store")
	now := time.Now().UTC()
	var fulls []string
	for i := 0; i < 5; i++ {
		ts := now.Add(time.Duration(i-5) * time.Hour)
		rev := int64(10*i + 10)
		full := filepath.Join(dir, "v2", catalog.Name(catalog.Full, 0, rev, ts, format.Gzip, false, false))
		delta := filepath.Join(dir, "v2", catalog.Name(catalog.Delta, rev+1, rev+5, ts, format.Gzip, false, false))
		// Real snapshots: gc counts only chains whose full snapshot holds the revision its name gives.
		restoretest.WriteFullAt(t, full, rev, format.Gzip)
		require.NoError(t, os.WriteFile(delta, []byte("x"), 0o644))
		fulls = append(fulls, full)
	}
	hb := filepath.Join(dir, "members", "etcd-0.json")
	require.NoError(t, os.MkdirAll(filepath.Dir(hb), 0o755))
	require.NoError(t, os.WriteFile(hb, []byte("{}"), 0o644))
	url := "file://" + dir

	_, errOut, code := runCLI(t, "gc", "--store", url)
	require.Equal(t, exitUsage, code, errOut)
	_, errOut, code = runCLI(t, "gc", "--store", url, "--gc-policy", "limit")
	require.Equal(t, exitUsage, code, errOut)
	require.Contains(t, errOut, "--max-backups")
	_, errOut, code = runCLI(t, "gc", "--store", url, "--gc-policy", "fifo")
	require.Equal(t, exitUsage, code, errOut)

	out, errOut, code := runCLI(t, "gc", "--store", url, "--gc-policy", "limit", "--max-backups", "2", "--dry-run")
	require.Equal(t, exitOK, code, errOut)
	require.Contains(t, out, "Would delete 3 chains (6 objects); keeping 2 chains")
	for _, f := range fulls {
		require.FileExists(t, f)
	}
	out, errOut, code = runCLI(t, "gc", "--store", url, "--gc-policy", "limit", "--max-backups", "2", "-o", "json")
	require.Equal(t, exitOK, code, errOut)
	var p gc.Plan
	require.NoError(t, json.Unmarshal([]byte(out), &p))
	require.Len(t, p.Deleted, 6)
	for i, f := range fulls {
		if i < 3 {
			require.NoFileExists(t, f)
		} else {
			require.FileExists(t, f)
		}
	}
	require.FileExists(t, hb)
}
