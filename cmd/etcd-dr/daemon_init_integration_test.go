package main

import (
	"context"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/etcd-dr/etcd-dr/internal/fixture"
	"github.com/etcd-dr/etcd-dr/internal/testenv"
	"github.com/etcd-dr/etcd-dr/internal/testkit/restoretest"
)

// `--daemon --data-dir`: the daemon serves the initialization handshake before its etcd exists; the helm chart's
// bootstrap loop (engine/initialization/testdata/bootstrap.sh) starts, waits and execs the real etcd, which serves
// the chain's state; /healthz says initializing until then, and /metrics counts the run.
func TestDaemonInitializationHandshake(t *testing.T) {
	bin := buildDaemon(t)
	etcd := testenv.Binary(t, "etcd")
	store := testenv.CopyStore(t, fixture.StoreBRv1)
	dataDir := filepath.Join(t.TempDir(), "etcd")
	clientURL := fmt.Sprintf("http://127.0.0.1:%d", testenv.FreePort(t))
	peer := fmt.Sprintf("http://127.0.0.1:%d", testenv.FreePort(t))
	d := startDaemon(t, bin, "--store", "file://"+store, "--endpoints", clientURL, "--data-dir", dataDir,
		"--name", "m0", "--initial-cluster", "m0="+peer, "--initial-advertise-peer-urls", peer)
	d.waitLog(t, "initialization handshake ready")
	d.waitLog(t, "HTTP API listening")

	code, body := get(t, d.api+"/healthz", "")
	require.Equal(t, 200, code)
	require.Contains(t, body, `"initializing"`)
	code, body = get(t, d.api+"/initialization/status", "")
	require.Equal(t, 200, code)
	require.Equal(t, "New", body)

	script := exec.Command("bash", filepath.Join("..", "..", "engine", "initialization", "testdata", "bootstrap.sh"), d.api, "full", "0", etcd,
		"--name", "m0", "--data-dir", dataDir, "--listen-client-urls", clientURL, "--advertise-client-urls", clientURL,
		"--listen-peer-urls", peer, "--initial-advertise-peer-urls", peer, "--initial-cluster", "m0="+peer,
		"--unsafe-no-fsync", "--log-level", "error")
	script.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	require.NoError(t, script.Start())
	t.Cleanup(func() { _ = syscall.Kill(-script.Process.Pid, syscall.SIGKILL); _ = script.Wait() })

	cli, err := clientv3.New(clientv3.Config{Endpoints: []string{clientURL}, DialTimeout: 5 * time.Second})
	require.NoError(t, err)
	defer cli.Close()
	require.Eventually(t, func() bool {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		_, err := cli.Get(ctx, "health")
		return err == nil
	}, 60*time.Second, 200*time.Millisecond, "etcd never started")
	restoretest.CheckServes(t, cli, 195, restoretest.State(t, fixture.StoreBRv1, 195))

	code, body = get(t, d.api+"/healthz", "")
	require.Equal(t, 200, code)
	require.NotContains(t, body, "initializing")
	_, body = get(t, d.api+"/metrics", "")
	require.True(t, strings.Contains(body, `etcddr_initialization_runs_total{action="restored",result="Successful"} 1`), "metrics:\n%s", body)
}
