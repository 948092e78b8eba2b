package main

import (
	"context"
	"fmt"
	"io"
	"path"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/etcd-dr/etcd-dr/engine"
	"github.com/etcd-dr/etcd-dr/engine/catalog"
	"github.com/etcd-dr/etcd-dr/engine/fault"
	"github.com/etcd-dr/etcd-dr/engine/heartbeat"
	"github.com/etcd-dr/etcd-dr/engine/progress"
)

type listOptions struct {
	maxAge time.Duration
}

func newListCommand(g *globalOptions) *cobra.Command {
	var o listOptions
	cmd := &cobra.Command{
		Use:   "list --store URL [--cluster C] [--max-age D]",
		Short: "List backup chains, gaps and problems in a store, per cluster",
		Long: `Lists what the store holds, read from the store itself: every cluster (a store root may hold many clusters'
backups, one folder each), then the chains of each (full snapshot + deltas), gaps, problems and the backup
daemons' heartbeats. --max-age marks every cluster whose newest backup is older and exits 3 if any is: a
freshness check for cron jobs and alerts.`,
		Example: `  etcd-dr list --store file:///var/etcd-backup/v1/etcd-cluster
  etcd-dr list --store 's3://backups/etcd-main?endpoint=https://minio:9000&use_path_style=true' -o json
  etcd-dr list --store s3://seed-backups --max-age 2h     # exit 3 when any cluster's newest backup is older`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runList(cmd.Context(), g, o)
		},
	}
	cmd.Flags().DurationVar(&o.maxAge, "max-age", 0, "mark clusters whose newest backup is older than this (e.g. 2h) and exit 3 if any is")
	return cmd
}

// listJSON is the contract's list shape.
type listJSON struct {
	Store    string                 `json:"store"`
	Clusters []engine.ClusterHealth `json:"clusters"`
	Chains   []catalog.Chain        `json:"chains"`
	Members  []heartbeat.Seen       `json:"members"`
	Problems []catalog.Problem      `json:"problems"`
}

func runList(ctx context.Context, g *globalOptions, o listOptions) error {
	if o.maxAge < 0 {
		return usagef("--max-age %s: want a positive duration, e.g. 2h", o.maxAge)
	}
	repo, err := openRepo(ctx, g, identityOptions{})
	if err != nil {
		return err
	}
	defer repo.Close()
	if err := repo.ReadExcludeTags(ctx); err != nil {
		return err
	}
	cat := repo.Catalog()
	now := time.Now()
	health, beats, hbProblems := repo.Health(ctx, now, o.maxAge)
	if g.output == "json" {
		writeJSON(g.stdout, listJSON{Store: cat.Store, Clusters: health, Chains: cat.Chains, Members: beats, Problems: append(cat.Problems, hbProblems...)})
	} else {
		if len(health) > 1 || o.maxAge > 0 {
			printClusters(g.text(), cat.Store, health, now, o.maxAge)
		}
		printCatalog(g.text(), cat, now)
		if len(beats) > 0 || len(hbProblems) > 0 {
			fmt.Fprintln(g.text())
			printHeartbeats(g.text(), cat.Store, beats, hbProblems, now)
		}
	}
	var old []string
	for _, h := range health {
		if h.TooOld {
			old = append(old, clusterName(h.Cluster))
		}
	}
	if len(old) > 0 {
		return problemsFound(g, fault.Problems("%s older than %s: %s", plural(len(old), "cluster's newest backup is", "clusters' newest backups are"), o.maxAge, strings.Join(old, ", ")))
	}
	return nil
}

// printClusters prints one row per cluster, worst first, before the chains.
func printClusters(w io.Writer, store string, health []engine.ClusterHealth, now time.Time, maxAge time.Duration) {
	fmt.Fprintf(w, "Store %s: %s\n\n", store, plural(len(health), "cluster", "clusters"))
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "CLUSTER\tLAYOUT\tCHAINS\tRESTORABLE TO\tGAPS\tPROBLEMS\tLEADER\tLAST BACKUP")
	for _, h := range health {
		last := age(h.LastBackup, now)
		if h.TooOld {
			last += fmt.Sprintf(" OLDER THAN %s", maxAge)
		}
		restorable := fmt.Sprint(h.RestorableRevision)
		switch {
		case h.RevisionOnDemand && h.RestorableRevision == 0:
			restorable = "on demand"
		case h.RevisionOnDemand:
			restorable += "+ (newer on demand)"
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%d\t%d\t%s\t%s\n", clusterName(h.Cluster), h.Layout, h.Chains, restorable, h.Gaps, h.Problems, orDash(h.Leader), last)
	}
	tw.Flush()
	fmt.Fprintln(w)
}

// clusterName shows the store's own cluster ("") as "." so that it can be told from a missing value.
func clusterName(c string) string {
	if c == "" {
		return "."
	}
	return c
}

// printCatalog renders chains newest last, so the answer to "what is my newest backup" sits above the prompt.
func printCatalog(w io.Writer, cat *catalog.Catalog, now time.Time) {
	fmt.Fprintf(w, "Store %s: %s, %s\n\n", cat.Store, plural(len(cat.Chains), "chain", "chains"), plural(len(cat.Problems), "problem", "problems"))
	if len(cat.Chains) > 0 {
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		const header = "#\tLAYOUT\tFULL SNAPSHOT\tDELTAS\tREVISIONS\tRESTORABLE TO\tETCD\tSIZE\tTAKEN"
		many := len(cat.Clusters()) > 1
		if !many {
			fmt.Fprintln(tw, header)
		}
		for i, ch := range cat.Chains {
			if many && (i == 0 || cat.Chains[i-1].Cluster != ch.Cluster) {
				// A line without cells ends tabwriter's column block: each cluster is a table of its own.
				fmt.Fprintf(tw, "Cluster %s:\n%s\n", clusterName(ch.Cluster), header)
			}
			var size int64
			for _, s := range ch.Objects() {
				size += s.Size
			}
			restorable := fmt.Sprint(ch.RestorableRevision)
			if len(ch.Gaps) > 0 {
				restorable += " (GAP)"
			}
			revs := fmt.Sprintf("%d-%d", ch.Base.EndRevision, ch.EndRevision)
			if ch.Base.RevisionOnDemand { // compressed, another tool's: read only when picked
				revs, restorable = "on demand", "on demand"
			}
			key := ch.Base.Key
			if ch.Base.Node != "" { // k3s/rke2: the node that took it
				key += " (node " + ch.Base.Node + ")"
			}
			fmt.Fprintf(tw, "%d\t%s\t%s\t%d\t%s\t%s\t%s\t%s\t%s\n", i+1, ch.Layout, key, len(ch.Deltas),
				revs, restorable, orDash(ch.Base.EtcdVersion), progress.Bytes(size), age(ch.Base.Time, now))
		}
		tw.Flush()
	}
	for i, ch := range cat.Chains {
		for _, p := range ch.Problems {
			fmt.Fprintf(w, "  chain %d (%s): %s\n", i+1, path.Base(ch.Base.Key), p)
		}
		if ch.Base.Excluded != "" {
			fmt.Fprintf(w, "  chain %d excluded, never picked: %s\n", i+1, ch.Base.Excluded)
		}
		if ch.Base.Warning != "" {
			fmt.Fprintf(w, "  chain %d warning: %s\n", i+1, ch.Base.Warning)
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
	if len(cat.Clusters()) == 1 {
		fmt.Fprintf(w, "\nNewest restorable revision: %s\n", newestText(cat))
	}
}

// newestText is the newest restorable revision of a one-cluster catalog, or "on demand" when its newest backup
// is a compressed or encrypted snapshot of another tool not read to list (pick reads it).
func newestText(cat *catalog.Catalog) string {
	n := catalog.NewestRestorable(cat)
	for _, h := range engine.Health(cat, nil, time.Now(), 0) {
		switch {
		case h.Cluster != cat.Clusters()[0] || !h.RevisionOnDemand:
		case n == 0:
			return "on demand (read from the newest snapshot when picked)"
		default:
			return fmt.Sprintf("%d or newer (the newest snapshot's revision is read when picked)", n)
		}
	}
	return fmt.Sprint(n)
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
