package main

import (
	"context"
	"encoding/json"
	"os"
	"path"
	"path/filepath"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"
	"github.com/stretchr/testify/require"

	"github.com/etcd-dr/etcd-dr/internal/testenv"
	"github.com/etcd-dr/etcd-dr/tui"
	"github.com/etcd-dr/etcd-dr/tui/common"
	"github.com/etcd-dr/etcd-dr/tui/tuitest"
)

// The CLI and the console are two faces of one engine.Repo: on the same store they must give the same pick, the
// same problems and the same refusal of an occupied target. The store is a copy of the etcdbr-v2 fixture, whose
// newest chain has a gap (revisions 104-113), so the answers are not the trivial ones.
func TestFacesAgree(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.CopyFS(dir, os.DirFS(filepath.Join(testenv.Testdata(t), "stores", "etcdbr-v2"))))
	url := "file://" + dir

	t.Run("pick at the gap", func(t *testing.T) {
		_, errs, code := runCLI(t, "pick", "--store", url, "--non-interactive")
		require.Equal(t, 3, code, errs)
		require.Contains(t, errs, "restores only up to revision 103")
		s := consoleScreen(t, url, tui.Start{Screen: "pick"}, nil)
		require.Contains(t, s, "restores only up to revision 103")
		require.Contains(t, errs, "--revision 103")
	})

	t.Run("pick a revision", func(t *testing.T) {
		out, errs, code := runCLI(t, "pick", "--store", url, "--revision", "103", "-o", "json")
		require.Equal(t, 0, code, errs)
		var cli struct {
			Revision int64    `json:"revision"`
			Objects  []string `json:"objects"`
		}
		require.NoError(t, json.Unmarshal([]byte(out), &cli))
		require.Equal(t, int64(103), cli.Revision)
		s := consoleScreen(t, url, tui.Start{Screen: "pick", Revision: "103"}, nil)
		require.Contains(t, s, "✓ restore point: revision 103")
		require.Contains(t, s, common.Plural(len(cli.Objects), "object", "objects")+" in apply order")
		for _, o := range cli.Objects {
			require.Contains(t, s, path.Base(o))
		}
	})

	t.Run("validate", func(t *testing.T) {
		out, errs, code := runCLI(t, "validate", "--store", url, "-o", "json", "--non-interactive")
		require.Equal(t, 3, code, errs)
		var cli struct {
			Problems []struct{ Object, Path, What string } `json:"problems"`
		}
		require.NoError(t, json.Unmarshal([]byte(out), &cli))
		require.NotEmpty(t, cli.Problems)
		// The console validates the newest chain (the one with the gap); the CLI the whole store, whose only
		// problems lie in that chain.
		s := consoleScreen(t, url, tui.Start{Screen: "validate"}, []tea.Msg{tea.KeyPressMsg{Code: tea.KeyEnter}})
		require.Contains(t, s, "✗ "+common.Plural(len(cli.Problems), "problem", "problems")+" found")
		for _, p := range cli.Problems {
			where := p.Object
			if where == "" {
				where = p.Path
			}
			// The console wraps a problem at spaces; read its lines as one text.
			require.Contains(t, strings.ReplaceAll(s, "\n", " "), "✗ "+path.Base(where)+": "+p.What)
		}
	})

	t.Run("occupied target", func(t *testing.T) {
		target := filepath.Join(t.TempDir(), "etcd")
		require.NoError(t, os.MkdirAll(filepath.Join(target, "member"), 0o755))
		_, errs, code := runCLI(t, "restore", "--store", url, "--revision", "103", "--data-dir", target, "--non-interactive")
		require.Equal(t, 2, code, errs)
		require.Contains(t, errs, "is not empty")
		s := consoleScreen(t, url, tui.Start{Screen: "restore", Revision: "103", Restore: common.RestoreRequest{DataDir: target}},
			[]tea.Msg{tea.KeyPressMsg{Code: tea.KeyEnter}})
		require.Contains(t, s, "is not empty")
		require.Contains(t, s, "'move aside'")
		require.NotContains(t, s, "Type restore", "the console asked to confirm a restore into an occupied dir")
		entries, err := os.ReadDir(target)
		require.NoError(t, err)
		require.Len(t, entries, 1, "the occupied target was changed")
	})
}

// consoleScreen opens the console on url at start, sends keys, and returns the settled screen without styles.
// It is wide so that no line of a report wraps.
func consoleScreen(t *testing.T, url string, start tui.Start, keys []tea.Msg) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	nc := true
	m := tui.New(ctx, tui.Config{Stores: []string{url}, Start: start, NoColor: &nc, Refresh: -1,
		Now: func() time.Time { return time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC) }})
	tuitest.Settle(m, tea.WindowSizeMsg{Width: 250, Height: 60})
	tuitest.Settle(m, tuitest.Run(m.Init())...)
	for _, k := range keys {
		tuitest.Settle(m, k)
	}
	return ansi.Strip(m.View().Content)
}
