package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	tea "charm.land/bubbletea/v2"
	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/etcd-dr/etcd-dr/tui"
)

// The TUI and --store: --store stays one value for every verb (the last one given wins, as before), and the
// root command collects every --store it is given, so `etcd-dr --store A --store B` opens the TUI on both.
// ETCD_DR_STORE is the default when no --store is given.

// storeFlag is the --store flag: it keeps the last value in *last (what verbs use) and all of them in *all.
type storeFlag struct {
	last *string
	all  *[]string
}

func (f storeFlag) String() string { return *f.last }
func (f storeFlag) Type() string   { return "string" }
func (f storeFlag) Set(v string) error {
	*f.last = v
	*f.all = append(*f.all, v)
	return nil
}

// tuiStores are the stores the TUI opens: every --store, else ETCD_DR_STORE.
func (g *globalOptions) tuiStores() []string {
	if len(g.stores) > 0 {
		return g.stores
	}
	if strings.TrimSpace(g.store) != "" {
		return []string{g.store}
	}
	return nil
}

// interactive reports whether the TUI may open: a terminal on both ends and no --non-interactive.
func (g *globalOptions) interactive() bool {
	if g.nonInteractive || os.Getenv("TERM") == "dumb" {
		return false
	}
	out, ok := g.stdout.(*os.File)
	return ok && term.IsTerminal(int(os.Stdin.Fd())) && term.IsTerminal(int(out.Fd()))
}

// runRoot is etcd-dr without a verb: the TUI on a terminal, else the help.
func runRoot(cmd *cobra.Command, g *globalOptions) error {
	if !g.interactive() {
		return cmd.Help()
	}
	return runTUI(cmd.Context(), g, tui.Start{})
}

// wizardVerbs makes pick and download open their wizard (flags pre-filled) when run on a terminal without
// --non-interactive; headless runs are unchanged.
func wizardVerbs(root *cobra.Command, g *globalOptions) {
	for _, c := range root.Commands() {
		switch c.Name() {
		case "pick", "download":
		default:
			continue
		}
		headless := c.RunE
		c.RunE = func(cmd *cobra.Command, args []string) error {
			if !g.interactive() || g.output == "json" {
				return headless(cmd, args)
			}
			if _, err := g.requireStore(); err != nil {
				return err
			}
			s := tui.Start{Screen: cmd.Name()}
			s.EtcdVersion, _ = cmd.Flags().GetString("etcd-version")
			s.Revision, _ = cmd.Flags().GetString("revision")
			if cmd.Flags().Lookup("to") != nil {
				s.To, _ = cmd.Flags().GetString("to")
			}
			return runTUI(cmd.Context(), g, s)
		}
	}
}

// runTUI runs the TUI until the user quits. While it runs, stderr (where SDKs and the logger write) goes to a
// log file, so that nothing scribbles over the screen; the file is named afterwards when something was logged.
func runTUI(ctx context.Context, g *globalOptions, start tui.Start) error {
	stores := g.tuiStores()
	if start.Screen != "" && len(g.stores) > 1 {
		stores = []string{g.store}
	}
	logPath := filepath.Join(os.TempDir(), fmt.Sprintf("etcd-dr-tui-%d.log", os.Getpid()))
	logFile, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		logFile = nil
	}
	stderr := os.Stderr
	if logFile != nil {
		os.Stderr = logFile
		g.log = slog.New(slog.NewTextHandler(logFile, &slog.HandlerOptions{Level: slog.LevelWarn}))
	} else {
		g.log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	m := tui.New(ctx, tui.Config{Stores: stores, Start: start, Validator: tui.EngineValidator{}, Restorer: tui.EngineRestorer{}})
	_, err = tea.NewProgram(m, tea.WithContext(ctx), tea.WithOutput(g.stdout)).Run()
	os.Stderr = stderr
	if logFile != nil {
		if fi, statErr := logFile.Stat(); statErr == nil && fi.Size() > 0 {
			fmt.Fprintf(stderr, "etcd-dr: messages logged while the TUI ran are in %s\n", logPath)
			logFile.Close()
		} else {
			logFile.Close()
			os.Remove(logPath) // our own empty log file
		}
	}
	if err != nil && ctx.Err() != nil {
		return ctx.Err()
	}
	return err
}
