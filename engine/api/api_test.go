package api_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/etcd-dr/etcd-dr/engine"
	"github.com/etcd-dr/etcd-dr/engine/api"
	"github.com/etcd-dr/etcd-dr/engine/daemon"
	"github.com/etcd-dr/etcd-dr/engine/format"
	"github.com/etcd-dr/etcd-dr/engine/snapshot"
	"github.com/etcd-dr/etcd-dr/internal/fixture"
	"github.com/etcd-dr/etcd-dr/internal/testenv"
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
	repo, err := engine.OpenUnlisted(ctx, "file://"+filepath.Join(t.TempDir(), "store"), engine.Options{Create: true})
	require.NoError(t, err)
	defer repo.Close()
	s, err := snapshot.New(snapshot.Config{Client: cli, Store: repo.Store(), TempDir: t.TempDir()})
	require.NoError(t, err)
	srv := httptest.NewServer(api.Handler(api.Config{Token: "t0k", Backend: backend{s: s, leader: true}, Repo: repo}))
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
	require.Contains(t, string(body), "holds revision "+itoa(rev)+", below the "+itoa(rev+1)+" asked for")
	resp, _ = get(t, srv, "/v1/backup?etcdRevision=x", "t0k")
	require.Equal(t, http.StatusBadRequest, resp.StatusCode)

	for _, p := range []string{"/v1/backup", "/v1/backupnow", "/v1/status"} {
		resp, _ = get(t, srv, p, "")
		require.Equal(t, http.StatusUnauthorized, resp.StatusCode, p)
	}
	resp, _ = get(t, srv, "/healthz", "")
	require.Equal(t, http.StatusOK, resp.StatusCode)

	follower := httptest.NewServer(api.Handler(api.Config{Backend: backend{s: s}, Repo: repo}))
	defer follower.Close()
	resp, body = get(t, follower, "/v1/backupnow", "")
	require.Equal(t, http.StatusServiceUnavailable, resp.StatusCode, string(body))
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// Serve speaks HTTPS with --api-cert/--api-key and still wants the token.
func TestServeTLS(t *testing.T) {
	dir := t.TempDir()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "etcd-dr api"}, NotBefore: time.Now().Add(-time.Hour),
		NotAfter: time.Now().Add(time.Hour), IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	require.NoError(t, err)
	kder, err := x509.MarshalECPrivateKey(key)
	require.NoError(t, err)
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	require.NoError(t, os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600))
	require.NoError(t, os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}), 0o600))
	cert, err := x509.ParseCertificate(der)
	require.NoError(t, err)
	pool := x509.NewCertPool()
	pool.AddCert(cert)

	ctx, cancel := context.WithCancel(t.Context())
	addr := make(chan string, 1)
	done := make(chan error, 1)
	go func() {
		done <- api.Serve(ctx, api.Config{Listen: "127.0.0.1:0", Token: "tls-token", CertFile: certFile, KeyFile: keyFile, Backend: backend{}},
			func(a string) { addr <- a })
	}()
	base := "https://" + <-addr
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	for _, tc := range []struct {
		token string
		want  int
	}{{"", http.StatusUnauthorized}, {"tls-token", http.StatusOK}} {
		req, err := http.NewRequest(http.MethodGet, base+"/v1/status", nil)
		require.NoError(t, err)
		if tc.token != "" {
			req.Header.Set("Authorization", "Bearer "+tc.token)
		}
		resp, err := client.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		require.Equal(t, tc.want, resp.StatusCode)
	}
	cancel()
	require.NoError(t, <-done)
}
