// Package testenv starts the real parts the tests run against: etcd (in-process
// through the embed package, or real binaries built by "make tools" at pinned
// versions) and an S3 server (versitygw). Everything listens on 127.0.0.1 on
// free ports, keeps its data in t.TempDir(), and is stopped by t.Cleanup.
//
// Tools are looked up in ToolsDir. A test that needs a missing tool is skipped
// with a hint to run "make tools", or fails when CI=true.
package testenv

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// ModulePath is the main module's path; ToolsDir looks for its go.mod.
const ModulePath = "github.com/etcd-dr/etcd-dr"

// ToolsDir is where "make tools" puts the pinned binaries: $ETCD_DR_TOOLS if
// set, else <repo root>/.tools/bin, the repo root being the nearest directory
// above the working directory whose go.mod declares ModulePath (or, failing
// that, the nearest with any go.mod).
func ToolsDir() string {
	if d := os.Getenv("ETCD_DR_TOOLS"); d != "" {
		return d
	}
	return filepath.Join(RepoRoot(), ".tools", "bin")
}

// RepoRoot is the root of the etcd-dr checkout containing the working
// directory; "" if none is found.
func RepoRoot() string {
	wd, err := os.Getwd()
	if err != nil {
		return ""
	}
	first := ""
	for dir := wd; ; dir = filepath.Dir(dir) {
		if data, err := os.ReadFile(filepath.Join(dir, "go.mod")); err == nil {
			if first == "" {
				first = dir
			}
			if modulePath(data) == ModulePath {
				return dir
			}
		}
		if parent := filepath.Dir(dir); parent == dir {
			return first
		}
	}
}

func modulePath(gomod []byte) string {
	sc := bufio.NewScanner(bytes.NewReader(gomod))
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(strings.TrimSpace(sc.Text()), "module"); ok {
			return strings.Trim(strings.TrimSpace(rest), `"`)
		}
	}
	return ""
}

// Binary returns the path of the tool name (etcd, etcd-3.5, etcd-3.7,
// etcdctl, etcdutl, versitygw, etcdbrctl) in ToolsDir. If it is missing the test fails
// when CI=true and is skipped otherwise.
func Binary(t testing.TB, name string) string {
	t.Helper()
	p := filepath.Join(ToolsDir(), name)
	if st, err := os.Stat(p); err == nil && !st.IsDir() {
		return p
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("tool %s not found at %s: run make tools (or set ETCD_DR_TOOLS)", name, p)
	}
	t.Skipf("tool %s not found at %s: run make tools (or set ETCD_DR_TOOLS)", name, p)
	return ""
}

// FreePort returns a TCP port on 127.0.0.1 that was free a moment ago and that
// no earlier call in this process returned: the kernel may hand a just-closed
// port out again at once, which put an etcd's client and peer URL on one port.
// Another process may still take it before it is used; the starters retry on a
// bind clash.
func FreePort(t testing.TB) int {
	t.Helper()
	handedOut.mu.Lock()
	defer handedOut.mu.Unlock()
	for {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatalf("find a free port: %v", err)
		}
		port := l.Addr().(*net.TCPAddr).Port
		l.Close()
		if !handedOut.ports[port] {
			handedOut.ports[port] = true
			return port
		}
	}
}

// handedOut are the ports FreePort returned in this process.
var handedOut = struct {
	mu    sync.Mutex
	ports map[int]bool
}{ports: map[int]bool{}}

// Etcdctl runs the pinned etcdctl (3.6) with args and returns its standard
// output; the test fails if it exits non-zero.
func Etcdctl(t testing.TB, args ...string) []byte {
	t.Helper()
	return runTool(t, "etcdctl", nil, args...)
}

// Etcdutl runs the pinned etcdutl (3.6) with args and returns its standard
// output; the test fails if it exits non-zero.
func Etcdutl(t testing.TB, args ...string) []byte {
	t.Helper()
	return runTool(t, "etcdutl", nil, args...)
}

// Etcdbrctl runs the pinned etcdbrctl (gardener's etcd-backup-restore) with
// args and env (NAME=value, on top of the test's environment) and returns its
// standard output; the test fails if it exits non-zero.
func Etcdbrctl(t testing.TB, env []string, args ...string) []byte {
	t.Helper()
	return runTool(t, "etcdbrctl", env, args...)
}

func runTool(t testing.TB, name string, env []string, args ...string) []byte {
	t.Helper()
	bin := Binary(t, name)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = append(append(os.Environ(), "ETCDCTL_API=3"), env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s %s: %v\nstdout:\n%s\nstderr:\n%s", name, strings.Join(args, " "), err, stdout.Bytes(), stderr.Bytes())
	}
	return stdout.Bytes()
}

// Process is a long-running tool started by StartTool (etcdbrctl snapshot,
// say), its output in a log file.
type Process struct{ p *proc }

// StartTool starts the pinned tool name with args and env (NAME=value, on top
// of the test's environment). It is killed at cleanup, and its log shown if the
// test failed.
func StartTool(t testing.TB, name string, env []string, args ...string) *Process {
	t.Helper()
	bin := Binary(t, name)
	p, err := startProc(bin, args, env, filepath.Join(t.TempDir(), name+".log"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("log of %s (%s):\n%s", name, p.log, logTail(p.log, 30))
		}
		p.stop(os.Kill, 0)
	})
	return &Process{p: p}
}

// Stop asks the process to end (SIGTERM) and waits for it, killing it after grace.
func (p *Process) Stop(grace time.Duration) { p.p.stop(syscall.SIGTERM, grace) }

// proc is a child process whose output goes to a log file.
type proc struct {
	cmd  *exec.Cmd
	log  string
	done chan struct{}
	err  error // exit status, valid once done is closed
}

func startProc(bin string, args, env []string, logPath string) (*proc, error) {
	f, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(f, "=== %s %s\n", time.Now().Format(time.RFC3339Nano), strings.Join(append([]string{bin}, args...), " "))
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdout, cmd.Stderr = f, f
	setDeathSignal(cmd)
	if err := cmd.Start(); err != nil {
		f.Close()
		return nil, fmt.Errorf("start %s: %w", bin, err)
	}
	p := &proc{cmd: cmd, log: logPath, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		f.Close()
		close(p.done)
	}()
	return p, nil
}

func (p *proc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// kill sends sig (SIGKILL if the process has not exited after grace) and waits.
func (p *proc) stop(sig os.Signal, grace time.Duration) {
	if p == nil || p.exited() {
		return
	}
	_ = p.cmd.Process.Signal(sig)
	select {
	case <-p.done:
		return
	case <-time.After(grace):
	}
	_ = p.cmd.Process.Kill()
	<-p.done
}

// logTail returns the last n lines of a log file, for failure messages.
func logTail(path string, n int) string {
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Sprintf("(no log: %v)", err)
	}
	lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// isBindClash tells whether a log shows that a port was taken under us.
func isBindClash(log string) bool {
	return strings.Contains(log, "address already in use")
}
