package tui

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	tea "charm.land/bubbletea/v2"

	"github.com/etcd-dr/etcd-dr/internal/testkit/restoretest"
	catalogpage "github.com/etcd-dr/etcd-dr/tui/pages/catalog"
	restorepage "github.com/etcd-dr/etcd-dr/tui/pages/restore"
)

func TestDownloadWizard(t *testing.T) {
	v2 := memStore(t, "etcdbr-v2", "dl-v2")
	t.Run("a chain lands in a folder", func(t *testing.T) {
		dir := shortTemp(t)
		m := newModel(t, false, v2)
		start(m, 80, 24)
		drive(m, keys("enter", "G", "d", "ctrl+u")...)
		target := filepath.Join(dir, "chain")
		drive(m, typeText(target)...)
		drive(m, key("enter"))
		mustContain(t, m, "Downloaded revision 72", "6 files", "etcd-dr restore --store file://"+target)
		entries, err := os.ReadDir(target)
		if err != nil || len(entries) != 6 {
			t.Fatalf("target holds %d entries (%v)", len(entries), err)
		}
		drive(m, key("enter"))
		topIs[*catalogpage.Page](t, m)
	})
	t.Run("an existing target is refused, e edits", func(t *testing.T) {
		dir := shortTemp(t)
		target := filepath.Join(dir, "taken.db")
		if err := os.WriteFile(target, []byte("mine"), 0o600); err != nil {
			t.Fatal(err)
		}
		m := newModel(t, false, v2)
		start(m, 80, 24)
		drive(m, keys("enter", "down", "d", "ctrl+u")...)
		drive(m, typeText(target)...)
		drive(m, key("enter"))
		mustContain(t, m, "Download failed", "already exists")
		if b, _ := os.ReadFile(target); string(b) != "mine" {
			t.Fatal("the existing file was touched")
		}
		drive(m, key("e"))
		mustContain(t, m, "enter starts")
	})
	// The engine may finish a fast download before the cancel reaches it (memblob and fileblob readers do not
	// watch the context); the wizard must then say so, and otherwise leave nothing behind.
	cancelled := func(t *testing.T, m *Model, dir, target string) {
		t.Helper()
		if strings.Contains(screen(m), "finished before the cancel") {
			if _, err := os.Stat(target); err != nil {
				t.Fatalf("says finished, but: %v", err)
			}
			return
		}
		mustContain(t, m, "Download cancelled; nothing was left at the target.")
		if left, _ := os.ReadDir(dir); len(left) != 0 {
			t.Fatalf("left behind: %v", left)
		}
	}
	t.Run("esc cancels a running download", func(t *testing.T) {
		big := bigStore(t)
		dir := shortTemp(t)
		target := filepath.Join(dir, "big.db")
		m := newModel(t, false, big)
		start(m, 80, 24)
		drive(m, keys("enter", "down", "d", "ctrl+u")...)
		drive(m, typeText(target)...)
		// Start, then cancel before the first message of the job is read.
		_, cmd := m.Update(key("enter"))
		if !m.top().Busy() {
			t.Fatal("download not running")
		}
		drive(m, key("esc"))
		mustContain(t, m, "cancelling")
		drive(m, run(cmd)...)
		cancelled(t, m, dir, target)
	})
	t.Run("ctrl+c cancels a running download instead of quitting", func(t *testing.T) {
		big := bigStore(t)
		dir := shortTemp(t)
		target := filepath.Join(dir, "big.db")
		m := newModel(t, false, big)
		start(m, 80, 24)
		drive(m, keys("enter", "down", "d", "ctrl+u")...)
		drive(m, typeText(target)...)
		_, cmd := m.Update(key("enter"))
		if _, cmd2 := m.Update(key("ctrl+c")); cmd2 != nil {
			if _, ok := cmd2().(tea.QuitMsg); ok {
				t.Fatal("ctrl+c quit during a download")
			}
		}
		if m.c.Ctx.Err() != nil {
			t.Fatal("ctrl+c ended the TUI's context")
		}
		drive(m, run(cmd)...)
		cancelled(t, m, dir, target)
	})
}

// Quitting during a download (ctrl+c from the help overlay) cancels it and waits until it has stopped, so that
// no partial file outlives the TUI.
func TestQuitWaitsForRunningWork(t *testing.T) {
	big := bigStore(t)
	dir := shortTemp(t)
	m := newModel(t, false, big)
	start(m, 80, 24)
	drive(m, keys("enter", "down", "d", "ctrl+u")...)
	drive(m, typeText(filepath.Join(dir, "big.db"))...)
	_, cmd := m.Update(key("enter"))
	drive(m, tea.KeyPressMsg{Code: tea.KeyF1})
	if _, q := m.Update(key("ctrl+c")); q != nil {
		if _, ok := q().(tea.QuitMsg); ok {
			t.Fatal("quit while the download was still running")
		}
	}
	if !strings.Contains(screen(m), "Stopping the running work") {
		t.Fatalf("no stopping notice:\n%s", screen(m))
	}
	// Deliver the job's messages; the last one ends the TUI.
	quit := false
	queue := []tea.Cmd{cmd}
	for len(queue) > 0 && !quit {
		c := queue[0]
		queue = queue[1:]
		if c == nil {
			continue
		}
		switch msg := c().(type) {
		case nil:
		case tea.QuitMsg:
			quit = true
		case tea.BatchMsg:
			queue = append(queue, msg...)
		default:
			_, next := m.Update(msg)
			queue = append(queue, next)
		}
	}
	if !quit {
		t.Fatal("the TUI did not quit after the work stopped")
	}
	left, _ := os.ReadDir(dir)
	for _, e := range left {
		if strings.Contains(e.Name(), ".partial-") {
			t.Fatalf("partial file left: %s", e.Name())
		}
	}
}

// bigStore holds one 64 MiB full snapshot, written by etcd's own storage code: big enough to cancel mid-way.
func bigStore(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	restoretest.LargeSnapshot(t, dir, 64<<20)
	return "file://" + dir
}

func TestRestoreWizard(t *testing.T) {
	v2 := memStore(t, "etcdbr-v2", "rs-v2")
	open := func(t *testing.T) *Model {
		m := newModel(t, false, v2)
		start(m, 80, 24)
		drive(m, keys("enter", "G", "R")...)
		topIs[*restorepage.Page](t, m)
		return m
	}
	t.Run("an occupied data dir is refused before the confirmation", func(t *testing.T) {
		dir := shortTemp(t)
		if err := os.WriteFile(filepath.Join(dir, "member"), nil, 0o600); err != nil {
			t.Fatal(err)
		}
		m := open(t)
		drive(m, typeText(dir)...)
		drive(m, key("enter"))
		mustContain(t, m, "is not empty", "never overwrites")
		if strings.Contains(screen(m), "Type restore") {
			t.Fatal("confirmation shown for an occupied target")
		}
	})
	t.Run("bump without mark compacted is refused", func(t *testing.T) {
		m := open(t)
		drive(m, typeText(filepath.Join(shortTemp(t), "new"))...)
		for i := 0; i < 5; i++ {
			drive(m, key("tab"))
		}
		drive(m, typeText("1000")...)
		drive(m, key("enter"))
		mustContain(t, m, "go together")
	})
	t.Run("confirmation needs the typed word; esc goes back to the form", func(t *testing.T) {
		m := open(t)
		target := filepath.Join(shortTemp(t), "new")
		drive(m, typeText(target)...)
		drive(m, key("enter"))
		mustContain(t, m, "Type restore to confirm", "Nothing is deleted or overwritten", target)
		drive(m, typeText("restor")...)
		drive(m, key("enter"))
		mustContain(t, m, "Type restore to confirm")
		drive(m, key("esc"))
		mustContain(t, m, "data dir")
		topIs[*restorepage.Page](t, m)
		if _, err := os.Stat(target); !os.IsNotExist(err) {
			t.Fatal("target created without confirmation")
		}
	})
	t.Run("with the word typed the engine restores and the etcd command is shown", func(t *testing.T) {
		m := newModel(t, false, v2)
		start(m, 80, 24)
		drive(m, keys("enter", "G", "R")...)
		target := filepath.Join(shortTemp(t), "new")
		drive(m, typeText(target)...)
		drive(m, key("tab"))
		drive(m, typeText("m1")...)
		drive(m, key("enter"))
		drive(m, typeText("restore")...)
		drive(m, key("enter"))
		mustContain(t, m, "Restored revision 72", "etcd --data-dir "+target+" --name m1")
		if _, err := os.Stat(filepath.Join(target, "member", "snap", "db")); err != nil {
			t.Fatalf("no data dir restored: %v", err)
		}
	})
}

// The wizard with the real engine: every member of the initial cluster gets its own data dir from one replay,
// and the finished screen gives each member's etcd command line.
func TestRestoreWizardAllMembers(t *testing.T) {
	v2 := memStore(t, "etcdbr-v2", "rs-all")
	m := newModel(t, false, v2)
	start(m, 80, 24)
	drive(m, keys("enter", "G", "R")...)
	dir := filepath.Join(shortTemp(t), "c")
	drive(m, typeText(dir)...)
	drive(m, key("tab"), key("tab"))
	drive(m, typeText("m1=http://127.0.0.1:12380,m2=http://127.0.0.1:22380")...)
	for i := 0; i < 5; i++ {
		drive(m, key("tab"))
	}
	drive(m, typeText("yes")...)
	drive(m, key("enter"))
	mustContain(t, m, "One data dir per member of m1=http://127.0.0.1:12380,m2=")
	drive(m, typeText("restore")...)
	drive(m, key("enter"))
	mustContain(t, m, "Restored revision 72", "Start the restored members, each on its host:",
		"etcd --name m1 --data-dir "+filepath.Join(dir, "m1.etcd"), "etcd --name m2 --data-dir "+filepath.Join(dir, "m2.etcd"))
	for _, n := range []string{"m1.etcd", "m2.etcd"} {
		if _, err := os.Stat(filepath.Join(dir, n, "member", "snap", "db")); err != nil {
			t.Fatalf("%s: %v", n, err)
		}
	}
}

// An occupied data dir with move aside: the confirmation says it will be renamed, the restore keeps it whole.
func TestRestoreWizardMoveAside(t *testing.T) {
	v2 := memStore(t, "etcdbr-v2", "rs-move")
	parent := shortTemp(t)
	dir := filepath.Join(parent, "etcd")
	if err := os.MkdirAll(filepath.Join(dir, "member"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "member", "broken"), []byte("old"), 0o600); err != nil {
		t.Fatal(err)
	}
	m := newModel(t, false, v2)
	start(m, 80, 24)
	drive(m, keys("enter", "G", "R")...)
	drive(m, typeText(dir)...)
	for i := 0; i < 8; i++ {
		drive(m, key("tab"))
	}
	drive(m, typeText("yes")...)
	drive(m, key("enter"))
	mustContain(t, m, "which holds data now", "Move aside: the data there now is first renamed to", "kept whole")
	drive(m, typeText("restore")...)
	drive(m, key("enter"))
	mustContain(t, m, "Restored revision 72", "moved aside to")
	entries, _ := os.ReadDir(parent)
	var moved string
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), "etcd.broken-") {
			moved = e.Name()
		}
	}
	if b, err := os.ReadFile(filepath.Join(parent, moved, "member", "broken")); err != nil || string(b) != "old" {
		t.Fatalf("the old data dir was not kept whole (%q): %v", moved, err)
	}
	if _, err := os.Stat(filepath.Join(dir, "member", "snap", "db")); err != nil {
		t.Fatal(err)
	}
}
