package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/x/ansi"

	"github.com/etcd-dr/etcd-dr/engine/restore"
	"github.com/etcd-dr/etcd-dr/internal/testenv"
	"github.com/etcd-dr/etcd-dr/internal/testkit/restoretest"
)

// tmuxTerm is the real binary running in a detached tmux pane of a fixed size, on a tmux server of its own.
type tmuxTerm struct {
	t      *testing.T
	socket string
}

func startTmux(t *testing.T, w, h int, env []string, argv ...string) *tmuxTerm {
	t.Helper()
	if _, err := exec.LookPath("tmux"); err != nil {
		t.Skip("tmux not installed (make sysdeps)")
	}
	tm := &tmuxTerm{t: t, socket: fmt.Sprintf("etcd-dr-e2e-%d", os.Getpid())}
	args := []string{"-L", tm.socket, "-f", "/dev/null", "new-session", "-d", "-s", "e2e", "-x", fmt.Sprint(w), "-y", fmt.Sprint(h)}
	for _, e := range env {
		args = append(args, "-e", e)
	}
	args = append(args, strings.Join(argv, " "))
	if out, err := exec.Command("tmux", args...).CombinedOutput(); err != nil {
		t.Fatalf("tmux: %v: %s", err, out)
	}
	// remain-on-exit keeps the pane after the binary exits, so the test can see how it ended.
	_ = exec.Command("tmux", "-L", tm.socket, "set-option", "-t", "e2e", "remain-on-exit", "on").Run()
	t.Cleanup(func() { _ = exec.Command("tmux", "-L", tm.socket, "kill-server").Run() })
	return tm
}

// screen is the pane's text; with colors it keeps the escape sequences (capture-pane -e).
func (tm *tmuxTerm) screen(colors bool) string {
	args := []string{"-L", tm.socket, "capture-pane", "-p", "-t", "e2e"}
	if colors {
		args = append(args, "-e")
	}
	out, err := exec.Command("tmux", args...).Output()
	if err != nil {
		tm.t.Fatalf("capture-pane: %v", err)
	}
	return string(out)
}

func (tm *tmuxTerm) waitFor(timeout time.Duration, parts ...string) string {
	tm.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		s := tm.screen(false)
		ok := true
		for _, p := range parts {
			ok = ok && strings.Contains(s, p)
		}
		if ok {
			return s
		}
		if time.Now().After(deadline) {
			tm.t.Fatalf("the screen never showed %q:\n%s", parts, s)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// keys sends tmux key names (Enter, Escape, Down, G, ...); text sends literal text.
func (tm *tmuxTerm) keys(k ...string) {
	args := append([]string{"-L", tm.socket, "send-keys", "-t", "e2e"}, k...)
	if out, err := exec.Command("tmux", args...).CombinedOutput(); err != nil {
		tm.t.Fatalf("send-keys: %v: %s", err, out)
	}
}

func (tm *tmuxTerm) text(s string) { tm.keys("-l", s) }

// paneDead reports whether the binary has exited.
func (tm *tmuxTerm) paneDead() bool {
	out, _ := exec.Command("tmux", "-L", tm.socket, "display-message", "-p", "-t", "e2e", "#{pane_dead}").Output()
	return strings.TrimSpace(string(out)) == "1"
}

// buildBinary builds etcd-dr into the test's temp dir.
func buildBinary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "etcd-dr")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v: %s", err, out)
	}
	return bin
}

// The real binary in tmux at 80x24: browse the etcdbr-v2 fixture, restore revision 72 through the wizard by
// keystrokes, quit; then a real etcd started on the data dir serves exactly the state at revision 72.
func TestTUIEndToEndRestore(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and drives it in tmux")
	}
	etcd := testenv.Binary(t, "etcd")
	bin := buildBinary(t)
	url := restoretest.StoreURL(t, "stores/etcdbr-v2")
	parent, err := os.MkdirTemp("", "dre2e")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(parent) })
	dataDir := filepath.Join(parent, "restored")

	tm := startTmux(t, 80, 24, []string{"TERM=xterm-256color"}, bin, "--store", "'"+url+"'")
	tm.waitFor(10*time.Second, "etcdbr-v2", "Restorable", "revision 103")
	tm.keys("Enter")
	tm.waitFor(5*time.Second, "GAP revisions 104-113", "63-72")
	tm.keys("G") // the last row: the delta ending at 72
	tm.waitFor(5*time.Second, "Incr-00000063-00000072-1763900360.gz.final")
	tm.keys("R")
	tm.waitFor(5*time.Second, "Restore point 72", "data dir")
	tm.text(dataDir)
	tm.keys("Enter")
	tm.waitFor(5*time.Second, "Type restore to confirm", "Nothing is deleted or overwritten")
	tm.text("restore")
	tm.keys("Enter")
	s := tm.waitFor(60*time.Second, "Restored revision 72", "Start the restored member")
	if !strings.Contains(s, "etcd --data-dir "+dataDir) {
		t.Fatalf("no etcd command line for %s:\n%s", dataDir, s)
	}
	tm.keys("q")
	deadline := time.Now().Add(5 * time.Second)
	for !tm.paneDead() {
		if time.Now().After(deadline) {
			t.Fatalf("q did not quit:\n%s", tm.screen(false))
		}
		time.Sleep(50 * time.Millisecond)
	}
	restoretest.Judge(t, etcd, dataDir, restore.DefaultName, 72, restoretest.State(t, "stores/etcdbr-v2", 72))
}

// An unreachable store and a resize: the TUI shows the error panel, survives 50x10 ("too small") and comes back.
func TestTUIEndToEndErrorAndResize(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and drives it in tmux")
	}
	bin := buildBinary(t)
	tm := startTmux(t, 80, 24, []string{"TERM=xterm-256color", "NO_COLOR=1"}, bin, "--store", "file:///nonexistent/etcd-dr-e2e")
	tm.waitFor(10*time.Second, "Cannot read file:///nonexistent/etcd-dr-e2e", "What to do")
	if strings.Contains(tm.screen(true), "38;2;") {
		t.Fatal("colours under NO_COLOR")
	}
	_ = exec.Command("tmux", "-L", tm.socket, "resize-window", "-t", "e2e", "-x", "50", "-y", "10").Run()
	tm.waitFor(5*time.Second, "too small")
	_ = exec.Command("tmux", "-L", tm.socket, "resize-window", "-t", "e2e", "-x", "80", "-y", "24").Run()
	tm.waitFor(5*time.Second, "What to do")
	tm.keys("C-c")
	deadline := time.Now().Add(5 * time.Second)
	for !tm.paneDead() {
		if time.Now().After(deadline) {
			t.Fatal("ctrl+c did not quit")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// `etcd-dr restore` on a terminal opens the Restore wizard with its flags filled in; the typed confirmation runs it.
func TestTUIEndToEndRestoreVerbWizard(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and drives it in tmux")
	}
	bin := buildBinary(t)
	url := restoretest.StoreURL(t, "stores/etcdbr-v2")
	parent, err := os.MkdirTemp("", "dre2e")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(parent) })
	dataDir := filepath.Join(parent, "m1.etcd")
	tm := startTmux(t, 80, 24, []string{"TERM=xterm-256color"}, bin, "restore", "--store", "'"+url+"'", "--revision", "52", "--data-dir", dataDir, "--name", "m1")
	tm.waitFor(10*time.Second, "Restore point 52", dataDir, "m1")
	tm.keys("Enter")
	tm.waitFor(5*time.Second, "Type restore to confirm")
	tm.text("restore")
	tm.keys("Enter")
	tm.waitFor(60*time.Second, "Restored revision 52", "etcd --data-dir "+dataDir+" --name m1")
	tm.keys("q")
	deadline := time.Now().Add(5 * time.Second)
	for !tm.paneDead() {
		if time.Now().After(deadline) {
			t.Fatal("q did not quit")
		}
		time.Sleep(50 * time.Millisecond)
	}
	if _, err := os.Stat(filepath.Join(dataDir, "member", "snap", "db")); err != nil {
		t.Fatalf("no restored db: %v", err)
	}
}

// `etcd-dr --store S --endpoints E` on a terminal: m opens Members, which shows the live cluster from a real etcd.
func TestTUIEndToEndMembersLive(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and drives it in tmux")
	}
	e, _ := testenv.StartEmbedded(t)
	ep := e.Config().AdvertiseClientUrls[0].String()
	bin := buildBinary(t)
	url := restoretest.StoreURL(t, "stores/etcdbr-v2")
	tm := startTmux(t, 80, 24, []string{"TERM=xterm-256color"}, bin, "--store", "'"+url+"'", "--endpoints", ep)
	tm.waitFor(10*time.Second, "etcdbr-v2", "Restorable")
	tm.keys("m")
	tm.waitFor(15*time.Second, "leader embedded", "1/1 answered", "healthy", "none: no etcd-dr daemon writes heartbeats")
	tm.keys("Escape")
	tm.waitFor(5*time.Second, "LAST BACKUP")
	tm.keys("q")
}

// A store URL longer than the screen, typed into the add-store field, scrolls inside the field: its end and the
// cursor stay visible (a hand-written field cut the end off, and the cursor with it). Backspace removes one
// character, whatever its width in bytes.
func TestTUIEndToEndLongURLKeepsTheCursor(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and drives it in tmux")
	}
	bin := buildBinary(t)
	tm := startTmux(t, 80, 24, []string{"TERM=xterm-256color", "NO_COLOR=1"}, bin)
	tm.waitFor(10*time.Second, "No store given")
	tm.keys("a")
	long := "s3://etcd-backups-production-eu-west-1/clusters/main/etcd?region=eu-west-1&endpoint=https://s3.eu-west-1.amazonaws.com&use_path_style=trueé"
	tm.text(long)
	tm.keys("BSpace")
	s := tm.waitFor(5*time.Second, "use_path_style=true")
	if strings.Contains(s, "trueé") || strings.Contains(s, "true\ufffd") {
		t.Fatalf("backspace did not remove the last character:\n%s", s)
	}
	// The cursor is the reverse-video cell right after the text.
	var line string
	for _, l := range strings.Split(tm.screen(true), "\n") {
		if strings.Contains(ansiStrip(l), "use_path_style=true") {
			line = l
		}
	}
	at := strings.Index(line, "use_path_style=true")
	if at < 0 || !strings.Contains(line[at:], "\x1b[7m") {
		t.Fatalf("no cursor after the end of the URL: %q", line)
	}
	tm.keys("Escape", "C-c")
}

// ansiStrip drops the escape sequences of a captured line.
func ansiStrip(s string) string { return ansi.Strip(s) }
