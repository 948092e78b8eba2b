package initialization_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/etcd-dr/etcd-dr/engine"
	"github.com/etcd-dr/etcd-dr/engine/initialization"
	"github.com/etcd-dr/etcd-dr/internal/fixture"
	"github.com/etcd-dr/etcd-dr/internal/testenv"
	"github.com/etcd-dr/etcd-dr/internal/testkit/restoretest"
)

type pod struct {
	mgr       *initialization.Manager
	url       string // the sidecar's handshake, on loopback
	clientURL string
	out       *testenv.SyncBuffer
	cmd       *exec.Cmd
}

// startPod runs the sidecar's handshake on a loopback listener and, beside it, testdata/bootstrap.sh (the helm
// chart's loop) which execs the real etcd binary on the data dir once the sidecar says Successful.
func startPod(t *testing.T, storeURL, dataDir string, failBelow int64) *pod {
	t.Helper()
	return startPodWith(t, podConfig{store: storeURL, dataDir: dataDir, failBelow: failBelow})
}

// podConfig is what startPodWith varies.
type podConfig struct {
	store, dataDir string
	failBelow      int64
	mode           string       // the script's ?mode= (default full)
	logger         *slog.Logger // the sidecar's log (default: discard)
}

func startPodWith(t *testing.T, c podConfig) *pod {
	t.Helper()
	storeURL, dataDir, failBelow := c.store, c.dataDir, c.failBelow
	if c.mode == "" {
		c.mode = initialization.ModeFull
	}
	etcd := testenv.Binary(t, "etcd")
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	repo, err := engine.Open(ctx, storeURL, engine.Options{})
	require.NoError(t, err)
	mgr, err := initialization.NewManager(ctx, initialization.Config{Repo: repo, DataDir: dataDir, Logger: c.logger})
	require.NoError(t, err)
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+initialization.StatusPath, mgr.StatusHandler)
	mux.HandleFunc("GET "+initialization.StartPath, mgr.StartHandler)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	p := &pod{mgr: mgr, url: srv.URL, out: &testenv.SyncBuffer{},
		clientURL: fmt.Sprintf("http://127.0.0.1:%d", testenv.FreePort(t))}
	peer := fmt.Sprintf("http://127.0.0.1:%d", testenv.FreePort(t))
	p.cmd = exec.Command("bash", filepath.Join("testdata", "bootstrap.sh"), srv.URL, c.mode, fmt.Sprint(failBelow), etcd,
		"--name", "default", "--data-dir", dataDir, "--listen-client-urls", p.clientURL, "--advertise-client-urls", p.clientURL,
		"--listen-peer-urls", peer, "--initial-advertise-peer-urls", peer, "--initial-cluster", "default="+peer,
		"--unsafe-no-fsync", "--log-level", "error")
	p.cmd.Stdout, p.cmd.Stderr = p.out, p.out
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	require.NoError(t, p.cmd.Start())
	t.Cleanup(func() {
		_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
		_ = p.cmd.Wait()
	})
	return p
}

// client waits for the etcd the script exec'd to answer.
func (p *pod) client(t *testing.T) *clientv3.Client {
	t.Helper()
	cli, err := clientv3.New(clientv3.Config{Endpoints: []string{p.clientURL}, DialTimeout: 5 * time.Second})
	require.NoError(t, err)
	t.Cleanup(func() { cli.Close() })
	require.Eventually(t, func() bool {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		_, err := cli.Get(ctx, "health")
		return err == nil
	}, 60*time.Second, 200*time.Millisecond, "etcd never answered; bootstrap output:\n%s", p.out.String())
	return cli
}

func (p *pod) status(t *testing.T) initialization.Result {
	t.Helper()
	resp, err := http.Get(p.url + initialization.StatusPath + "?format=json")
	require.NoError(t, err)
	defer resp.Body.Close()
	var r initialization.Result
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&r))
	return r
}

// An empty data dir: the script reads New, starts, waits through Progress and execs etcd on Successful; etcd
// serves exactly the chain's state at the store's newest revision.
func TestHandshakeEmptyDataDirRestored(t *testing.T) {
	dataDir := filepath.Join(t.TempDir(), "etcd")
	p := startPod(t, restoretest.StoreURL(t, fixture.StoreBRv1), dataDir, 0)
	cli := p.client(t)
	restoretest.CheckServes(t, cli, 195, restoretest.State(t, fixture.StoreBRv1, 195))
	require.Contains(t, p.out.String(), "status: New")
	require.Contains(t, p.out.String(), "exec etcd")
	r := p.mgr.Status()
	require.Equal(t, initialization.ActionRestored, r.Action)
	require.Equal(t, int64(195), r.Revision)
}

// failbelowrevision above what the store can give: Failed, with the reason in the JSON form, nothing written and
// etcd never started.
func TestHandshakeFailBelowRevision(t *testing.T) {
	dataDir := filepath.Join(t.TempDir(), "etcd")
	p := startPod(t, restoretest.StoreURL(t, fixture.StoreBRv1), dataDir, 100000)
	require.Eventually(t, func() bool { return p.mgr.Status().Reason != "" }, 30*time.Second, 100*time.Millisecond)
	time.Sleep(time.Second) // the script polls again: it must not exec etcd
	r := p.status(t)
	require.Contains(t, r.Reason, "failbelowrevision 100000")
	require.NotContains(t, p.out.String(), "exec etcd")
	require.Contains(t, p.out.String(), "status: Failed")
	_, err := os.Stat(dataDir)
	require.True(t, os.IsNotExist(err), "data dir was written: %v", err)
}

// restoredDir restores the store into a fresh data dir with a first pod, stopped afterwards.
func restoredDir(t *testing.T, storeURL string) string {
	t.Helper()
	dataDir := filepath.Join(t.TempDir(), "etcd")
	p := startPod(t, storeURL, dataDir, 0)
	p.client(t)
	_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
	_ = p.cmd.Wait()
	return dataDir
}

func inode(t *testing.T, path string) uint64 {
	t.Helper()
	st, err := os.Stat(path)
	require.NoError(t, err)
	return st.Sys().(*syscall.Stat_t).Ino
}

// A valid data dir at the store's revision is left alone: same db inode, no dir moved aside, etcd serves it.
func TestHandshakeValidDataDirUntouched(t *testing.T) {
	store := restoretest.StoreURL(t, fixture.StoreBRv1)
	dataDir := restoredDir(t, store)
	db := filepath.Join(dataDir, "member", "snap", "db")
	before := inode(t, db)
	p := startPod(t, store, dataDir, 0)
	cli := p.client(t)
	restoretest.CheckServes(t, cli, 195, restoretest.State(t, fixture.StoreBRv1, 195))
	require.Equal(t, initialization.ActionNone, p.mgr.Status().Action)
	require.Equal(t, before, inode(t, db), "the valid db was replaced")
	broken, _ := filepath.Glob(dataDir + ".broken-*")
	require.Empty(t, broken)
}

// A corrupt db: the dir is moved aside to <dir>.broken-<timestamp> (never deleted) and restored — whether bbolt
// refuses to open it (both meta pages gone) or its data pages are damaged (bbolt's page check then panics in its
// own goroutine: validate runs it in a child process, set up by TestMain as main does).
func TestHandshakeCorruptDBMovedAsideAndRestored(t *testing.T) {
	for _, tc := range []struct {
		name   string
		damage func(b []byte)
	}{
		{"meta pages", func(b []byte) {
			for i := 16; i < 2*4096 && i < len(b); i++ {
				b[i] = 0xee
			}
		}},
		{"data pages", func(b []byte) {
			for pg := 2; pg < len(b)/4096; pg++ {
				b[pg*4096+8] ^= 0xff
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			store := restoretest.StoreURL(t, fixture.StoreBRv1)
			dataDir := restoredDir(t, store)
			db := filepath.Join(dataDir, "member", "snap", "db")
			b, err := os.ReadFile(db)
			require.NoError(t, err)
			tc.damage(b)
			require.NoError(t, os.WriteFile(db, b, 0o600))
			p := startPod(t, store, dataDir, 0)
			cli := p.client(t)
			restoretest.CheckServes(t, cli, 195, restoretest.State(t, fixture.StoreBRv1, 195))
			r := p.mgr.Status()
			require.Equal(t, initialization.ActionRestored, r.Action)
			require.NotEmpty(t, r.MovedAside)
			broken, _ := filepath.Glob(dataDir + ".broken-*")
			require.Len(t, broken, 1)
			kept, err := os.ReadFile(filepath.Join(broken[0], "member", "snap", "db"))
			require.NoError(t, err)
			require.Equal(t, b, kept, "the moved-aside db is not the corrupt one")
		})
	}
}
