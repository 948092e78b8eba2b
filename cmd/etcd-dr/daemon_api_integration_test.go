package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/etcd-dr/etcd-dr/internal/testenv"
)

// buildDaemon builds the etcd-dr binary into a t.TempDir().
func buildDaemon(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := filepath.Join(t.TempDir(), "etcd-dr")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	require.NoError(t, err, "go build: %s", out)
	return bin
}

// startDaemonEnv starts `etcd-dr --daemon args...` with env added to the environment (ETCD_DR_API_TOKEN and
// AZURE_STORAGE_* of the test's own environment removed), its log lines on the returned daemonProc.
func startDaemonEnv(t *testing.T, bin string, env []string, args ...string) *daemonProc {
	t.Helper()
	d := &daemonProc{logs: make(chan string, 1000), exited: make(chan struct{})}
	d.cmd = exec.Command(bin, append([]string{"--daemon", "--log-format", "json"}, args...)...)
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "ETCD_DR_API_TOKEN=") && !strings.HasPrefix(kv, "AZURE_STORAGE_") {
			d.cmd.Env = append(d.cmd.Env, kv)
		}
	}
	d.cmd.Env = append(d.cmd.Env, env...)
	stderr, err := d.cmd.StderrPipe()
	require.NoError(t, err)
	require.NoError(t, d.cmd.Start())
	t.Cleanup(func() { _ = d.cmd.Process.Kill() })
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			t.Log(sc.Text())
			select {
			case d.logs <- sc.Text():
			default:
			}
		}
		close(d.logs)
		d.err = d.cmd.Wait()
		close(d.exited)
	}()
	return d
}

// request sends GET url with an Authorization header (none when empty).
func request(t *testing.T, url, authorization string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	require.NoError(t, err)
	if authorization != "" {
		req.Header.Set("Authorization", authorization)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// exitCodeOf is the process's exit code (0 for a nil error).
func exitCodeOf(t *testing.T, err error) int {
	t.Helper()
	var ee *exec.ExitError
	if err == nil {
		return 0
	}
	require.True(t, errors.As(err, &ee), "%v", err)
	return ee.ExitCode()
}

// Issue 12 item 6: an API open to the network needs a token. Without one the daemon refuses to start (exit 2,
// naming --api-token and ETCD_DR_API_TOKEN) before it writes anything; with one from ETCD_DR_API_TOKEN it
// starts, accepts "bearer" in any case, and --metrics-listen serves /metrics alone without a token. /v1/status
// reports the heartbeat's role from the start: a single member's daemon is never a Follower.
func TestDaemonAPIOnTheNetwork(t *testing.T) {
	bin := buildDaemon(t)
	e, cli := testenv.StartEmbedded(t)
	ep := e.Config().AdvertiseClientUrls[0].String()
	storeDir := filepath.Join(t.TempDir(), "store")
	args := []string{"--endpoints", ep, "--store", "file://" + storeDir, "--temp-dir", t.TempDir(), "--name", "embedded",
		"--leader-check-period", "1s", "--heartbeat-period", "200ms", "--delta-period", "200ms", "--full-schedule", "0 0 1 1 *"}

	for _, listen := range []string{"0.0.0.0:0", ":0", "[::]:0", "10.0.0.1:0"} {
		t.Run("refused "+listen, func(t *testing.T) {
			d := startDaemonEnv(t, bin, nil, append([]string{"--listen", listen}, args...)...)
			var logs []string
			timeout := time.After(30 * time.Second)
		read:
			for {
				select {
				case l, ok := <-d.logs:
					if !ok {
						break read
					}
					logs = append(logs, l)
				case <-timeout:
					t.Fatalf("the daemon started on %s without a token: %s", listen, logs)
				}
			}
			require.Equal(t, 2, exitCodeOf(t, d.wait()), "%s", logs)
			all := strings.Join(logs, "\n")
			require.Contains(t, all, "--api-token")
			require.Contains(t, all, "ETCD_DR_API_TOKEN")
			require.Contains(t, all, listen)
			_, err := os.Stat(storeDir)
			require.True(t, os.IsNotExist(err), "the refused daemon touched the store: %v", err)
		})
	}

	port, mport := testenv.FreePort(t), testenv.FreePort(t)
	base, metrics := fmt.Sprintf("http://127.0.0.1:%d", port), fmt.Sprintf("http://127.0.0.1:%d", mport)
	d := startDaemonEnv(t, bin, []string{"ETCD_DR_API_TOKEN=n3t-t0k"},
		append([]string{"--listen", fmt.Sprintf("0.0.0.0:%d", port), "--metrics-listen", fmt.Sprintf("127.0.0.1:%d", mport)}, args...)...)
	d.waitLog(t, `"msg":"metrics listening"`)

	// The role as the API tells it, from the first answer until the backups run: never Follower.
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	var roles []string
	for {
		code, body := request(t, base+"/v1/status", "bearer n3t-t0k")
		require.Equal(t, http.StatusOK, code, body)
		var st struct {
			Role    string
			Running bool
		}
		require.NoError(t, json.Unmarshal([]byte(body), &st))
		if len(roles) == 0 || roles[len(roles)-1] != st.Role {
			roles = append(roles, st.Role)
		}
		if st.Running {
			break
		}
		select {
		case <-ctx.Done():
			t.Fatalf("backups did not start; roles seen: %v", roles)
		case <-time.After(20 * time.Millisecond):
		}
	}
	require.NotContains(t, roles, "Follower", "a single member's daemon said Follower while its heartbeat said otherwise")
	require.Equal(t, "Leader", roles[len(roles)-1], "%v", roles)

	for _, auth := range []string{"Bearer n3t-t0k", "BEARER n3t-t0k", "bearer   n3t-t0k"} {
		code, body := request(t, base+"/v1/status", auth)
		require.Equal(t, http.StatusOK, code, "%s: %s", auth, body)
	}
	for _, auth := range []string{"", "bearer wrong", "Basic n3t-t0k"} {
		code, _ := request(t, base+"/v1/status", auth)
		require.Equal(t, http.StatusUnauthorized, code, auth)
	}
	code, body := request(t, metrics+"/metrics", "")
	require.Equal(t, http.StatusOK, code)
	require.Contains(t, body, "etcddr_")
	for _, p := range []string{"/v1/backup", "/v1/backupnow", "/v1/status", "/healthz"} {
		code, _ := request(t, metrics+p, "")
		require.Equal(t, http.StatusNotFound, code, p)
	}
	_, err := cli.Put(t.Context(), "/k", "v")
	require.NoError(t, err)
	require.NoError(t, d.cmd.Process.Signal(syscall.SIGTERM))
	require.NoError(t, d.wait(), "SIGTERM must end the daemon cleanly")
}

// Issue 12 item 10: an unreachable Azure store used to panic the daemon (gocloud's azureblob writer, through the
// heartbeat writer; exit 2). Now every write fails with an error naming the store, the daemon keeps retrying,
// and SIGTERM ends it cleanly.
func TestDaemonAzureUnreachableRetries(t *testing.T) {
	bin := buildDaemon(t)
	e, _ := testenv.StartEmbedded(t)
	ep := e.Config().AdvertiseClientUrls[0].String()
	env := []string{"AZURE_STORAGE_ACCOUNT=devstoreaccount1",
		"AZURE_STORAGE_KEY=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==",
		"AZURE_STORAGE_DOMAIN=127.0.0.1:1", "AZURE_STORAGE_PROTOCOL=http", "AZURE_STORAGE_IS_LOCAL_EMULATOR=true"}
	d := startDaemonEnv(t, bin, env, "--listen", "", "--endpoints", ep, "--store", "azblob://backups/etcd-main", "--name", "embedded",
		"--temp-dir", t.TempDir(), "--leader-check-period", "200ms", "--heartbeat-period", "500ms", "--delta-period", "200ms")
	heartbeatFailures, backupRetries := 0, 0
	for line := range d.logs {
		if strings.Contains(line, "heartbeat not written") {
			require.Contains(t, line, "azblob://backups/etcd-main object members/embedded.json")
			heartbeatFailures++
		}
		if strings.Contains(line, "cannot start backups; retrying") {
			require.Contains(t, line, "azblob://backups/etcd-main")
			backupRetries++
		}
		if heartbeatFailures >= 2 && backupRetries >= 2 {
			break
		}
	}
	require.True(t, d.running(), "the daemon exited on an unreachable store: %v", d.err)
	require.NoError(t, d.cmd.Process.Signal(syscall.SIGTERM))
	go func() {
		for range d.logs { // keep draining so the daemon never blocks on its log
		}
	}()
	select {
	case <-d.exited:
	case <-time.After(60 * time.Second):
		t.Fatal("SIGTERM did not stop the daemon within 60 s")
	}
	require.NoError(t, d.err, "SIGTERM must end the daemon cleanly")
}
