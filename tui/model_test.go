package tui

import (
	"context"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/etcd-dr/etcd-dr/tui/common"
	catalogpage "github.com/etcd-dr/etcd-dr/tui/pages/catalog"
	downloadpage "github.com/etcd-dr/etcd-dr/tui/pages/download"
	objectpage "github.com/etcd-dr/etcd-dr/tui/pages/object"
	pickpage "github.com/etcd-dr/etcd-dr/tui/pages/pick"
	restorepage "github.com/etcd-dr/etcd-dr/tui/pages/restore"
	storespage "github.com/etcd-dr/etcd-dr/tui/pages/stores"
)

func topIs[T common.Page](t *testing.T, m *Model) T {
	t.Helper()
	p, ok := m.top().(T)
	if !ok {
		var want T
		t.Fatalf("top page is %T, want %T:\n%s", m.top(), want, screen(m))
	}
	return p
}

func TestNavigation(t *testing.T) {
	v2 := memStore(t, "etcdbr-v2", "nav-v2")
	v1 := memStore(t, "etcdbr-v1", "nav-v1")
	t.Run("enter opens, esc goes back, esc at home stays", func(t *testing.T) {
		m := newModel(t, false, v2, v1)
		start(m, 80, 24)
		drive(m, key("j"), key("enter"))
		topIs[*catalogpage.Page](t, m)
		mustContain(t, m, "mem://nav-v1", "185-195")
		drive(m, key("esc"))
		topIs[*storespage.Page](t, m)
		drive(m, key("esc"), key("esc"))
		topIs[*storespage.Page](t, m)
	})
	t.Run("arrows and j/k move the cursor, clamped", func(t *testing.T) {
		m := newModel(t, false, v2)
		start(m, 80, 24)
		drive(m, key("enter"))
		drive(m, keys("k", "k", "down", "j")...)
		mustContain(t, m, "v2/Incr-00000094-00000103-1763900480.gz")
		drive(m, key("G"))
		mustContain(t, m, "v2/Incr-00000063-00000072-1763900360.gz.final")
		drive(m, key("g"), key("up"))
		mustContain(t, m, "chain of v2/Full-00000000-00000093-1763900420")
	})
	t.Run("enter on an object opens its details", func(t *testing.T) {
		m := newModel(t, false, v2)
		start(m, 80, 24)
		drive(m, keys("enter", "down", "enter")...)
		topIs[*objectpage.Page](t, m)
		mustContain(t, m, "Stores › Catalog › Object", "v2/Full-00000000-00000093-1763900420")
	})
	t.Run("filter narrows, esc clears, q types into the filter", func(t *testing.T) {
		m := newModel(t, false, v2)
		start(m, 80, 24)
		drive(m, keys("enter", "/")...)
		drive(m, typeText("q.final")...)
		topIs[*catalogpage.Page](t, m) // q did not quit: the filter had focus
		mustContain(t, m, "/ q.final")
		drive(m, key("backspace"), key("backspace"), key("backspace"), key("backspace"), key("backspace"), key("backspace"), key("backspace"))
		drive(m, typeText(".final")...)
		mustContain(t, m, "1 found", "63-72")
		if strings.Contains(screen(m), "94-103") {
			t.Fatalf("filter kept other objects:\n%s", screen(m))
		}
		drive(m, key("esc"))
		mustContain(t, m, "94-103", "63-72")
		topIs[*catalogpage.Page](t, m)
	})
	t.Run("r reloads the store from the catalog, keeping the screen", func(t *testing.T) {
		m := newModel(t, false, v2)
		start(m, 80, 24)
		drive(m, keys("enter", "down", "down")...)
		before := m.sources[0].Catalog
		drive(m, key("r"))
		if m.sources[0].Loading || m.sources[0].Catalog == before || m.sources[0].Err != nil {
			t.Fatalf("reload: loading %v, same catalog %v, err %v", m.sources[0].Loading, m.sources[0].Catalog == before, m.sources[0].Err)
		}
		topIs[*catalogpage.Page](t, m)
		mustContain(t, m, "mem://nav-v2 · etcdbr-v2 · 2 chains")
	})
	t.Run("space folds a chain", func(t *testing.T) {
		m := newModel(t, false, v2)
		start(m, 80, 24)
		drive(m, keys("enter", "space")...)
		mustContain(t, m, "▸ 93-123")
		if strings.Contains(screen(m), "94-103") {
			t.Fatalf("folded chain still shows its deltas")
		}
		drive(m, key("space"))
		mustContain(t, m, "▾ 93-123", "94-103")
	})
	t.Run("? shows help built from the key map, esc closes it", func(t *testing.T) {
		m := newModel(t, false, v2)
		start(m, 80, 24)
		drive(m, key("enter"), key("?"))
		k := m.c.Keys
		for _, b := range append(topIs[*catalogpage.Page](t, m).Bindings(), k.Navigation()...) {
			mustContain(t, m, b.Help())
		}
		mustContain(t, m, "asks you to type a word")
		drive(m, key("esc"))
		mustContain(t, m, "KIND")
		topIs[*catalogpage.Page](t, m)
	})
	t.Run("f1 opens help from a text field, where ? is typed", func(t *testing.T) {
		m := newModel(t, false, v2)
		start(m, 80, 24)
		drive(m, key("p"), key("?"))
		mustContain(t, m, "etcd version  ?")
		drive(m, tea.KeyPressMsg{Code: tea.KeyF1})
		mustContain(t, m, "On this screen (Pick)")
		drive(m, key("esc"))
		topIs[*pickpage.Page](t, m)
	})
	t.Run("q quits and cancels the context", func(t *testing.T) {
		m := newModel(t, false, v2)
		start(m, 80, 24)
		if _, cmd := m.Update(key("q")); cmd == nil {
			t.Fatal("q returned no command")
		} else if _, ok := cmd().(tea.QuitMsg); !ok {
			t.Fatal("q did not quit")
		}
		if m.c.Ctx.Err() == nil {
			t.Fatal("quitting left the context running")
		}
	})
	t.Run("pick then download from the result", func(t *testing.T) {
		m := newModel(t, false, v2)
		start(m, 80, 24)
		drive(m, key("p"), key("tab"))
		drive(m, typeText("42")...)
		drive(m, key("enter"))
		topIs[*pickpage.Page](t, m)
		mustContain(t, m, "restore point: revision 42", "33-42")
		drive(m, key("d"))
		topIs[*downloadpage.Page](t, m)
		mustContain(t, m, "Restore point 42", "etcd-dr-revision-42")
	})
}

func TestResizeAndTooSmall(t *testing.T) {
	v2 := memStore(t, "etcdbr-v2", "resize-v2")
	m := newModel(t, false, v2)
	start(m, 80, 24)
	drive(m, key("enter"))
	for _, size := range [][2]int{{80, 24}, {120, 40}, {64, 16}, {200, 60}} {
		drive(m, tea.WindowSizeMsg{Width: size[0], Height: size[1]})
		lines := strings.Split(screen(m), "\n")
		if len(lines) != size[1] {
			t.Fatalf("%dx%d: %d lines", size[0], size[1], len(lines))
		}
		for i, l := range lines {
			if w := len([]rune(l)); w > size[0] {
				t.Fatalf("%dx%d: line %d is %d wide: %q", size[0], size[1], i, w, l)
			}
		}
	}
	drive(m, tea.WindowSizeMsg{Width: 40, Height: 10})
	mustContain(t, m, "Terminal too small", "40x10")
	drive(m, tea.WindowSizeMsg{Width: 80, Height: 24})
	mustContain(t, m, "KIND")
}

func TestNoColor(t *testing.T) {
	v2 := memStore(t, "etcdbr-v2", "color-v2")
	colours := []string{"38;2;", "48;2;", "38;5;", "[31m", "[91m"}
	t.Run("NO_COLOR drops every colour", func(t *testing.T) {
		t.Setenv("NO_COLOR", "1")
		m := New(context.Background(), Config{Stores: []string{v2}, Now: func() time.Time { return fixedNow }, Refresh: -1})
		t.Cleanup(m.cancel)
		start(m, 80, 24)
		drive(m, key("enter"))
		out := m.View().Content
		for _, c := range colours {
			if strings.Contains(out, c) {
				t.Fatalf("colour %q under NO_COLOR", c)
			}
		}
		if !strings.Contains(ansi.Strip(out), "✗ GAP") {
			t.Fatal("gap not marked in text")
		}
	})
	t.Run("colours on: gaps in the danger style", func(t *testing.T) {
		t.Setenv("NO_COLOR", "")
		m := newModel(t, true, v2)
		start(m, 80, 24)
		drive(m, key("enter"))
		danger := m.c.Styles.Danger.Render("x")
		prefix := danger[:strings.Index(danger, "x")]
		for _, l := range strings.Split(m.View().Content, "\n") {
			if strings.Contains(l, "GAP revisions") {
				if !strings.Contains(l, prefix) {
					t.Fatalf("gap row not in the danger style: %q", l)
				}
				return
			}
		}
		t.Fatal("no gap row")
	})
}

// A verb on a terminal opens its wizard with the flags filled in, once the store is read.
func TestStartScreens(t *testing.T) {
	v2 := memStore(t, "etcdbr-v2", "start-v2")
	open := func(t *testing.T, s Start) *Model {
		nc := true
		m := New(context.Background(), Config{Stores: []string{v2}, Now: func() time.Time { return fixedNow }, NoColor: &nc, Start: s, Refresh: -1})
		t.Cleanup(m.cancel)
		start(m, 80, 24)
		return m
	}
	t.Run("catalog (list)", func(t *testing.T) {
		m := open(t, Start{Screen: "catalog"})
		topIs[*catalogpage.Page](t, m)
	})
	t.Run("pick", func(t *testing.T) {
		m := open(t, Start{Screen: "pick", Revision: "42"})
		topIs[*pickpage.Page](t, m)
		mustContain(t, m, "restore point: revision 42")
	})
	t.Run("download", func(t *testing.T) {
		m := open(t, Start{Screen: "download", Revision: "42", To: "/tmp/x.db"})
		topIs[*downloadpage.Page](t, m)
		mustContain(t, m, "Restore point 42", "/tmp/x.db")
	})
	t.Run("download of a point behind a gap opens pick, which says why", func(t *testing.T) {
		m := open(t, Start{Screen: "download"})
		topIs[*pickpage.Page](t, m)
		mustContain(t, m, "pick revision 103")
	})
	t.Run("restore", func(t *testing.T) {
		m := open(t, Start{Screen: "restore", Revision: "50", Restore: common.RestoreRequest{DataDir: "/tmp/new-etcd", Name: "m1", BumpRevision: 1000, MarkCompacted: true}})
		topIs[*restorepage.Page](t, m)
		mustContain(t, m, "Restore point 50", "/tmp/new-etcd", "m1", "1000", "yes")
	})
	t.Run("validate a data dir", func(t *testing.T) {
		m := open(t, Start{Screen: "validate", DataDir: "/var/lib/etcd"})
		mustContain(t, m, "Stores › Validate", "(•) a data directory", "/var/lib/etcd")
	})
}

// With no --store, a typed URL opens a store; a malformed one is refused with the reason.
func TestAddStore(t *testing.T) {
	v2 := memStore(t, "etcdbr-v2", "add-v2")
	m := newModel(t, false)
	start(m, 80, 24)
	mustContain(t, m, "No store given", "a add store")
	drive(m, key("a"))
	drive(m, typeText("nope://x")...)
	drive(m, key("enter"))
	mustContain(t, m, "unsupported scheme")
	drive(m, key("ctrl+u"))
	drive(m, typeText(v2)...)
	drive(m, key("enter"))
	mustContain(t, m, "mem://add-v2", "etcdbr-v2", "revision 103")
	drive(m, key("a"))
	drive(m, key("q")) // typed into the field, not quit
	if m.c.Ctx.Err() != nil {
		t.Fatal("q quit while typing a URL")
	}
	drive(m, key("esc"))
	drive(m, key("enter"))
	topIs[*catalogpage.Page](t, m)
}

// A store whose endpoint accepts connections but never answers ends in an error panel with what to do, after
// LoadTimeout; the screen answers keys meanwhile (the read runs in a command).
func TestUnansweringStore(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	var held []net.Conn
	var mu sync.Mutex
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			held = append(held, c) // read nothing, answer nothing
			mu.Unlock()
		}
	}()
	defer func() {
		mu.Lock()
		for _, c := range held {
			c.Close()
		}
		mu.Unlock()
	}()
	t.Setenv("AWS_ACCESS_KEY_ID", "test")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "test")
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	old := common.LoadTimeout
	common.LoadTimeout = time.Second
	defer func() { common.LoadTimeout = old }()
	url := "s3://backups/etcd?region=us-east-1&use_path_style=true&endpoint=http://" + l.Addr().String()
	m := newModel(t, false, url)
	drive(m, tea.WindowSizeMsg{Width: 80, Height: 24})
	load := m.Init() // not run yet: the screen is up and says it is reading
	mustContain(t, m, "loading…", "Reading s3://backups/etcd")
	drive(m, key("down"), key("?"), key("esc")) // keys work while the read is under way
	start := time.Now()
	drive(m, run(load)...)
	if d := time.Since(start); d > 20*time.Second {
		t.Fatalf("the read took %s despite LoadTimeout", d)
	}
	mustContain(t, m, "Cannot read s3://backups/etcd", "did not answer within 1s", "What to do", "network path")
	if testing.Verbose() {
		t.Log("\n" + screen(m))
	}
}
