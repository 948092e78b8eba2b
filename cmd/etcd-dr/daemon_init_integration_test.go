package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"slices"
	"strconv"
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

// shippedBootstrap writes deploy/kubernetes/etcd-bootstrap-configmap.yaml's bootstrap.sh (the script a pod runs)
// to a temp file, and a bin dir in which `etcd` is the pinned binary, for the script's `exec etcd`.
func shippedBootstrap(t *testing.T) (script, binDir string) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "deploy", "kubernetes", "etcd-bootstrap-configmap.yaml"))
	require.NoError(t, err)
	// The ConfigMap's one block scalar: the lines after "bootstrap.sh: |", indented by 4.
	_, body, ok := strings.Cut(string(b), "  bootstrap.sh: |\n")
	require.True(t, ok, "no bootstrap.sh in the ConfigMap")
	var sh strings.Builder
	for _, line := range strings.Split(body, "\n") {
		if line != "" && !strings.HasPrefix(line, "    ") {
			break
		}
		sh.WriteString(strings.TrimPrefix(line, "    ") + "\n")
	}
	dir := t.TempDir()
	script = filepath.Join(dir, "bootstrap.sh")
	require.NoError(t, os.WriteFile(script, []byte(sh.String()), 0o755))
	binDir = filepath.Join(dir, "bin")
	require.NoError(t, os.Mkdir(binDir, 0o755))
	require.NoError(t, os.Symlink(testenv.Binary(t, "etcd"), filepath.Join(binDir, "etcd")))
	return script, binDir
}

// etcdMember is one etcd member's flags on loopback, as the pod spec passes them to the bootstrap script.
type etcdMember struct{ name, dataDir, clientURL, peerURL string }

func newEtcdMember(t *testing.T, name string) etcdMember {
	return etcdMember{name: name, dataDir: filepath.Join(t.TempDir(), "etcd"),
		clientURL: fmt.Sprintf("http://127.0.0.1:%d", testenv.FreePort(t)), peerURL: fmt.Sprintf("http://127.0.0.1:%d", testenv.FreePort(t))}
}

func (m etcdMember) args() []string {
	return []string{"--name", m.name, "--data-dir", m.dataDir, "--listen-client-urls", m.clientURL, "--advertise-client-urls", m.clientURL,
		"--listen-peer-urls", m.peerURL, "--initial-advertise-peer-urls", m.peerURL, "--initial-cluster", m.name + "=" + m.peerURL,
		"--unsafe-no-fsync", "--log-level", "error"}
}

// runScript starts the shipped bootstrap script with env added (the pod's etcd container), its output collected.
func runScript(t *testing.T, script, binDir string, env []string, m etcdMember) (*exec.Cmd, *testenv.SyncBuffer) {
	t.Helper()
	out := &testenv.SyncBuffer{}
	cmd := exec.Command("sh", append([]string{script}, m.args()...)...)
	cmd.Env = append(os.Environ(), "PATH="+binDir+":"+os.Getenv("PATH"))
	cmd.Env = append(cmd.Env, env...)
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	require.NoError(t, cmd.Start())
	t.Cleanup(func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("bootstrap script output:\n%s", out.String())
		}
	})
	return cmd, out
}

// answers reports whether an etcd serves on clientURL.
func answers(clientURL string) bool {
	cli, err := clientv3.New(clientv3.Config{Endpoints: []string{clientURL}, DialTimeout: time.Second})
	if err != nil {
		return false
	}
	defer cli.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	_, err = cli.Get(ctx, "health")
	return err == nil
}

// storeFiles are the files of a file store but its members/ heartbeats: backup objects, and the temporary file
// of one being written (when committed is false).
func storeFiles(t *testing.T, dir string, committed bool) []string {
	t.Helper()
	keys, err := listStore(dir, committed)
	require.NoError(t, err)
	return keys
}

// listStore is storeFiles without a test, for Eventually's conditions (they run in another goroutine).
func listStore(dir string, committed bool) ([]string, error) {
	var keys []string
	err := filepath.Walk(dir, func(p string, info os.FileInfo, err error) error {
		if os.IsNotExist(err) {
			return nil // a temporary file renamed into place while listing
		}
		if err != nil || info.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		rel = filepath.ToSlash(rel)
		if strings.HasPrefix(rel, "members/") || (committed && strings.HasSuffix(rel, ".tmp")) {
			return nil
		}
		keys = append(keys, rel)
		return nil
	})
	return keys, err
}

// The shipped bootstrap script (deploy/kubernetes) against the real daemon with an API token: the handshake's
// paths refuse a call without the token (401, and a start without it starts nothing); with failbelowrevision
// above what the store holds the run is Failed, its reason in the JSON status, the data dir never written and
// etcd never started; the same script without it then starts etcd on Successful, serving the chain's state.
func TestDaemonInitializationTokenFailedThenSuccessful(t *testing.T) {
	bin := buildDaemon(t)
	script, binDir := shippedBootstrap(t)
	store := testenv.CopyStore(t, fixture.StoreBRv1)
	before := storeFiles(t, store, false)
	m := newEtcdMember(t, "m0")
	const token = "init-token-0123456789"
	port := testenv.FreePort(t)
	d := startDaemonEnv(t, bin, []string{"ETCD_DR_API_TOKEN=" + token}, "--listen", fmt.Sprintf("127.0.0.1:%d", port),
		"--store", "file://"+store, "--endpoints", m.clientURL, "--data-dir", m.dataDir,
		"--name", m.name, "--initial-cluster", m.name+"="+m.peerURL, "--initial-advertise-peer-urls", m.peerURL)
	d.api = fmt.Sprintf("http://127.0.0.1:%d", port)
	d.waitLog(t, "HTTP API listening")

	for _, path := range []string{"/initialization/status", "/initialization/status?format=json", "/initialization/start"} {
		code, body := get(t, d.api+path, "")
		require.Equal(t, 401, code, "%s without the token: %s", path, body)
		code, _ = get(t, d.api+path, "wrong-token")
		require.Equal(t, 401, code, "%s with a wrong token", path)
	}
	code, body := get(t, d.api+"/initialization/status", token)
	require.Equal(t, 200, code)
	require.Equal(t, "New", body, "a start without the token started a run")
	code, body = get(t, d.api+"/healthz", "")
	require.Equal(t, 200, code, "/healthz needs no token")
	require.Contains(t, body, `"initializing"`)

	env := []string{"SIDECAR_URL=" + d.api, "SIDECAR_API_TOKEN=" + token}
	cmd, out := runScript(t, script, binDir, append(env, "FAIL_BELOW_REVISION=100000"), m)
	var st struct{ State, Reason string }
	require.Eventually(t, func() bool {
		req, _ := http.NewRequest(http.MethodGet, d.api+"/initialization/status?format=json", nil)
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		return json.NewDecoder(resp.Body).Decode(&st) == nil && st.Reason != ""
	}, 60*time.Second, 100*time.Millisecond, "no Failed run")
	require.Contains(t, st.Reason, "failbelowrevision 100000")
	require.Contains(t, st.Reason, "nothing changed")
	require.Eventually(t, func() bool { return strings.Contains(out.String(), "initialization status: Failed") }, 30*time.Second, 100*time.Millisecond,
		"the script never read Failed")
	time.Sleep(2 * time.Second) // the script polls on (Failed, New, start, Failed, ...): etcd must stay down
	require.NotContains(t, out.String(), "exec etcd")
	require.False(t, answers(m.clientURL), "etcd started on a Failed initialization")
	_, err := os.Stat(m.dataDir)
	require.True(t, os.IsNotExist(err), "the data dir was written: %v", err)
	require.Equal(t, before, storeFiles(t, store, false))
	_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	_ = cmd.Wait()

	// The same pod's etcd container restarted without the threshold: Successful, then etcd.
	_, out = runScript(t, script, binDir, env, m)
	require.Eventually(t, func() bool { return answers(m.clientURL) }, 60*time.Second, 200*time.Millisecond, "etcd never started")
	require.Contains(t, out.String(), "initialization status: Successful")
	cli, err := clientv3.New(clientv3.Config{Endpoints: []string{m.clientURL}, DialTimeout: 5 * time.Second})
	require.NoError(t, err)
	defer cli.Close()
	restoretest.CheckServes(t, cli, 195, restoretest.State(t, fixture.StoreBRv1, 195))
}

// The API binds loopback unless told otherwise (the pod's etcd reaches the sidecar on 127.0.0.1), and a
// sidecar told to listen beyond loopback without a token refuses to start (exit 2) before it touches its data
// dir or the store.
func TestDaemonInitializationLoopbackDefault(t *testing.T) {
	root := newRootCommand(&globalOptions{})
	listen := root.Flags().Lookup("listen")
	require.NotNil(t, listen)
	require.Equal(t, "127.0.0.1:19999", listen.DefValue)

	bin := buildDaemon(t)
	store := testenv.CopyStore(t, fixture.StoreBRv1)
	before := storeFiles(t, store, false)
	m := newEtcdMember(t, "m0")
	d := startDaemonEnv(t, bin, nil, "--listen", fmt.Sprintf("0.0.0.0:%d", testenv.FreePort(t)),
		"--store", "file://"+store, "--endpoints", m.clientURL, "--data-dir", m.dataDir, "--name", m.name)
	err := d.wait()
	require.Equal(t, 2, exitCodeOf(t, err))
	_, err = os.Stat(m.dataDir)
	require.True(t, os.IsNotExist(err))
	require.Equal(t, before, storeFiles(t, store, false))
}

// Backups begin only once the sidecar's etcd answers: while the handshake waits for etcd's bootstrap (and
// restores its dir) no snapshot object is written, however short the schedule; once the etcd the script exec'd
// serves, the daemon backs it up from the restored revision on.
func TestDaemonInitializationBackupsWaitForEtcd(t *testing.T) {
	bin := buildDaemon(t)
	script, binDir := shippedBootstrap(t)
	store := testenv.CopyStore(t, fixture.StoreBRv1)
	before := storeFiles(t, store, false)
	m := newEtcdMember(t, "m0")
	d := startDaemon(t, bin, "--store", "file://"+store, "--endpoints", m.clientURL, "--data-dir", m.dataDir,
		"--name", m.name, "--initial-cluster", m.name+"="+m.peerURL, "--initial-advertise-peer-urls", m.peerURL,
		"--full-schedule", "@every 1s", "--delta-period", "1s", "--leader-check-period", "300ms")
	d.waitLog(t, "HTTP API listening")
	time.Sleep(4 * time.Second) // several full schedules and delta periods with no etcd
	require.Equal(t, before, storeFiles(t, store, false), "a snapshot was written before etcd answered")

	runScript(t, script, binDir, []string{"SIDECAR_URL=" + d.api}, m)
	require.Eventually(t, func() bool { return answers(m.clientURL) }, 60*time.Second, 200*time.Millisecond, "etcd never started")
	cli, err := clientv3.New(clientv3.Config{Endpoints: []string{m.clientURL}, DialTimeout: 5 * time.Second})
	require.NoError(t, err)
	defer cli.Close()
	put, err := cli.Put(context.Background(), "/after-init", "1")
	require.NoError(t, err)
	require.Equal(t, int64(196), put.Header.Revision, "etcd did not start on the restored dir")
	var added []string
	require.Eventually(t, func() bool {
		added = added[:0]
		keys, err := listStore(store, true)
		if err != nil {
			return false
		}
		for _, k := range keys {
			if !slices.Contains(before, k) {
				added = append(added, k)
			}
		}
		return len(added) > 0
	}, 60*time.Second, 200*time.Millisecond, "no backup after etcd started")
	t.Logf("written after etcd answered: %v", added)
	for _, k := range added { // Full-<start>-<end>-<ts> or Incr-...: backups of the restored etcd, not of an empty one
		parts := strings.Split(path.Base(k), "-")
		require.Len(t, parts, 4, k)
		end, err := strconv.ParseInt(parts[2], 10, 64)
		require.NoError(t, err, k)
		require.GreaterOrEqual(t, end, int64(195), "%s is not a backup of the restored etcd", k)
	}
}
