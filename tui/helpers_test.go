package tui

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/etcd-dr/etcd-dr/internal/testenv"
	"github.com/etcd-dr/etcd-dr/tui/tuitest"
)

// fixedNow is the clock of every test: a year after the fixtures were made, so ages read "365d ago".
var fixedNow = time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)

var noColor = true

// memStore copies a fixture folder into mem://name so that screens show a stable URL.
func memStore(t testing.TB, fixture, name string) string {
	t.Helper()
	url := "mem://" + name
	testenv.UploadDir(t, url, filepath.Join("..", "testdata", "stores", fixture), "")
	return url
}

// newModel builds a root model with the fixed clock, no colours unless asked, and the given stores.
func newModel(t testing.TB, color bool, stores ...string) *Model {
	nc := !color
	m := New(context.Background(), Config{Stores: stores, Now: func() time.Time { return fixedNow }, NoColor: &nc, Refresh: -1})
	t.Cleanup(func() { m.cancel() })
	return m
}

// drive sends msgs to m and waits for the screen to settle (tuitest.Settle).
func drive(m *Model, msgs ...tea.Msg) { tuitest.Settle(m, msgs...) }

func run(cmd tea.Cmd) []tea.Msg { return tuitest.Run(cmd) }

// start sizes m and runs Init.
func start(m *Model, w, h int) {
	drive(m, tea.WindowSizeMsg{Width: w, Height: h})
	drive(m, run(m.Init())...)
}

func keys(s ...string) []tea.Msg {
	var out []tea.Msg
	for _, k := range s {
		out = append(out, key(k))
	}
	return out
}

// key builds the press of a named key ("enter", "esc", "down", "ctrl+c") or of a printable character.
func key(k string) tea.KeyPressMsg {
	switch k {
	case "enter":
		return tea.KeyPressMsg{Code: tea.KeyEnter}
	case "esc":
		return tea.KeyPressMsg{Code: tea.KeyEscape}
	case "down":
		return tea.KeyPressMsg{Code: tea.KeyDown}
	case "up":
		return tea.KeyPressMsg{Code: tea.KeyUp}
	case "tab":
		return tea.KeyPressMsg{Code: tea.KeyTab}
	case "backspace":
		return tea.KeyPressMsg{Code: tea.KeyBackspace}
	case "space":
		return tea.KeyPressMsg{Code: tea.KeySpace, Text: " "}
	case "ctrl+c":
		return tea.KeyPressMsg{Code: 'c', Mod: tea.ModCtrl}
	case "ctrl+u":
		return tea.KeyPressMsg{Code: 'u', Mod: tea.ModCtrl}
	}
	r := []rune(k)[0]
	return tea.KeyPressMsg{Code: r, Text: k}
}

func typeText(s string) []tea.Msg {
	var out []tea.Msg
	for _, r := range s {
		out = append(out, tea.KeyPressMsg{Code: r, Text: string(r)})
	}
	return out
}

// screen is the current frame without styles.
func screen(m *Model) string {
	return ansi.Strip(m.View().Content)
}

func mustContain(t *testing.T, m *Model, parts ...string) {
	t.Helper()
	s := screen(m)
	for _, p := range parts {
		if !strings.Contains(s, p) {
			t.Fatalf("screen lacks %q:\n%s", p, s)
		}
	}
}

// shortTemp is a temporary directory with a short path, so that paths fit on an 80-column screen.
func shortTemp(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "dr")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}
