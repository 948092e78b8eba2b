package main

import (
	"context"
	"fmt"
	"io"
	"path"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/etcd-dr/etcd-dr/engine/catalog"
	"github.com/etcd-dr/etcd-dr/engine/members"
	"github.com/etcd-dr/etcd-dr/engine/progress"
)

type listOptions struct{}

func newListCommand(g *globalOptions) *cobra.Command {
	var o listOptions
	return &cobra.Command{
		Use:   "list --store URL",
		Short: "List backup chains, gaps and problems in a store",
		Example: `  etcd-dr list --store file:///var/etcd-backup/v1/etcd-cluster
  etcd-dr list --store 's3://backups/etcd-main?endpoint=https://minio:9000&use_path_style=true' -o json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runList(cmd.Context(), g, o)
		},
	}
}

// listJSON is the contract's list shape.
type listJSON struct {
	Store    string            `json:"store"`
	Chains   []catalog.Chain   `json:"chains"`
	Members  []members.Seen    `json:"members"`
	Problems []catalog.Problem `json:"problems"`
}

func runList(ctx context.Context, g *globalOptions, _ listOptions) error {
	st, cat, err := openCatalog(ctx, g)
	if err != nil {
		return err
	}
	defer st.Close()
	now := time.Now()
	beats, hbProblems := members.ReadHeartbeats(ctx, st, cat.Heartbeats, now)
	if g.output == "json" {
		writeJSON(g.stdout, listJSON{Store: cat.Store, Chains: cat.Chains, Members: beats, Problems: append(cat.Problems, hbProblems...)})
		return nil
	}
	printCatalog(g.text(), cat, now)
	if len(beats) > 0 || len(hbProblems) > 0 {
		fmt.Fprintln(g.text())
		printHeartbeats(g.text(), cat.Store, beats, hbProblems, now)
	}
	return nil
}

// printCatalog renders chains newest last, so the answer to "what is my newest backup" sits above the prompt.
func printCatalog(w io.Writer, cat *catalog.Catalog, now time.Time) {
	fmt.Fprintf(w, "Store %s: %s, %s\n\n", cat.Store, plural(len(cat.Chains), "chain", "chains"), plural(len(cat.Problems), "problem", "problems"))
	if len(cat.Chains) > 0 {
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "#\tLAYOUT\tFULL SNAPSHOT\tDELTAS\tREVISIONS\tRESTORABLE TO\tETCD\tSIZE\tTAKEN")
		for i, ch := range cat.Chains {
			var size int64
			for _, s := range ch.Objects() {
				size += s.Size
			}
			restorable := fmt.Sprint(ch.RestorableRevision)
			if len(ch.Gaps) > 0 {
				restorable += " (GAP)"
			}
			fmt.Fprintf(tw, "%d\t%s\t%s\t%d\t%d-%d\t%s\t%s\t%s\t%s\n", i+1, ch.Layout, ch.Base.Key, len(ch.Deltas),
				ch.Base.EndRevision, ch.EndRevision, restorable, orDash(ch.Base.EtcdVersion), progress.Bytes(size), age(ch.Base.Time, now))
		}
		tw.Flush()
	}
	for i, ch := range cat.Chains {
		for _, p := range ch.Problems {
			fmt.Fprintf(w, "  chain %d (%s): %s\n", i+1, path.Base(ch.Base.Key), p)
		}
		for _, n := range ch.Notes {
			fmt.Fprintf(w, "  chain %d note: %s\n", i+1, n)
		}
	}
	if len(cat.Problems) > 0 {
		fmt.Fprintln(w, "\nObjects not used:")
		for _, p := range cat.Problems {
			fmt.Fprintf(w, "  %s: %s\n", p.Object, p.What)
		}
	}
	if n := cat.Newest(); n != nil {
		fmt.Fprintf(w, "\nNewest restorable revision: %d (chain %s)\n", n.RestorableRevision, path.Base(n.Base.Key))
	}
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// age prints when something happened as an absolute UTC time plus how long ago.
func age(t, now time.Time) string {
	if t.IsZero() {
		return "-"
	}
	d := now.Sub(t).Round(time.Minute)
	ago := ""
	switch {
	case d < time.Minute:
		ago = "just now"
	case d < time.Hour:
		ago = fmt.Sprintf("%dm ago", int(d.Minutes()))
	case d < 48*time.Hour:
		ago = fmt.Sprintf("%dh%02dm ago", int(d.Hours()), int(d.Minutes())%60)
	default:
		ago = fmt.Sprintf("%dd ago", int(d.Hours()/24))
	}
	return t.UTC().Format("2006-01-02 15:04Z") + " (" + ago + ")"
}
