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

	"github.com/etcd-dr/etcd-dr/engine/crypt"
	"github.com/etcd-dr/etcd-dr/tui"
	"github.com/etcd-dr/etcd-dr/tui/common"
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

// tuiStores are the stores the TUI opens: every --store, else ETCD_DR_STORE, else the lines of the stores file
// (storesFile).
func (g *globalOptions) tuiStores() []string {
	if len(g.stores) > 0 {
		return g.stores
	}
	if strings.TrimSpace(g.store) != "" {
		return []string{g.store}
	}
	return readStoresFile(storesFile())
}

// storesFile is $XDG_CONFIG_HOME/etcd-dr/stores (~/.config/etcd-dr/stores): one store URL per line, # comments.
func storesFile() string {
	dir, err := os.UserConfigDir()
	if err != nil {
		return ""
	}
	return filepath.Join(dir, "etcd-dr", "stores")
}

func readStoresFile(path string) []string {
	if path == "" {
		return nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil
	}
	var out []string
	for _, line := range strings.Split(string(b), "\n") {
		line = strings.TrimSpace(line)
		if line != "" && !strings.HasPrefix(line, "#") {
			out = append(out, line)
		}
	}
	return out
}

// interactive reports whether the TUI may open: a terminal on both ends and no --non-interactive.
func (g *globalOptions) interactive() bool {
	if g.nonInteractive || os.Getenv("TERM") == "dumb" {
		return false
	}
	out, ok := g.stdout.(*os.File)
	return ok && term.IsTerminal(int(os.Stdin.Fd())) && term.IsTerminal(int(out.Fd()))
}

// runRoot is etcd-dr without a verb: the TUI on a terminal, else the help. With --endpoints (etcdctl's flags,
// on the root command only) the Members screen also shows the live cluster.
func runRoot(cmd *cobra.Command, g *globalOptions) error {
	if !g.interactive() {
		return cmd.Help()
	}
	var cluster common.ClusterStatus
	if len(g.etcd.endpoints) > 0 {
		conn := g.etcd.config()
		if err := conn.Validate(); err != nil {
			return err
		}
		cluster = tui.EngineCluster{Conn: conn}
	}
	return runTUI(cmd.Context(), cmd, g, tui.Start{}, cluster)
}

// wizardVerbs makes pick, download, validate and restore open their wizard (flags pre-filled) when run on a
// terminal without --non-interactive or -o json; headless runs are unchanged. Options the wizards do not offer
// (restore --lease-ttl, validate --trial-restore or without --store) run headless.
//
// It also gives the root command etcdctl's connection flags, for the Members screen's live view.
func wizardVerbs(root *cobra.Command, g *globalOptions) {
	for _, c := range root.Commands() {
		switch c.Name() {
		case "pick", "download", "validate", "restore":
		default:
			continue
		}
		headless := c.RunE
		c.RunE = func(cmd *cobra.Command, args []string) error {
			f := cmd.Flags()
			str := func(name string) string { v, _ := f.GetString(name); return v }
			if !g.interactive() || g.output == "json" || strings.TrimSpace(g.store) == "" ||
				f.Changed("lease-ttl") || f.Changed("trial-restore") {
				return headless(cmd, args)
			}
			if _, err := g.requireStore(); err != nil {
				return err
			}
			s := tui.Start{Screen: cmd.Name(), EtcdVersion: str("etcd-version"), Revision: str("revision"), To: str("to"), DataDir: str("data-dir")}
			if cmd.Name() == "restore" {
				bump, _ := f.GetUint64("bump-revision")
				compacted, _ := f.GetBool("mark-compacted")
				all, _ := f.GetBool("all-members")
				moveAside, _ := f.GetBool("move-aside")
				s.Restore = common.RestoreRequest{DataDir: s.DataDir, Name: str("name"), InitialCluster: str("initial-cluster"),
					InitialAdvertisePeerURLs: str("initial-advertise-peer-urls"), InitialClusterToken: str("initial-cluster-token"),
					BumpRevision: int64(bump), MarkCompacted: compacted, AllMembers: all, MoveAside: moveAside}
			}
			return runTUI(cmd.Context(), cmd, g, s, nil)
		}
	}
}

// runTUI runs the TUI until the user quits. While it runs, stderr (where SDKs and the logger write) goes to a
// log file, so that nothing scribbles over the screen; the file is named afterwards when something was logged.
func runTUI(ctx context.Context, cmd *cobra.Command, g *globalOptions, start tui.Start, cluster common.ClusterStatus) error {
	// Encrypted backups: the TUI uses an --identity flag when the command has one (the CLI defines it).
	var dec crypt.Decrypter
	if f := cmd.Flags().Lookup("identity"); f != nil && f.Value.String() != "" {
		d, err := crypt.NewDecrypter(f.Value.String())
		if err != nil {
			return err
		}
		dec = d
	}
	stores := g.tuiStores()
	if start.Screen != "" && len(g.stores) > 1 {
		stores = []string{g.store}
	}
	logFile, err := openTUILog()
	logPath := ""
	if err != nil {
		logFile = nil
	} else {
		logPath = logFile.Name()
	}
	stderr := os.Stderr
	if logFile != nil {
		os.Stderr = logFile
		g.log = slog.New(slog.NewTextHandler(logFile, &slog.HandlerOptions{Level: slog.LevelWarn}))
	} else {
		g.log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	m := tui.New(ctx, tui.Config{Stores: stores, Start: start, Cluster: cluster, Decrypt: dec, Refresh: g.console.tuiRefresh(), MaxAge: g.console.maxAge})
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
