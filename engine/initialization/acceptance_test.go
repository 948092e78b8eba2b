package initialization_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"
	bolt "go.etcd.io/bbolt"
	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/etcd-dr/etcd-dr/engine"
	"github.com/etcd-dr/etcd-dr/engine/api"
	"github.com/etcd-dr/etcd-dr/engine/daemon"
	"github.com/etcd-dr/etcd-dr/engine/initialization"
	"github.com/etcd-dr/etcd-dr/engine/snapshot"
	"github.com/etcd-dr/etcd-dr/internal/fixture"
	"github.com/etcd-dr/etcd-dr/internal/testenv"
	"github.com/etcd-dr/etcd-dr/internal/testkit/restoretest"
)

// holdLog is the sidecar's log in these tests: every record as a JSON line in out and, once armed, the run
// stopped at the next record with the hold message until released, so that a test acts while the run is known
// to be in Progress.
type holdLog struct {
	slog.Handler
	*holdState
}

type holdState struct {
	out  *testenv.SyncBuffer
	hold string

	mu      sync.Mutex
	armed   bool
	reached chan struct{}
	release chan struct{}
}

func newHoldLog(hold string) (*slog.Logger, *holdState) {
	s := &holdState{out: &testenv.SyncBuffer{}, hold: hold}
	return slog.New(holdLog{Handler: slog.NewJSONHandler(s.out, &slog.HandlerOptions{Level: slog.LevelDebug}), holdState: s}), s
}

// arm holds the next record with the hold message: reached is closed when the run gets there, and the run goes
// on once release is closed.
func (s *holdState) arm() (reached, release chan struct{}) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.armed, s.reached, s.release = true, make(chan struct{}), make(chan struct{})
	return s.reached, s.release
}

func (h holdLog) Handle(ctx context.Context, r slog.Record) error {
	err := h.Handler.Handle(ctx, r)
	if r.Message != h.hold {
		return err
	}
	h.mu.Lock()
	armed, reached, release := h.armed, h.reached, h.release
	h.armed = false
	h.mu.Unlock()
	if armed {
		close(reached)
		<-release
	}
	return err
}

func (h holdLog) WithAttrs(a []slog.Attr) slog.Handler {
	return holdLog{Handler: h.Handler.WithAttrs(a), holdState: h.holdState}
}

func (h holdLog) WithGroup(n string) slog.Handler {
	return holdLog{Handler: h.Handler.WithGroup(n), holdState: h.holdState}
}

// records are the logged records whose message contains msg.
func (s *holdState) records(t *testing.T, msg string) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(s.out.String()), "\n") {
		if line == "" {
			continue
		}
		var m map[string]any
		require.NoError(t, json.Unmarshal([]byte(line), &m), "log line %q", line)
		if strings.Contains(fmt.Sprint(m["msg"]), msg) {
			out = append(out, m)
		}
	}
	return out
}

// damageWALRecord flips one byte inside the data of the WAL's first member entry (the conf change naming the
// member's peer URLs): every frame stays in place, so only reading the records through their CRCs sees it. It
// returns the damaged file.
func damageWALRecord(t *testing.T, dataDir string) string {
	t.Helper()
	wals, err := filepath.Glob(filepath.Join(dataDir, "member", "wal", "*.wal"))
	require.NoError(t, err)
	require.NotEmpty(t, wals)
	f, err := os.OpenFile(wals[0], os.O_RDWR, 0)
	require.NoError(t, err)
	defer f.Close()
	head := make([]byte, 64<<10)
	n, err := io.ReadFull(f, head)
	if err != io.ErrUnexpectedEOF {
		require.NoError(t, err)
	}
	i := bytes.Index(head[:n], []byte(`"peerURLs"`))
	require.Positive(t, i, "no member entry in the first 64 KiB of %s", wals[0])
	_, err = f.WriteAt([]byte{head[i+1] ^ 0x20}, int64(i+1))
	require.NoError(t, err)
	return wals[0]
}

// damageKeyLeaf gives the first leaf page of the db's "key" bucket an invalid page type. Reading the revision
// (the bucket's last key) never visits that page; bbolt's page check does. It returns the damaged file.
func damageKeyLeaf(t *testing.T, dataDir string) string {
	t.Helper()
	path := filepath.Join(dataDir, "member", "snap", "db")
	db, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true})
	require.NoError(t, err)
	var root uint64
	pageSize := db.Info().PageSize
	require.NoError(t, db.View(func(tx *bolt.Tx) error {
		root = uint64(tx.Bucket([]byte("key")).Root())
		return nil
	}))
	require.NoError(t, db.Close())
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	// bbolt's page header: id u64, flags u16, count u16, overflow u32; then a branch page's elements (pos u32,
	// ksize u32, pgid u64), little-endian on every platform bbolt runs on here.
	pg := b[root*uint64(pageSize):]
	require.Equal(t, uint16(0x01), binary.LittleEndian.Uint16(pg[8:10]), "the key bucket's root is not a branch page: the fixture is too small for this damage")
	require.GreaterOrEqual(t, binary.LittleEndian.Uint16(pg[10:12]), uint16(2))
	first := binary.LittleEndian.Uint64(pg[16+8 : 16+16])
	require.NotEqual(t, root, first)
	binary.LittleEndian.PutUint16(b[first*uint64(pageSize)+8:], 0x00)
	require.NoError(t, os.WriteFile(path, b, 0o600))
	return path
}

// mode=quick checks the layout and opens the db; mode=full also reads the WAL through its CRCs and runs bbolt's
// page check. A data dir with such damage (a WAL record's CRC, a bbolt page the revision read never visits)
// passes quick, left untouched, and fails full: moved aside, never deleted, and restored, so that the real etcd
// the bootstrap script execs serves exactly the chain's state.
func TestModeQuickMissesDamageFullRestores(t *testing.T) {
	for _, tc := range []struct {
		name   string
		damage func(t *testing.T, dataDir string) string
	}{
		{"WAL record CRC", damageWALRecord},
		{"bbolt leaf page", damageKeyLeaf},
	} {
		t.Run(tc.name, func(t *testing.T) {
			store := restoretest.StoreURL(t, fixture.StoreBRv1)
			dataDir := restoredDir(t, store)
			db := filepath.Join(dataDir, "member", "snap", "db")
			damagedPath := tc.damage(t, dataDir)
			damaged, err := os.ReadFile(damagedPath)
			require.NoError(t, err)
			dbInode := inode(t, db)

			// quick: valid, nothing changed (no etcd is started on it: the damage is real).
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			repo, err := engine.Open(ctx, store, engine.Options{})
			require.NoError(t, err)
			quick, err := initialization.NewManager(ctx, initialization.Config{Repo: repo, DataDir: dataDir})
			require.NoError(t, err)
			require.True(t, quick.Start(initialization.Request{Mode: initialization.ModeQuick}))
			quick.Wait()
			r := quick.Status()
			require.Equal(t, initialization.Successful, r.State, "quick run: %+v", r)
			require.Equal(t, initialization.ActionNone, r.Action)
			require.Equal(t, initialization.ModeQuick, r.Mode)
			require.Equal(t, int64(195), r.Revision)
			require.Equal(t, dbInode, inode(t, db), "quick mode replaced the db")
			broken, _ := filepath.Glob(dataDir + ".broken-*")
			require.Empty(t, broken, "quick mode moved the data dir aside")

			// full, through the bootstrap script: the damage is found, the dir moved aside and restored.
			p := startPodWith(t, podConfig{store: store, dataDir: dataDir, mode: initialization.ModeFull})
			cli := p.client(t)
			restoretest.CheckServes(t, cli, 195, restoretest.State(t, fixture.StoreBRv1, 195))
			r = p.mgr.Status()
			require.Equal(t, initialization.ActionRestored, r.Action, "full run: %+v", r)
			require.Equal(t, initialization.ModeFull, r.Mode)
			broken, _ = filepath.Glob(dataDir + ".broken-*")
			require.Len(t, broken, 1)
			require.Equal(t, broken[0], r.MovedAside)
			rel, err := filepath.Rel(dataDir, damagedPath)
			require.NoError(t, err)
			kept, err := os.ReadFile(filepath.Join(broken[0], rel))
			require.NoError(t, err)
			require.True(t, bytes.Equal(damaged, kept), "the moved-aside %s is not the damaged one", rel)
		})
	}
}

// A second /initialization/start while a run is in progress is a no-op: however many arrive (here 8 at once),
// there is one run and one restore, and the status goes Progress -> Successful once.
func TestSecondStartWhileRunningIsNoOp(t *testing.T) {
	store := restoretest.StoreURL(t, fixture.StoreBRv1)
	dataDir := filepath.Join(t.TempDir(), "etcd")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	repo, err := engine.Open(ctx, store, engine.Options{})
	require.NoError(t, err)
	log, held := newHoldLog("initialization started")
	reg := prometheus.NewRegistry()
	mgr, err := initialization.NewManager(ctx, initialization.Config{Repo: repo, DataDir: dataDir, Logger: log,
		Metrics: initialization.NewMetrics(reg)})
	require.NoError(t, err)
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+initialization.StatusPath, mgr.StatusHandler)
	mux.HandleFunc("GET "+initialization.StartPath, mgr.StartHandler)
	srv := httptest.NewServer(mux)
	defer srv.Close()
	reached, release := held.arm()
	get := func(path string) string {
		resp, err := http.Get(srv.URL + path)
		require.NoError(t, err)
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		require.Equal(t, http.StatusOK, resp.StatusCode, "%s: %s", path, b)
		return strings.TrimSpace(string(b))
	}

	require.Equal(t, initialization.New, get(initialization.StatusPath))
	require.Equal(t, "initialization started", get(initialization.StartPath+"?mode=full"))
	<-reached // the run is in progress, held before it validates anything
	var wg sync.WaitGroup
	answers := make([]string, 8)
	for i := range answers {
		wg.Add(1)
		go func() { defer wg.Done(); answers[i] = get(initialization.StartPath + "?mode=quick") }()
	}
	wg.Wait()
	for _, a := range answers {
		require.Equal(t, "initialization already in progress", a)
	}
	require.Equal(t, initialization.Progress, get(initialization.StatusPath))
	close(release)

	// Poll as the script does: Progress until the run ends, then Successful once, then New.
	var seen []string
	require.Eventually(t, func() bool {
		resp, err := http.Get(srv.URL + initialization.StatusPath)
		if err != nil {
			return false
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		s := string(b)
		if len(seen) == 0 || seen[len(seen)-1] != s {
			seen = append(seen, s)
		}
		return s == initialization.New
	}, 60*time.Second, 20*time.Millisecond)
	require.Equal(t, []string{initialization.Progress, initialization.Successful, initialization.New}, seen)

	require.Len(t, held.records(t, "initialization started"), 1, "log:\n%s", held.out.String())
	require.Len(t, held.records(t, "data dir restored"), 1, "log:\n%s", held.out.String())
	require.Equal(t, 1.0, counterSum(t, reg, "etcddr_initialization_runs_total"))
	r := mgr.Status()
	require.Equal(t, initialization.ActionRestored, r.Action)
	require.Equal(t, initialization.ModeFull, r.Mode, "a no-op start changed the running run's mode")
	require.Equal(t, int64(195), r.Revision)
	entries, err := os.ReadDir(filepath.Dir(dataDir))
	require.NoError(t, err)
	require.Len(t, entries, 1, "one restore writes one data dir and nothing beside it: %v", entries)
}

// counterSum sums the series of counter name in reg.
func counterSum(t *testing.T, reg *prometheus.Registry, name string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	require.NoError(t, err)
	var sum float64
	for _, mf := range mfs {
		if mf.GetName() == name {
			for _, m := range mf.GetMetric() {
				sum += m.GetCounter().GetValue()
			}
		}
	}
	return sum
}

// sidecarHealthz serves the daemon's API for mgr, with the daemon as it is before its etcd answers (built, its
// backups not started), and returns a GET /healthz that decodes the answer.
func sidecarHealthz(t *testing.T, repo *engine.Repo, mgr *initialization.Manager) func() map[string]any {
	t.Helper()
	cli, err := clientv3.New(clientv3.Config{Endpoints: []string{fmt.Sprintf("127.0.0.1:%d", testenv.FreePort(t))}})
	require.NoError(t, err)
	t.Cleanup(func() { cli.Close() })
	d, err := daemon.New(daemon.Config{Snapshot: snapshot.Config{Client: cli, Store: repo.Store()}})
	require.NoError(t, err)
	srv := httptest.NewServer(api.Handler(api.Config{Backend: d, Repo: repo, Init: mgr}))
	t.Cleanup(srv.Close)
	return func() map[string]any {
		resp, err := http.Get(srv.URL + "/healthz")
		require.NoError(t, err)
		defer resp.Body.Close()
		require.Equal(t, http.StatusOK, resp.StatusCode)
		var m map[string]any
		require.NoError(t, json.NewDecoder(resp.Body).Decode(&m))
		return m
	}
}

// A sidecar restarted beside a running etcd (its container alone restarted) is not initializing: that etcd's
// bootstrap will not call it again, so /healthz must not say "initializing" for good. Once that etcd stops, the
// next etcd start waits for the sidecar again, and /healthz says so.
func TestHealthzSidecarRestartedBesideRunningEtcd(t *testing.T) {
	store := restoretest.StoreURL(t, fixture.StoreBRv1)
	dataDir := filepath.Join(t.TempDir(), "etcd")
	p := startPod(t, store, dataDir, 0)
	p.client(t)

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	repo, err := engine.Open(ctx, store, engine.Options{})
	require.NoError(t, err)
	restarted, err := initialization.NewManager(ctx, initialization.Config{Repo: repo, DataDir: dataDir})
	require.NoError(t, err)
	healthz := sidecarHealthz(t, repo, restarted)
	h := healthz()
	require.NotEqual(t, "initializing", h["status"], "a sidecar beside a running etcd: %v", h)

	_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
	_ = p.cmd.Wait()
	h = healthz()
	require.Equal(t, "initializing", h["status"], "etcd stopped: its next start waits for the sidecar: %v", h)
	require.Equal(t, initialization.New, h["initialization"])
}

// /healthz says "initializing" (200, so a liveness probe does not restart a long restore) while a run is in
// Progress: the first one, and also a later one (etcd's container restarted) after a run has succeeded.
func TestHealthzInitializingDuringProgress(t *testing.T) {
	store := restoretest.StoreURL(t, fixture.StoreBRv1)
	dataDir := filepath.Join(t.TempDir(), "etcd")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	repo, err := engine.Open(ctx, store, engine.Options{})
	require.NoError(t, err)
	log, held := newHoldLog("initialization started")
	mgr, err := initialization.NewManager(ctx, initialization.Config{Repo: repo, DataDir: dataDir, Logger: log})
	require.NoError(t, err)
	healthz := sidecarHealthz(t, repo, mgr)

	for i, want := range []string{initialization.ActionRestored, initialization.ActionNone} {
		// The first run restores the missing dir; the second (etcd's container restarted) finds it valid.
		reached, release := held.arm()
		require.True(t, mgr.Start(initialization.Request{}))
		<-reached
		h := healthz()
		require.Equal(t, "initializing", h["status"], "run %d: %v", i+1, h)
		require.Equal(t, initialization.Progress, h["initialization"], "run %d: %v", i+1, h)
		close(release)
		mgr.Wait()
		r := mgr.Status()
		require.Equal(t, initialization.Successful, r.State, "run %d: %+v", i+1, r)
		require.Equal(t, want, r.Action, "run %d", i+1)
		h = healthz()
		require.NotEqual(t, "initializing", h["status"], "run %d over: %v", i+1, h)
		require.Equal(t, initialization.Successful, mgr.State()) // as the script reads it: back to New
	}
}

// olderDir restores a copy of StoreBRv1 without its newer chain (up to revision 164) into a data dir with a first
// pod: a valid dir, older than the whole store.
func olderDir(t *testing.T) string {
	t.Helper()
	older := testenv.CopyStore(t, fixture.StoreBRv1)
	require.NoError(t, os.RemoveAll(filepath.Join(older, "v1", "Backup-1763900840")))
	dataDir := restoredDir(t, "file://"+older)
	return dataDir
}

// A valid data dir older than the store's newest backup is restored the same way as an invalid one: moved aside
// (kept whole), restored to the store's newest revision, and the log says so loudly with both revisions.
func TestOlderDataDirMovedAsideAndRestored(t *testing.T) {
	dataDir := olderDir(t)
	oldDB, err := os.ReadFile(filepath.Join(dataDir, "member", "snap", "db"))
	require.NoError(t, err)
	log, held := newHoldLog("")
	p := startPodWith(t, podConfig{store: restoretest.StoreURL(t, fixture.StoreBRv1), dataDir: dataDir, logger: log})
	cli := p.client(t)
	restoretest.CheckServes(t, cli, 195, restoretest.State(t, fixture.StoreBRv1, 195))
	r := p.mgr.Status()
	require.Equal(t, initialization.ActionRestored, r.Action, "%+v", r)
	require.Equal(t, int64(195), r.Revision)
	broken, _ := filepath.Glob(dataDir + ".broken-*")
	require.Len(t, broken, 1)
	require.Equal(t, broken[0], r.MovedAside)
	kept, err := os.ReadFile(filepath.Join(broken[0], "member", "snap", "db"))
	require.NoError(t, err)
	require.True(t, bytes.Equal(oldDB, kept), "the moved-aside db is not the older one")

	loud := held.records(t, "OLDER THAN THE STORE")
	require.Len(t, loud, 1, "log:\n%s", held.out.String())
	require.Equal(t, "WARN", loud[0]["level"])
	require.EqualValues(t, 164, loud[0]["dataDirRevision"], "%v", loud[0])
	require.EqualValues(t, 195, loud[0]["storeRevision"], "%v", loud[0])
	done := held.records(t, "data dir restored")
	require.Len(t, done, 1)
	require.EqualValues(t, 195, done[0]["revision"])
	require.Equal(t, r.MovedAside, done[0]["movedAside"])
}

// An empty store and no data dir: Successful without a restore, a fresh member — the real etcd the script
// execs starts empty — and the log says so.
func TestEmptyStoreFreshMember(t *testing.T) {
	empty := t.TempDir()
	dataDir := filepath.Join(t.TempDir(), "etcd")
	log, held := newHoldLog("")
	p := startPodWith(t, podConfig{store: "file://" + empty, dataDir: dataDir, logger: log})
	cli := p.client(t)
	resp, err := cli.Get(context.Background(), "", clientv3.WithPrefix())
	require.NoError(t, err)
	require.Zero(t, resp.Count, "a fresh member serves no keys: %v", resp.Kvs)
	require.Equal(t, int64(1), resp.Header.Revision, "a fresh member starts at revision 1")
	r := p.mgr.Status()
	require.Equal(t, initialization.ActionFresh, r.Action, "%+v", r)
	require.Zero(t, r.Revision)
	require.Len(t, held.records(t, "etcd starts as a fresh member"), 1, "log:\n%s", held.out.String())
	entries, err := os.ReadDir(empty)
	require.NoError(t, err)
	require.Empty(t, entries, "the sidecar wrote to the empty store")
	broken, _ := filepath.Glob(dataDir + ".broken-*")
	require.Empty(t, broken)
}
