package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/etcd-dr/etcd-dr/engine/catalog"
	"github.com/etcd-dr/etcd-dr/engine/format"
	"github.com/etcd-dr/etcd-dr/engine/gc"
	"github.com/etcd-dr/etcd-dr/internal/testenv"
	"github.com/etcd-dr/etcd-dr/internal/testkit/restoretest"
	"github.com/etcd-dr/etcd-dr/store"
)

// etcd-dr gc on a directory store, on S3 (versitygw) and on GCS (fake-gcs-server): --dry-run deletes nothing, a
// real run deletes exactly the chains the policy drops (deltas too) and leaves members/; bad policies exit 2.
func TestGCVerb(t *testing.T) {
	for _, backend := range []string{"file", "s3", "gs"} {
		t.Run(backend, func(t *testing.T) { gcVerbOn(t, backend) })
	}
}

func gcVerbOn(t *testing.T, backend string) {
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
	switch backend {
	case "s3":
		s3 := testenv.StartS3(t)
		s3.Env(t)
		s3.CreateBucket(t, "gcb")
		url = s3.URL("gcb", "etcd-main")
		testenv.UploadDir(t, url, dir, "")
	case "gs":
		gcs := testenv.StartGCS(t)
		gcs.Env(t)
		gcs.CreateBucket(t, "gcb")
		url = gcs.URL("gcb", "etcd-main")
		testenv.UploadDir(t, url, dir, "")
	}
	// exists tells whether the object at local path f (under dir) is in the store at url.
	exists := func(f string) bool {
		if backend == "file" {
			_, err := os.Stat(f)
			return err == nil
		}
		rel, err := filepath.Rel(dir, f)
		require.NoError(t, err)
		st, err := store.Open(context.Background(), url)
		require.NoError(t, err)
		defer st.Close()
		objs, err := st.List(context.Background())
		require.NoError(t, err)
		for _, o := range objs {
			if strings.TrimPrefix(o.Key, "/") == filepath.ToSlash(rel) {
				return true
			}
		}
		return false
	}

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
		require.True(t, exists(f), "dry run deleted %s", f)
	}
	out, errOut, code = runCLI(t, "gc", "--store", url, "--gc-policy", "limit", "--max-backups", "2", "-o", "json")
	require.Equal(t, exitOK, code, errOut)
	var p gc.Plan
	require.NoError(t, json.Unmarshal([]byte(out), &p))
	require.Len(t, p.Deleted, 6)
	for i, f := range fulls {
		require.Equal(t, i >= 3, exists(f), "%s kept", f)
	}
	require.True(t, exists(hb), "gc deleted the heartbeat %s", hb)
}
