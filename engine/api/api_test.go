package api_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/etcd-dr/etcd-dr/engine/api"
	"github.com/etcd-dr/etcd-dr/engine/daemon"
	"github.com/etcd-dr/etcd-dr/engine/format"
	"github.com/etcd-dr/etcd-dr/engine/snapshot"
	"github.com/etcd-dr/etcd-dr/internal/fixture"
	"github.com/etcd-dr/etcd-dr/internal/testenv"
	"github.com/etcd-dr/etcd-dr/store"
)

type backend struct {
	s      *snapshot.Snapshotter
	leader bool
}

func (b backend) BackupNow(ctx context.Context) (snapshot.Result, error) {
	if !b.leader {
		return snapshot.Result{}, daemon.ErrNotLeader
	}
	return b.s.Full(ctx, snapshot.FullOptions{})
}
func (b backend) Status() daemon.Status { return daemon.Status{Role: "Leader", Running: true} }

func get(t *testing.T, srv *httptest.Server, path, token string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, srv.URL+path, nil)
	require.NoError(t, err)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := srv.Client().Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp, b
}

// /v1/backup streams the newest full snapshot that fits etcdVersion and etcdRevision, with etcd-operator's
// headers, as etcd's own snapshot bytes (sha256 trailer included); it answers 404 with a reason when none fits.
// Without the token every path but /healthz is 401.
func TestBackupEndpoints(t *testing.T) {
	_, cli := testenv.StartEmbedded(t)
	ctx := t.Context()
	require.NoError(t, fixture.Workload(ctx, cli, "/api", 20))
	st, err := store.Open(ctx, "file://"+filepath.Join(t.TempDir(), "store"), store.OpenOptions{Create: true})
	require.NoError(t, err)
	defer st.Close()
	s, err := snapshot.New(snapshot.Config{Client: cli, Store: st, TempDir: t.TempDir()})
	require.NoError(t, err)
	srv := httptest.NewServer(api.Handler(api.Config{Token: "t0k", Backend: backend{s: s, leader: true}, Store: st}))
	defer srv.Close()

	resp, body := get(t, srv, "/v1/backup", "t0k")
	require.Equal(t, http.StatusNotFound, resp.StatusCode, string(body))

	resp, body = get(t, srv, "/v1/backupnow", "t0k")
	require.Equal(t, http.StatusOK, resp.StatusCode, string(body))
	require.Contains(t, string(body), `"creationTime"`)
	rev, err := fixture.Revision(ctx, cli)
	require.NoError(t, err)

	resp, body = get(t, srv, "/v1/backup?etcdVersion=3.6.0", "t0k")
	require.Equal(t, http.StatusOK, resp.StatusCode, string(body))
	require.Equal(t, strings.TrimSpace(resp.Header.Get(api.HeaderRevision)), itoa(rev))
	require.True(t, strings.HasPrefix(resp.Header.Get(api.HeaderEtcdVersion), "3.6."))
	th := format.NewTrailerHash()
	th.Write(body)
	require.NoError(t, th.Verify(), "served bytes are not an etcd snapshot")

	resp, body = get(t, srv, "/v1/backup?etcdVersion=3.4.0", "t0k")
	require.Equal(t, http.StatusNotFound, resp.StatusCode, string(body))
	resp, body = get(t, srv, "/v1/backup?etcdRevision="+itoa(rev+1), "t0k")
	require.Equal(t, http.StatusNotFound, resp.StatusCode, string(body))
	require.Contains(t, string(body), "below etcdRevision")
	resp, _ = get(t, srv, "/v1/backup?etcdRevision=x", "t0k")
	require.Equal(t, http.StatusBadRequest, resp.StatusCode)

	for _, p := range []string{"/v1/backup", "/v1/backupnow", "/v1/status"} {
		resp, _ = get(t, srv, p, "")
		require.Equal(t, http.StatusUnauthorized, resp.StatusCode, p)
	}
	resp, _ = get(t, srv, "/healthz", "")
	require.Equal(t, http.StatusOK, resp.StatusCode)

	follower := httptest.NewServer(api.Handler(api.Config{Backend: backend{s: s}, Store: st}))
	defer follower.Close()
	resp, body = get(t, follower, "/v1/backupnow", "")
	require.Equal(t, http.StatusServiceUnavailable, resp.StatusCode, string(body))
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
