package api_test

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"

	"github.com/etcd-dr/etcd-dr/engine/api"
	"github.com/etcd-dr/etcd-dr/engine/daemon"
	"github.com/etcd-dr/etcd-dr/engine/fault"
)

// Without a token the API may listen on loopback only; anything else is refused as bad usage (exit 2).
func TestCheckListen(t *testing.T) {
	for _, tc := range []struct {
		addr, token string
		refused     bool
	}{
		{"127.0.0.1:19999", "", false},
		{"127.1.2.3:19999", "", false},
		{"[::1]:19999", "", false},
		{"localhost:19999", "", false},
		{"LOCALHOST:0", "", false},
		{"", "", false}, // no API at all
		{"0.0.0.0:19999", "", true},
		{"[::]:19999", "", true},
		{":19999", "", true}, // every interface
		{"10.0.0.5:19999", "", true},
		{"[::ffff:10.0.0.5]:19999", "", true},
		{"etcd-0.etcd:19999", "", true}, // a name may resolve anywhere
		{"localhost.example.com:1", "", true},
		{"0.0.0.0:19999", "s3cret", false},
		{"no-port", "", true},
	} {
		t.Run(tc.addr, func(t *testing.T) {
			err := api.CheckListen(tc.addr, tc.token)
			if !tc.refused {
				require.NoError(t, err)
				return
			}
			require.Error(t, err)
			require.True(t, errors.Is(err, fault.ErrRefused), "%v", err)
			require.Contains(t, err.Error(), tc.addr)
		})
	}
}

// Serve itself refuses the network without a token, before it listens.
func TestServeRefusesNetworkWithoutToken(t *testing.T) {
	err := api.Serve(t.Context(), api.Config{Listen: "0.0.0.0:0", Backend: backend{}}, func(string) { t.Error("it listened") })
	require.True(t, errors.Is(err, fault.ErrRefused), "%v", err)
}

// The bearer scheme is matched in any case (RFC 7235); the token itself is not.
func TestBearerSchemeAnyCase(t *testing.T) {
	srv := httptest.NewServer(api.Handler(api.Config{Token: "X-t0k", Backend: backend{}}))
	defer srv.Close()
	for _, tc := range []struct {
		header string
		want   int
	}{
		{"Bearer X-t0k", http.StatusOK},
		{"bearer X-t0k", http.StatusOK},
		{"BEARER X-t0k", http.StatusOK},
		{"bEaReR   X-t0k", http.StatusOK},
		{"Bearer x-t0k", http.StatusUnauthorized},
		{"Basic X-t0k", http.StatusUnauthorized},
		{"X-t0k", http.StatusUnauthorized},
		{"Bearer", http.StatusUnauthorized},
		{"Bearer X-t0k extra", http.StatusUnauthorized},
		{"", http.StatusUnauthorized},
	} {
		t.Run(tc.header, func(t *testing.T) {
			req, err := http.NewRequest(http.MethodGet, srv.URL+"/v1/status", nil)
			require.NoError(t, err)
			req.Header.Set("Authorization", tc.header)
			resp, err := srv.Client().Do(req)
			require.NoError(t, err)
			resp.Body.Close()
			require.Equal(t, tc.want, resp.StatusCode)
		})
	}
}

// The metrics listener serves /metrics without a token and nothing else.
func TestMetricsHandlerServesOnlyMetrics(t *testing.T) {
	reg := prometheus.NewRegistry()
	c := prometheus.NewCounter(prometheus.CounterOpts{Name: "etcddr_test_total", Help: "test"})
	reg.MustRegister(c)
	c.Inc()
	srv := httptest.NewServer(api.MetricsHandler(reg))
	defer srv.Close()
	resp, body := get(t, srv, "/metrics", "")
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Contains(t, string(body), "etcddr_test_total 1")
	for _, p := range []string{"/v1/backup", "/v1/backupnow", "/v1/status", "/healthz", "/"} {
		resp, _ := get(t, srv, p, "")
		require.Equal(t, http.StatusNotFound, resp.StatusCode, p)
	}
}

type followerBackend struct{ backend }

func (followerBackend) Status() daemon.Status { return daemon.Status{Role: "Follower"} }

// /v1/status and /healthz give the role of the heartbeat's source: while a new leader waits to take over, the
// daemon's loop has not started (it says Follower) but the heartbeat already says Leader.
func TestStatusRoleFromHeartbeatSource(t *testing.T) {
	role, why := "Leader", "own etcd member is the raft leader"
	srv := httptest.NewServer(api.Handler(api.Config{Backend: followerBackend{}, Role: func() (string, string) { return role, why }}))
	defer srv.Close()
	resp, body := get(t, srv, "/v1/status", "")
	require.Equal(t, http.StatusOK, resp.StatusCode)
	var st struct {
		Role, Why string
		Running   bool
	}
	require.NoError(t, json.Unmarshal(body, &st))
	require.Equal(t, "Leader", st.Role, string(body))
	require.Equal(t, why, st.Why)
	require.False(t, st.Running)
	resp, body = get(t, srv, "/healthz", "")
	require.Equal(t, http.StatusOK, resp.StatusCode, "taking over is healthy: %s", body)
	require.Contains(t, string(body), `"role":"Leader"`)
	require.Contains(t, string(body), "taking over")

	role, why = "Unknown", "not checked yet"
	_, body = get(t, srv, "/v1/status", "")
	require.Contains(t, string(body), `"role":"Unknown"`)
}
