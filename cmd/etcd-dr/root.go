package main

import (
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strconv"
	"strings"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/etcd-dr/etcd-dr/engine"
	"github.com/etcd-dr/etcd-dr/engine/progress"
	"github.com/etcd-dr/etcd-dr/engine/textsafe"
)

// globalOptions are the flags every verb shares.
type globalOptions struct {
	store   string
	stores  []string // every --store given, for the TUI (see tui.go)
	cluster string   // --cluster: one cluster folder of a store that holds several
	// etcd and identity are the root command's etcdctl connection flags and --identity, registered once: the
	// console's live view and --daemon both read them here.
	etcd           etcdOptions
	identity       identityOptions
	console        consoleOptions // the console's --refresh and --max-age (console_flags.go)
	output         string
	nonInteractive bool
	logLevel       string

	stdout, stderr io.Writer
	log            *slog.Logger
	// secrets are the values of credential flags, masked in every message (engine.RedactText).
	secrets []string
}

func newRootCommand(g *globalOptions) *cobra.Command {
	root := &cobra.Command{
		Use:   "etcd-dr",
		Short: "Disaster-recovery console for etcd: find, check, download and restore backups",
		Long: `etcd-dr finds the backups you have (etcd-backup-restore full+delta chains, etcd-operator snapshots),
picks the newest restorable point for your etcd version, checks it, and gets a data directory back.

Exit codes: 0 ok, 1 failed, 2 bad usage or refused input, 3 problems found, 4 nothing compatible.`,
		SilenceUsage:  true,
		SilenceErrors: true,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) > 0 {
				var verbs []string
				for _, c := range cmd.Commands() {
					if c.IsAvailableCommand() {
						verbs = append(verbs, c.Name())
					}
				}
				return usagef("unknown command %q; verbs: %s (see etcd-dr --help)", args[0], strings.Join(verbs, ", "))
			}
			return nil
		},
		PersistentPreRunE: func(cmd *cobra.Command, args []string) error {
			if err := applyEnv(cmd); err != nil {
				return err
			}
			g.secrets = secretValues(cmd)
			return g.complete()
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			return runRoot(cmd, g) // the TUI on a terminal, else this help
		},
	}
	root.SetOut(g.stdout)
	root.SetErr(g.stderr)
	pf := root.PersistentFlags()
	pf.Var(storeFlag{last: &g.store, all: &g.stores}, "store", "backup store URL: file:///dir, s3://bucket/prefix?endpoint=..&region=..&use_path_style=true, gs://, azblob://, mem:// (env ETCD_DR_STORE; repeat to open several in the TUI)")
	pf.StringVar(&g.cluster, "cluster", "", "one cluster folder of the store, as list shows it (a store may hold many clusters' backups; jobs that restore or write need one)")
	bindEnv(pf, "store", "ETCD_DR_STORE")
	pf.StringVarP(&g.output, "output", "o", "text", "output format: text or json")
	pf.BoolVar(&g.nonInteractive, "non-interactive", false, "never prompt; run headless (implied when there is no terminal)")
	pf.StringVar(&g.logLevel, "log-level", "warn", "log level: debug, info, warn, error")
	root.SetFlagErrorFunc(func(cmd *cobra.Command, err error) error {
		return usagef("%v (see %s --help)", err, cmd.CommandPath())
	})
	root.AddCommand(newListCommand(g), newPickCommand(g), newDownloadCommand(g), newValidateCommand(g), newRestoreCommand(g), newInitializeCommand(g), newSnapshotCommand(g), newStatusCommand(g), newDefragCommand(g), newGCCommand(g), newCopyCommand(g), newExporterCommand(g), newCompactCommand(g))
	g.etcd.addFlags(root)
	g.identity.addFlags(root)
	g.console.addFlags(root)
	wizardVerbs(root, g)
	addDaemon(root, g)
	return root
}

// complete checks the global flags before any verb runs.
func (g *globalOptions) complete() error {
	switch g.output {
	case "text", "json":
	default:
		return usagef("--output %q: use text or json", g.output)
	}
	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(g.logLevel)); err != nil {
		return usagef("--log-level %q: use debug, info, warn or error", g.logLevel)
	}
	g.log = slog.New(slog.NewTextHandler(g.stderr, &slog.HandlerOptions{Level: lvl, ReplaceAttr: g.redactAttr}))
	return nil
}

// requireStore returns the --store URL or a usage error that says how to give one.
func (g *globalOptions) requireStore() (string, error) {
	if strings.TrimSpace(g.store) == "" {
		return "", usagef("--store is required (or set ETCD_DR_STORE); supported schemes: file://, s3://, gs://, azblob://, mem://")
	}
	if err := engine.CheckURL(g.store); err != nil {
		return "", err
	}
	return g.store, nil
}

// progress returns where long work reports: a live line on a terminal, JSON lines under --output json, else nothing.
func (g *globalOptions) progress() progress.Reporter {
	if g.output == "json" {
		return progress.JSON{W: g.stderr}
	}
	if f, ok := g.stderr.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		return textProgress{w: g.stderr}
	}
	return nil
}

// redactAttr masks credentials in a log line's string values (slog's ReplaceAttr).
func (g *globalOptions) redactAttr(_ []string, a slog.Attr) slog.Attr {
	switch a.Value.Kind() {
	case slog.KindString:
		a.Value = slog.StringValue(engine.RedactText(a.Value.String(), g.secrets...))
	case slog.KindAny:
		if err, ok := a.Value.Any().(error); ok {
			a.Value = slog.StringValue(engine.RedactText(err.Error(), g.secrets...))
		}
	}
	return a
}

// text is where a verb prints its text output: stdout with control characters of store-derived strings
// (object names, keys, error texts) escaped, so that they cannot drive the terminal. JSON escapes them itself.
func (g *globalOptions) text() io.Writer { return textsafe.NewWriter(g.stdout) }

// textErr is text for stderr.
func (g *globalOptions) textErr() io.Writer { return textsafe.NewWriter(g.stderr) }

func writeJSON(w io.Writer, v any) {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}

// parseRevision reads a --revision value: decimal only (the contract), positive.
func parseRevision(s string) (int64, error) {
	if s == "" {
		return 0, nil
	}
	r, err := strconv.ParseInt(s, 10, 64)
	if err != nil || r <= 0 {
		return 0, usagef("--revision %q: want a positive decimal revision, e.g. --revision 123456", s)
	}
	return r, nil
}

func plural(n int, one, many string) string {
	if n == 1 {
		return fmt.Sprintf("%d %s", n, one)
	}
	return fmt.Sprintf("%d %s", n, many)
}
