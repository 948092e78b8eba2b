package main

import (
	"bytes"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/etcd-dr/etcd-dr/internal/testenv"
)

// gcsPut uploads one object through the emulator's JSON API.
func gcsPut(t *testing.T, host, bucket, name string, body []byte) {
	t.Helper()
	resp, err := http.Post("http://"+host+"/upload/storage/v1/b/"+bucket+"/o?uploadType=media&name="+url.QueryEscape(name), "application/octet-stream", bytes.NewReader(body))
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode, "upload %s", name)
}

// As etcd-backup-restore does on GCS (pkg/snapstore/gcs_snapstore.go, emulator naming): components
// <snapshot>.chunk/%010d, composed with the compose call into <snapshot>, left behind. list shows one chain and
// a note of the leftovers, no problem; the download is the original bytes.
func TestGCSComposedSnapshotWithLeftoverChunks(t *testing.T) {
	g := testenv.StartGCS(t)
	g.Env(t)
	t.Setenv("HOME", t.TempDir())
	g.CreateBucket(t, "backups")
	td := testenv.Testdata(t)
	snap, err := os.ReadFile(filepath.Join(td, "stores/operator/v1/etcd-cluster/3.6.16_00000000000000df_etcd.backup"))
	require.NoError(t, err)
	const full = "etcd-main/v2/Full-00000000-00000223-1700000000"
	part := len(snap)/3 + 1
	var sources string
	for i := 0; i*part < len(snap); i++ {
		name := fmt.Sprintf("%s.chunk/%010d", full, i+1)
		gcsPut(t, g.Host, "backups", name, snap[i*part:min((i+1)*part, len(snap))])
		if sources != "" {
			sources += ","
		}
		sources += `{"name":"` + name + `"}`
	}
	resp, err := http.Post("http://"+g.Host+"/storage/v1/b/backups/o/"+url.PathEscape(full)+"/compose", "application/json",
		bytes.NewReader([]byte(`{"sourceObjects":[`+sources+`],"destination":{"contentType":"application/octet-stream"}}`)))
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode, "compose")

	u := g.URL("backups", "etcd-main")
	out, errs, code := runCLI(t, "list", "--store", u, "-o", "json")
	require.Equal(t, 0, code, errs)
	require.Contains(t, out, `"problems": []`)
	require.Contains(t, out, "3 leftover chunks of Full-00000000-00000223-1700000000")

	to := filepath.Join(t.TempDir(), "dl")
	out, errs, code = runCLI(t, "download", "--store", u, "--to", to, "-o", "json")
	require.Equal(t, 0, code, errs+out)
	got, err := os.ReadFile(to)
	require.NoError(t, err)
	require.True(t, bytes.Equal(snap, got), "the composed snapshot downloads byte-identical")
}
