package tui

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/exp/teatest/v2"

	"github.com/etcd-dr/etcd-dr/store"
)

// frameMsg asks the running program for its current frame. The program filter answers it on the event loop,
// between updates, so the test reads the model without racing the program.
type frameMsg struct{ ch chan string }

func frameFilter(m tea.Model, msg tea.Msg) tea.Msg {
	if f, ok := msg.(frameMsg); ok {
		f.ch <- m.View().Content
		return nil
	}
	return msg
}

// app is a TUI running in a teatest program at a fixed size.
type app struct {
	t  *testing.T
	tm *teatest.TestModel
}

func startApp(t *testing.T, m *Model, w, h int) *app {
	t.Helper()
	tm := teatest.NewTestModel(t, m, teatest.WithInitialTermSize(w, h), teatest.WithProgramOptions(tea.WithFilter(frameFilter)))
	a := &app{t: t, tm: tm}
	t.Cleanup(func() {
		_ = tm.Quit()
		tm.WaitFinished(t, teatest.WithFinalTimeout(5*time.Second))
	})
	return a
}

// frame is the current screen, styles stripped.
func (a *app) frame() string {
	ch := make(chan string, 1)
	a.tm.Send(frameMsg{ch})
	select {
	case s := <-ch:
		return ansi.Strip(s)
	case <-time.After(5 * time.Second):
		a.t.Fatal("the program did not answer")
		return ""
	}
}

// waitFor polls the screen until it holds every part.
func (a *app) waitFor(parts ...string) string {
	a.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		s := a.frame()
		ok := true
		for _, p := range parts {
			ok = ok && strings.Contains(s, p)
		}
		if ok {
			return s
		}
		if time.Now().After(deadline) {
			a.t.Fatalf("screen never showed %q:\n%s", parts, s)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func (a *app) press(ks ...string) {
	for _, k := range ks {
		a.tm.Send(key(k))
	}
}

func (a *app) typeText(s string) {
	for _, m := range typeText(s) {
		a.tm.Send(m)
	}
}

// TestGolden drives every screen and wizard in a real Bubble Tea program at 80x24 with a fixed clock and
// compares the frame with testdata/TestGolden/<case>.golden (go test ./tui -run TestGolden -update rewrites them).
func TestGolden(t *testing.T) {
	v2 := memStore(t, "etcdbr-v2", "golden-v2")
	v1 := memStore(t, "etcdbr-v1", "golden-v1")
	op := memStore(t, filepath.Join("operator", "v1", "etcd-cluster"), "golden-operator")
	junk := junkStore(t, "golden-junk")
	cases := []struct {
		name   string
		stores []string
		w, h   int
		steps  func(a *app) string
	}{
		{"Stores", []string{v2, v1, "file:///nonexistent/etcd-backup"}, 80, 24, func(a *app) string {
			// Every store's row, each read in its own command: a wait for two of them caught the third loading.
			return a.waitFor("etcdbr-v2", "etcdbr-v1", "not found: see below", "Restorable")
		}},
		{"StoresUnreachable", []string{v2, "file:///nonexistent/etcd-backup"}, 80, 24, func(a *app) string {
			a.waitFor("etcdbr-v2", "not found: see below") // both rows read: each loads in its own command
			a.press("down")
			return a.waitFor("What to do")
		}},
		{"StoresEmpty", nil, 80, 24, func(a *app) string { return a.waitFor("No store given") }},
		{"Catalog", []string{v2}, 80, 24, func(a *app) string {
			a.waitFor("etcdbr-v2")
			a.press("enter")
			return a.waitFor("GAP revisions 104-113")
		}},
		{"CatalogV1", []string{v1}, 80, 24, func(a *app) string {
			a.waitFor("etcdbr-v1")
			a.press("enter")
			return a.waitFor("KIND")
		}},
		{"CatalogUnusedObjects", []string{junk}, 80, 24, func(a *app) string {
			a.waitFor("etcdbr-v2")
			a.press("enter", "G")
			return a.waitFor("objects not used")
		}},
		{"CatalogFilter", []string{v2}, 80, 24, func(a *app) string {
			a.waitFor("etcdbr-v2")
			a.press("enter", "/")
			a.typeText("zlib")
			a.press("enter")
			return a.waitFor("1 found", "33-42")
		}},
		{"CatalogFolded", []string{v2}, 80, 24, func(a *app) string {
			a.waitFor("etcdbr-v2")
			a.press("enter", "space")
			return a.waitFor("▸ 93-123")
		}},
		{"Object", []string{v2}, 80, 24, func(a *app) string {
			a.waitFor("etcdbr-v2")
			a.press("enter", "down", "down", "enter")
			return a.waitFor("Checksum")
		}},
		{"ObjectVerified", []string{v2}, 80, 24, func(a *app) string {
			a.waitFor("etcdbr-v2")
			a.press("enter", "down", "down", "enter", "c")
			return a.waitFor("verified")
		}},
		{"PickGap", []string{v2}, 80, 24, func(a *app) string {
			a.waitFor("etcdbr-v2")
			a.press("p")
			return a.waitFor("pick revision 103")
		}},
		{"PickRevision", []string{v2}, 80, 24, func(a *app) string {
			a.waitFor("etcdbr-v2")
			a.press("p", "tab")
			a.typeText("50")
			a.press("enter")
			return a.waitFor("restore point: revision 50")
		}},
		{"PickWarnings", []string{v2}, 80, 24, func(a *app) string {
			a.waitFor("etcdbr-v2")
			a.press("p")
			a.typeText("3.4")
			a.press("tab")
			a.typeText("100")
			a.press("enter")
			return a.waitFor("revision 100")
		}},
		{"PickRefused", []string{op}, 80, 24, func(a *app) string {
			a.waitFor("3 chains")
			a.press("p")
			a.typeText("3.5.0")
			a.press("enter")
			return a.waitFor("Refused (2)")
		}},
		{"Download", []string{v2}, 80, 24, func(a *app) string {
			a.waitFor("etcdbr-v2")
			a.press("enter", "down", "down", "d")
			return a.waitFor("enter starts")
		}},
		{"Validate", []string{v2}, 80, 24, func(a *app) string {
			a.waitFor("etcdbr-v2")
			a.press("enter", "down", "v", "enter")
			return a.waitFor("problem found")
		}},
		{"RestoreForm", []string{v2}, 80, 24, func(a *app) string {
			a.waitFor("etcdbr-v2")
			a.press("enter", "down", "down", "R")
			return a.waitFor("mark compacted")
		}},
		{"RestoreConfirm", []string{v2}, 80, 24, func(a *app) string {
			a.waitFor("etcdbr-v2")
			a.press("enter", "down", "down", "R")
			a.waitFor("Restore point 103") // the pick checks the base first
			a.typeText("/nonexistent/restored")
			a.press("enter")
			a.typeText("rest")
			return a.waitFor("Type restore to confirm: rest")
		}},
		{"CopyPlanned", []string{v2}, 80, 24, func(a *app) string {
			a.waitFor("etcdbr-v2")
			a.press("enter", "y")
			a.typeText("mem://golden-copy")
			a.press("enter")
			return a.waitFor("Will copy:", "enter copies")
		}},
		{"CopyLimits", []string{v2}, 80, 24, func(a *app) string {
			a.waitFor("etcdbr-v2")
			a.press("enter", "y")
			a.typeText("mem://golden-copy-limits")
			a.press("tab")
			a.typeText("1")
			a.press("tab")
			a.typeText("1y")
			return a.waitFor("✗ a duration such as 90m or 24h")
		}},
		{"CompactForm", []string{v2}, 80, 24, func(a *app) string {
			a.waitFor("etcdbr-v2")
			a.press("enter", "G", "C")
			return a.waitFor("up to revision 72", "enter reviews")
		}},
		{"CompactConfirm", []string{v2}, 80, 24, func(a *app) string {
			a.waitFor("etcdbr-v2")
			a.press("enter", "G", "C")
			a.waitFor("enter reviews") // the pick checks the base first
			a.press("enter")
			a.typeText("golden")
			return a.waitFor("Type golden-v2 to confirm: golden")
		}},
		{"Help", []string{v2}, 80, 24, func(a *app) string {
			a.waitFor("etcdbr-v2")
			a.press("enter", "?")
			return a.waitFor("Moving around")
		}},
		{"WideFolded", []string{v2}, 160, 45, func(a *app) string {
			// The table keeps the tree's rows and keys: space folds the chain under the cursor there too.
			a.waitFor("etcdbr-v2")
			a.press("enter", "space")
			return a.waitFor("▸   chain  93-123")
		}},
		{"TooSmall", []string{v2}, 50, 10, func(a *app) string { return a.waitFor("too small") }},
		{"Wide", []string{v2}, 120, 30, func(a *app) string {
			a.waitFor("etcdbr-v2")
			a.press("enter")
			return a.waitFor("Incr-00000114-00000123-1763900600.gz")
		}},
	}
	// The screens on bubbles' widgets again at 160x45, where fields, bars and reports have room to grow.
	for _, tc := range cases[:len(cases):len(cases)] {
		switch tc.name {
		case "PickRevision", "PickGap", "Download", "Validate", "RestoreForm", "RestoreConfirm", "CopyPlanned", "CopyLimits", "CompactForm", "CompactConfirm", "Help", "ObjectVerified", "Wide":
			tc.name, tc.w, tc.h = tc.name+"160x45", 160, 45
			cases = append(cases, tc)
		}
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			a := startApp(t, newModel(t, false, tc.stores...), tc.w, tc.h)
			got := tc.steps(a)
			goldenCompare(t, got)
		})
	}
}

// goldenCompare checks a frame against testdata/<test name>.golden (-update rewrites it).
func goldenCompare(t *testing.T, frame string) {
	t.Helper()
	teatest.RequireEqualOutput(t, []byte(frame))
}

// junkStore is the etcdbr-v2 fixture plus what real buckets hold besides backups: a stray file, an empty
// (interrupted) upload, a delta without its full snapshot.
func junkStore(t *testing.T, name string) string {
	url := memStore(t, "etcdbr-v2", name)
	st, err := store.Open(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	for key, body := range map[string]string{
		"v2/README.txt": "notes",
		"v2/Full-00000000-00000200-1763901000.gz": "",
		"v1/Backup-1/Incr-00000005-00000009-1":    "x",
	} {
		w, err := st.NewWriter(context.Background(), key, store.WriteOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write([]byte(body)); err != nil {
			t.Fatal(err)
		}
		if err := w.Commit(); err != nil {
			t.Fatal(err)
		}
	}
	return url
}
