package main

import (
	"bufio"
	"context"
	"encoding/json"
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
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"

	"github.com/etcd-dr/etcd-dr/engine/api"
	"github.com/etcd-dr/etcd-dr/internal/fixture"
	"github.com/etcd-dr/etcd-dr/internal/testenv"
	"github.com/etcd-dr/etcd-dr/internal/testkit/snapshottest"
)

// daemonProc is a running `etcd-dr --daemon`.
type daemonProc struct {
	cmd    *exec.Cmd
	logs   chan string
	api    string
	exited chan struct{}
	err    error // valid once exited is closed
}

// wait waits for the process to end and returns its exit error.
func (d *daemonProc) wait() error {
	<-d.exited
	return d.err
}

// running reports whether the process has not ended yet.
func (d *daemonProc) running() bool {
	select {
	case <-d.exited:
		return false
	default:
		return true
	}
}

func startDaemon(t *testing.T, bin string, args ...string) *daemonProc {
	t.Helper()
	port := testenv.FreePort(t)
	d := &daemonProc{api: fmt.Sprintf("http://127.0.0.1:%d", port), logs: make(chan string, 1000), exited: make(chan struct{})}
	d.cmd = exec.Command(bin, append([]string{"--daemon", "--listen", fmt.Sprintf("127.0.0.1:%d", port), "--log-format", "json"}, args...)...)
	stderr, err := d.cmd.StderrPipe()
	require.NoError(t, err)
	require.NoError(t, d.cmd.Start())
	t.Cleanup(func() { _ = d.cmd.Process.Kill() })
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			if !strings.Contains(sc.Text(), `"level":"INFO"`) {
				t.Log(sc.Text())
			}
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

// busy keeps etcd's revision moving (a put every few milliseconds) until stop is called, so that a full
// snapshot takes its certain path: a plain local copy beside the upload, to read the revision inside.
func busy(ctx context.Context, cli *clientv3.Client) (stop func()) {
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		for i := 0; ; i++ {
			select {
			case <-done:
				return
			case <-time.After(3 * time.Millisecond):
			}
			_, _ = cli.Put(ctx, fmt.Sprintf("/busy/%d", i%20), fmt.Sprint(i))
		}
	}()
	return func() { close(done); <-finished }
}

// waitLog waits for a log line containing s (the test's deadline bounds it).
func (d *daemonProc) waitLog(t *testing.T, s string) {
	t.Helper()
	for line := range d.logs {
		if strings.Contains(line, s) {
			return
		}
	}
	t.Fatalf("daemon exited before logging %q", s)
}

func get(t *testing.T, url, token string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	require.NoError(t, err)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// The daemon trials: kill -9 in the middle of a full snapshot's upload leaves no object visible and the next
// run continues; the API refuses requests without the token (401) and serves them with it; SIGTERM stores a
// final delta and the chain restores to exactly the live etcd.
func TestDaemonTrials(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := filepath.Join(t.TempDir(), "etcd-dr")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	require.NoError(t, err, "go build: %s", out)
	e, cli := testenv.StartEmbedded(t)
	ep := e.Config().AdvertiseClientUrls[0].String()
	ctx := t.Context()
	big := strings.Repeat("v", 64<<10)
	for i := 0; i < 600; i++ { // ~40 MB db: the full snapshot's upload takes a while
		_, err := cli.Put(ctx, fmt.Sprintf("/big/%04d", i), big)
		require.NoError(t, err)
	}
	storeDir := filepath.Join(t.TempDir(), "store")
	url := "file://" + storeDir
	tmp := t.TempDir()
	args := []string{"--endpoints", ep, "--store", url, "--temp-dir", tmp, "--delta-period", "100ms", "--full-schedule", "0 0 1 1 *", "--api-token", "s3cret",
		"--name", "embedded", "--leader-check-period", "200ms"}

	// kill -9 while the first full snapshot streams (etcd kept busy: the snapshot streams with its local copy).
	stopBusy := busy(ctx, cli)
	d := startDaemon(t, bin, args...)
	killed := false
	for !killed {
		require.True(t, d.running(), "the daemon exited before it could be killed")
		matches, _ := filepath.Glob(filepath.Join(tmp, "etcd-dr-full-*.db"))
		for _, m := range matches {
			if fi, err := os.Stat(m); err == nil && fi.Size() > 1<<20 {
				require.NoError(t, d.cmd.Process.Kill())
				killed = true
			}
		}
		time.Sleep(2 * time.Millisecond)
	}
	_ = d.wait()
	stopBusy()
	cat := snapshottest.Catalog(t, url)
	require.Empty(t, cat.Chains, "a killed upload left a visible snapshot")
	require.Empty(t, cat.Problems, "a killed upload left a visible object")

	// The next run continues: a full snapshot (the killed run's plain copy removed first), deltas, the API.
	d = startDaemon(t, bin, args...)
	d.waitLog(t, `"msg":"full snapshot"`)
	left, _ := filepath.Glob(filepath.Join(tmp, "etcd-dr-full-*.db"))
	require.Empty(t, left, "the killed run's plain copy is still there")
	require.NoError(t, fixture.Workload(ctx, cli, "/daemon", 30))
	d.waitLog(t, `"msg":"delta snapshot"`)
	code, _ := get(t, d.api+"/v1/status", "")
	require.Equal(t, http.StatusUnauthorized, code)
	code, _ = get(t, d.api+"/v1/backupnow", "wrong")
	require.Equal(t, http.StatusUnauthorized, code)
	code, _ = get(t, d.api+"/metrics", "")
	require.Equal(t, http.StatusUnauthorized, code)
	code, body := get(t, d.api+"/healthz", "")
	require.Equal(t, http.StatusOK, code, body)
	code, body = get(t, d.api+"/v1/status", "s3cret")
	require.Equal(t, http.StatusOK, code, body)
	require.Contains(t, body, `"role":"Leader"`)
	code, body = get(t, d.api+"/v1/backupnow", "s3cret")
	require.Equal(t, http.StatusOK, code, body)
	var bs api.BackupStatus
	require.NoError(t, json.Unmarshal([]byte(body), &bs))
	require.True(t, strings.HasPrefix(bs.Version, "3.6."), body)
	require.Positive(t, bs.Size)
	code, body = get(t, d.api+"/metrics", "s3cret")
	require.Equal(t, http.StatusOK, code)
	require.Contains(t, body, `etcddr_snapshots_total{kind="full"} 2`)

	require.NoError(t, fixture.Workload(ctx, cli, "/last", 10))
	require.NoError(t, d.cmd.Process.Signal(syscall.SIGTERM))
	require.NoError(t, d.wait(), "SIGTERM must end the daemon cleanly")
	cat = snapshottest.Catalog(t, url)
	newest := cat.Newest()
	rev, err := fixture.Revision(ctx, cli)
	require.NoError(t, err)
	require.Equal(t, rev, newest.EndRevision)
	require.NotEmpty(t, newest.Deltas)
	last := newest.Deltas[len(newest.Deltas)-1]
	require.True(t, last.Final, "last delta %s is not .final", last.Key)
	require.Len(t, cat.Heartbeats, 1, "the backup member's heartbeat")
	require.Equal(t, "members/embedded.json", cat.Heartbeats[0].Key)
	snapshottest.Judge(t, url, 0, cli)
}

// kill -9 in the middle of an upload to an object store — a multipart upload to S3 (versitygw), a resumable
// upload to GCS (fake-gcs-server): nothing becomes visible, and the next run takes the full snapshot again and
// continues.
func TestDaemonKilledMidUpload(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := filepath.Join(t.TempDir(), "etcd-dr")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	require.NoError(t, err, "go build: %s", out)
	for _, backend := range testenv.ObjectStores {
		t.Run(backend, func(t *testing.T) {
			url := testenv.StartBucket(t, backend, "kill").URL("etcd-main")
			daemonKilledMidUpload(t, bin, url)
		})
	}
}

func daemonKilledMidUpload(t *testing.T, bin, url string) {
	e, cli := testenv.StartEmbedded(t)
	ep := e.Config().AdvertiseClientUrls[0].String()
	ctx := t.Context()
	big := strings.Repeat("w", 64<<10)
	for i := 0; i < 600; i++ {
		_, err := cli.Put(ctx, fmt.Sprintf("/big/%04d", i), big)
		require.NoError(t, err)
	}
	tmp := t.TempDir()
	args := []string{"--endpoints", ep, "--store", url, "--temp-dir", tmp, "--compression", "none", "--delta-period", "100ms", "--full-schedule", "0 0 1 1 *",
		"--leader-check-period", "200ms"}
	stopBusy := busy(ctx, cli)
	d := startDaemon(t, bin, args...)
	for killed := false; !killed; time.Sleep(2 * time.Millisecond) {
		require.True(t, d.running(), "the daemon exited before it could be killed")
		matches, _ := filepath.Glob(filepath.Join(tmp, "etcd-dr-full-*.db"))
		for _, m := range matches {
			if fi, err := os.Stat(m); err == nil && fi.Size() > 12<<20 { // past the first 5 MiB parts
				require.NoError(t, d.cmd.Process.Kill())
				killed = true
			}
		}
	}
	_ = d.wait()
	stopBusy()
	cat := snapshottest.Catalog(t, url)
	require.Empty(t, cat.Chains, "a killed upload left a visible snapshot")
	require.Empty(t, cat.Problems, "a killed upload left a visible object")

	d = startDaemon(t, bin, args...)
	d.waitLog(t, `"msg":"full snapshot"`)
	require.NoError(t, fixture.Workload(ctx, cli, "/after-kill", 10))
	require.NoError(t, d.cmd.Process.Signal(syscall.SIGTERM))
	require.NoError(t, d.wait())
	rev, err := fixture.Revision(ctx, cli)
	require.NoError(t, err)
	require.Equal(t, rev, snapshottest.Catalog(t, url).Newest().EndRevision)
	snapshottest.Judge(t, url, 0, cli)
}

// daemonsBesideCluster builds the binary and starts a real 3-member etcd cluster (with some data) and a daemon beside
// each member, all on one file store; heartbeat is the --heartbeat-period.
func daemonsBesideCluster(t *testing.T, heartbeat string) (*testenv.Cluster, string, map[string]*daemonProc) {
	t.Helper()
	bin := buildBinary(t)
	c := testenv.StartCluster(t, testenv.Binary(t, "etcd"), 3)
	require.NoError(t, fixture.Workload(t.Context(), c.Client(t), "/before", 20))
	url := "file://" + filepath.Join(t.TempDir(), "store")
	daemons := map[string]*daemonProc{}
	for _, m := range c.Members {
		daemons[m.Name] = startDaemon(t, bin, "--endpoints", m.ClientURL, "--name", m.Name, "--store", url, "--temp-dir", t.TempDir(),
			"--delta-period", "100ms", "--leader-check-period", "200ms", "--heartbeat-period", heartbeat, "--full-schedule", "0 0 1 1 *")
	}
	return c, url, daemons
}

// Three daemons beside a 3-member etcd cluster: only the one beside the raft leader stores snapshots; when that
// etcd member is killed, the daemon beside the new leader continues the chain from the store's end. The store
// holds chains without gap and without overlap, ending at the live revision, and restores to the live keys.
func TestDaemonLeaderHandover(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary, runs a 3-member cluster")
	}
	c, url, daemons := daemonsBesideCluster(t, "1s")
	leader := c.Leader(t)
	cli := c.Client(t)
	ctx := t.Context()
	daemons[leader.Name].waitLog(t, `"msg":"full snapshot"`)
	require.NoError(t, fixture.Workload(ctx, cli, "/led", 20))
	daemons[leader.Name].waitLog(t, `"msg":"delta snapshot"`)

	leader.Kill()
	var rest []string
	for _, m := range c.Members {
		if m != leader {
			rest = append(rest, m.ClientURL)
		}
	}
	cli2, err := clientv3.New(clientv3.Config{Endpoints: rest, DialTimeout: 5 * time.Second, Logger: zap.NewNop()})
	require.NoError(t, err)
	defer cli2.Close()
	deadline := time.Now().Add(2 * time.Minute)
	for i := 0; ; i++ { // writes succeed once the two left elect a leader
		if _, err := cli2.Put(ctx, fmt.Sprintf("/after/%d", i), "x"); err == nil && i >= 50 {
			break
		}
		require.True(t, time.Now().Before(deadline), "no writes after the leader was killed")
		time.Sleep(10 * time.Millisecond)
	}
	want, err := fixture.Revision(ctx, cli2)
	require.NoError(t, err)
	for {
		cat := snapshottest.Catalog(t, url)
		if n := cat.Newest(); n != nil && n.EndRevision >= want {
			break
		}
		require.True(t, time.Now().Before(deadline), "the new backup leader did not continue the chain to revision %d", want)
		time.Sleep(100 * time.Millisecond)
	}
	for name, d := range daemons {
		if name != leader.Name {
			require.NoError(t, d.cmd.Process.Signal(syscall.SIGTERM))
			require.NoError(t, d.wait(), "daemon %s", name)
		}
	}
	_ = daemons[leader.Name].cmd.Process.Kill()
	cat := snapshottest.Catalog(t, url)
	for _, ch := range cat.Chains {
		require.Empty(t, ch.Gaps, "chain %s", ch.Base.Key)
		require.Empty(t, ch.Notes, "chain %s: overlapping writers", ch.Base.Key)
	}
	rev, err := fixture.Revision(ctx, cli2)
	require.NoError(t, err)
	require.Equal(t, rev, cat.Newest().EndRevision)
	require.Len(t, cat.Heartbeats, 3)
	snapshottest.Judge(t, url, 0, cli2)
}
