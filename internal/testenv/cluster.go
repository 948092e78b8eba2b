package testenv

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
)

// Member is one etcd process started from a real binary.
type Member struct {
	Name      string
	ClientURL string // http://127.0.0.1:PORT
	PeerURL   string // http://127.0.0.1:PORT
	DataDir   string
	LogPath   string
	Binary    string
	// Args are the flags the member is (re)started with.
	Args []string
	// Cmd is the running (or last) process.
	Cmd *exec.Cmd

	id uint64 // raft member ID, see ID

	mu   sync.Mutex
	proc *proc
}

// Cluster is a set of etcd members on 127.0.0.1.
type Cluster struct {
	Members []*Member
	Token   string // --initial-cluster-token
}

// StartCluster starts an n-member cluster of the etcd binary (a path, e.g.
// Binary(t, "etcd-3.5")) and waits until every member sees the same leader and
// a quorum read succeeds. Members are killed at cleanup.
func StartCluster(t testing.TB, binary string, n int) *Cluster {
	t.Helper()
	var err error
	for attempt := 0; attempt < 3; attempt++ {
		c := NewCluster(t, n)
		if err = c.start(t, binary); err == nil {
			return c
		}
		c.KillAll()
		if !strings.Contains(err.Error(), "address already in use") {
			break
		}
	}
	t.Fatalf("start %d-member cluster of %s: %v", n, binary, err)
	return nil
}

// NewCluster plans an n-member cluster without starting it: names m0..m<n-1>,
// free ports, data dirs in a t.TempDir(). Use it to restore data dirs for the
// planned members (InitialCluster, Token, each member's Name, PeerURL and
// DataDir) and then Start them.
func NewCluster(t testing.TB, n int) *Cluster {
	t.Helper()
	dir := t.TempDir()
	c := &Cluster{Token: fmt.Sprintf("etcd-dr-test-%d", time.Now().UnixNano())}
	for i := 0; i < n; i++ {
		name := fmt.Sprintf("m%d", i)
		c.Members = append(c.Members, &Member{
			Name:      name,
			ClientURL: fmt.Sprintf("http://127.0.0.1:%d", FreePort(t)),
			PeerURL:   fmt.Sprintf("http://127.0.0.1:%d", FreePort(t)),
			DataDir:   filepath.Join(dir, name+".etcd"),
			LogPath:   filepath.Join(dir, name+".log"),
		})
	}
	t.Cleanup(func() {
		if t.Failed() {
			for _, m := range c.Members {
				t.Logf("log of etcd member %s (%s):\n%s", m.Name, m.LogPath, logTail(m.LogPath, 20))
			}
		}
		c.KillAll()
	})
	return c
}

// InitialCluster is the --initial-cluster value: m0=http://...,m1=http://...
func (c *Cluster) InitialCluster() string {
	parts := make([]string, len(c.Members))
	for i, m := range c.Members {
		parts[i] = m.Name + "=" + m.PeerURL
	}
	return strings.Join(parts, ",")
}

// Start starts every member of a planned cluster with the etcd binary and
// waits until the cluster is healthy. Members whose data dirs already exist
// (restored) start from them; etcd then ignores the --initial-* flags.
func (c *Cluster) Start(t testing.TB, binary string) {
	t.Helper()
	if err := c.start(t, binary); err != nil {
		t.Fatalf("start cluster: %v", err)
	}
}

func (c *Cluster) start(t testing.TB, binary string) error {
	for _, m := range c.Members {
		m.Binary = binary
		m.Args = []string{
			"--name", m.Name,
			"--data-dir", m.DataDir,
			"--listen-client-urls", m.ClientURL,
			"--advertise-client-urls", m.ClientURL,
			"--listen-peer-urls", m.PeerURL,
			"--initial-advertise-peer-urls", m.PeerURL,
			"--initial-cluster", c.InitialCluster(),
			"--initial-cluster-token", c.Token,
			"--initial-cluster-state", "new",
			"--unsafe-no-fsync",
			"--log-level", "error",
		}
		if err := m.start(); err != nil {
			return err
		}
	}
	return c.waitHealthy(t, 90*time.Second)
}

// Endpoints are the members' client URLs.
func (c *Cluster) Endpoints() []string {
	eps := make([]string, len(c.Members))
	for i, m := range c.Members {
		eps[i] = m.ClientURL
	}
	return eps
}

// Client returns a client for all members, closed at cleanup.
func (c *Cluster) Client(t testing.TB) *clientv3.Client {
	t.Helper()
	return newClient(t, c.Endpoints())
}

// WaitHealthy waits until every running member reports the same leader and a
// quorum read through them succeeds.
func (c *Cluster) WaitHealthy(t testing.TB) {
	t.Helper()
	if err := c.waitHealthy(t, 90*time.Second); err != nil {
		t.Fatal(err)
	}
}

// Leader returns the member that is leader now, waiting for one if needed.
func (c *Cluster) Leader(t testing.TB) *Member {
	t.Helper()
	if err := c.waitHealthy(t, 90*time.Second); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		for _, m := range c.Members {
			if !m.Running() {
				continue
			}
			st, err := m.status(t)
			if err == nil && st.Leader != 0 && st.Leader == st.Header.MemberId {
				return m
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatal("no leader after 30s")
	return nil
}

// KillAll kills every member (SIGKILL).
func (c *Cluster) KillAll() {
	for _, m := range c.Members {
		m.Kill()
	}
}

func (c *Cluster) waitHealthy(t testing.TB, timeout time.Duration) error {
	var running []*Member
	for _, m := range c.Members {
		if m.Running() {
			running = append(running, m)
		}
	}
	if len(running) == 0 {
		return fmt.Errorf("no member running")
	}
	deadline := time.Now().Add(timeout)
	var last error
	for {
		last = healthy(t, running)
		if last == nil {
			return nil
		}
		for _, m := range running {
			if !m.Running() {
				return fmt.Errorf("etcd member %s exited: %v\n%s", m.Name, m.proc.err, logTail(m.LogPath, 20))
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("cluster not healthy after %v: %v", timeout, last)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// healthy checks that all members agree on a leader and serve a quorum read.
func healthy(t testing.TB, members []*Member) error {
	var leader uint64
	ids := map[uint64]bool{}
	eps := make([]string, 0, len(members))
	for _, m := range members {
		st, err := m.status(t)
		if err != nil {
			return fmt.Errorf("member %s: %w", m.Name, err)
		}
		if st.Leader == 0 {
			return fmt.Errorf("member %s has no leader", m.Name)
		}
		if leader != 0 && st.Leader != leader {
			return fmt.Errorf("members disagree on the leader")
		}
		leader = st.Leader
		m.setID(st.Header.MemberId)
		ids[st.Header.MemberId] = true
		eps = append(eps, m.ClientURL)
	}
	// Followers keep naming a killed leader until their election timeout.
	if !ids[leader] {
		return fmt.Errorf("leader %x is not a running member", leader)
	}
	cli, err := clientv3.New(clientv3.Config{Endpoints: eps, DialTimeout: 2 * time.Second, Logger: quietLogger})
	if err != nil {
		return err
	}
	defer cli.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	_, err = cli.Get(ctx, "health")
	return err
}

func (m *Member) status(t testing.TB) (*clientv3.StatusResponse, error) {
	cli, err := clientv3.New(clientv3.Config{Endpoints: []string{m.ClientURL}, DialTimeout: 2 * time.Second, Logger: quietLogger})
	if err != nil {
		return nil, err
	}
	defer cli.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	return cli.Status(ctx, m.ClientURL)
}

func (m *Member) start() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.proc != nil && !m.proc.exited() {
		return fmt.Errorf("etcd member %s already running", m.Name)
	}
	p, err := startProc(m.Binary, m.Args, nil, m.LogPath)
	if err != nil {
		return err
	}
	m.proc, m.Cmd = p, p.cmd
	return nil
}

func (m *Member) setID(id uint64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.id = id
}

// ID is the member's raft ID (as in "etcdctl member list"), 0 until the
// member has answered a status request (it has once its start returned).
func (m *Member) ID() uint64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.id
}

// Running tells whether the member's process is up.
func (m *Member) Running() bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.proc != nil && !m.proc.exited()
}

// Kill kills the member with SIGKILL and waits for it to exit.
func (m *Member) Kill() {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.proc.stop(os.Kill, 0)
}

// Stop stops the member with SIGTERM (SIGKILL after 10s) and waits.
func (m *Member) Stop() {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.proc.stop(syscall.SIGTERM, 10*time.Second)
}

// Restart kills the member if it runs, starts it again with the same flags
// and data dir, and waits until it sees a leader.
func (m *Member) Restart(t testing.TB) {
	t.Helper()
	m.Kill()
	if err := m.start(); err != nil {
		t.Fatalf("restart etcd member %s: %v", m.Name, err)
	}
	m.WaitReady(t)
}

// WaitReady waits until the member answers and sees a leader.
func (m *Member) WaitReady(t testing.TB) {
	t.Helper()
	if err := m.waitReady(t, 90*time.Second); err != nil {
		t.Fatal(err)
	}
}

func (m *Member) waitReady(t testing.TB, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		st, err := m.status(t)
		if err == nil && st.Leader != 0 {
			m.setID(st.Header.MemberId)
			return nil
		}
		if !m.Running() {
			return fmt.Errorf("etcd member %s exited: %v\n%s", m.Name, m.proc.err, logTail(m.LogPath, 20))
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("etcd member %s not ready after %v (status: %v)\n%s", m.Name, timeout, err, logTail(m.LogPath, 20))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// Client returns a client for this member only, closed at cleanup.
func (m *Member) Client(t testing.TB) *clientv3.Client {
	t.Helper()
	return newClient(t, []string{m.ClientURL})
}

// LogTail returns the end of the member's log, for failure messages.
func (m *Member) LogTail() string { return logTail(m.LogPath, 30) }

// StartEtcdOnDataDir starts one etcd member of binary on an existing data dir
// (e.g. a restored one) on free ports and waits until it serves. Its
// --initial-cluster is name=<its peer URL>; extraArgs are added last and
// override earlier flags. The member is killed at cleanup. For a restored
// multi-member cluster, plan it with NewCluster and Start it instead.
func StartEtcdOnDataDir(t testing.TB, binary, dataDir, name string, extraArgs ...string) *Member {
	t.Helper()
	logDir := t.TempDir()
	m := &Member{Name: name, DataDir: dataDir, LogPath: filepath.Join(logDir, name+".log"), Binary: binary}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("log of etcd member %s (%s):\n%s", m.Name, m.LogPath, logTail(m.LogPath, 20))
		}
		m.Kill()
	})
	var err error
	for attempt := 0; attempt < 3; attempt++ {
		m.ClientURL = fmt.Sprintf("http://127.0.0.1:%d", FreePort(t))
		m.PeerURL = fmt.Sprintf("http://127.0.0.1:%d", FreePort(t))
		m.Args = append([]string{
			"--name", m.Name,
			"--data-dir", m.DataDir,
			"--listen-client-urls", m.ClientURL,
			"--advertise-client-urls", m.ClientURL,
			"--listen-peer-urls", m.PeerURL,
			"--initial-advertise-peer-urls", m.PeerURL,
			"--initial-cluster", m.Name + "=" + m.PeerURL,
			"--unsafe-no-fsync",
			"--log-level", "error",
		}, extraArgs...)
		if err = m.start(); err != nil {
			t.Fatalf("start etcd on %s: %v", dataDir, err)
		}
		if err = m.waitReady(t, 90*time.Second); err == nil {
			return m
		}
		m.Kill()
		if !isBindClash(logTail(m.LogPath, 20)) {
			break
		} // else another process took a port under us: try others
	}
	t.Fatalf("start etcd on %s: %v", dataDir, err)
	return nil
}
