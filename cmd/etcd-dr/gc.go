package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/etcd-dr/etcd-dr/engine"
	"github.com/etcd-dr/etcd-dr/engine/gc"
)

// gcOptions are the retention flags, shared by the gc verb and the daemon.
type gcOptions struct {
	policy                                      string
	maxBackups                                  int
	keepLast, keepHourly, keepDaily, keepWeekly int
	keepMonthly                                 int
}

func (o *gcOptions) addFlags(cmd *cobra.Command, defaultPolicy string) {
	f := cmd.Flags()
	f.StringVar(&o.policy, "gc-policy", defaultPolicy, "retention: limit (--max-backups newest chains), exponential (all of the last hour, newest per hour for a day, per day for a week, per week for 4 weeks) or keep (--keep-*)")
	f.IntVar(&o.maxBackups, "max-backups", 0, "limit: number of newest chains to keep")
	f.IntVar(&o.keepLast, "keep-last", 0, "keep: the N newest chains")
	f.IntVar(&o.keepHourly, "keep-hourly", 0, "keep: the newest chain of each of the last N hours that have one")
	f.IntVar(&o.keepDaily, "keep-daily", 0, "keep: the newest chain of each of the last N days that have one")
	f.IntVar(&o.keepWeekly, "keep-weekly", 0, "keep: the newest chain of each of the last N ISO weeks that have one")
	f.IntVar(&o.keepMonthly, "keep-monthly", 0, "keep: the newest chain of each of the last N months that have one")
}

// config turns the flags into a gc.Config, refusing a policy that means nothing. An empty policy is nil.
func (o *gcOptions) config() (*gc.Config, error) {
	if o.policy == "" {
		return nil, nil
	}
	cfg := gc.Config{Policy: gc.Policy(o.policy), MaxBackups: o.maxBackups, KeepLast: o.keepLast, KeepHourly: o.keepHourly,
		KeepDaily: o.keepDaily, KeepWeekly: o.keepWeekly, KeepMonthly: o.keepMonthly}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return &cfg, nil
}

type gcVerbOptions struct {
	gc     gcOptions
	dryRun bool
}

func newGCCommand(g *globalOptions) *cobra.Command {
	var o gcVerbOptions
	cmd := &cobra.Command{
		Use:   "gc --store URL --gc-policy P [...] [--dry-run]",
		Short: "Delete old backup chains of one store prefix by retention policy (--dry-run shows what would go)",
		Long: `Deletes whole chains (a full snapshot and its deltas) that the retention policy does not keep.
The store prefix is one cluster; on-demand snapshots are ordinary chains. Never deleted: the newest chain,
a delta that a kept full snapshot needs, heartbeats under members/, and any object that is not part of a chain.
Deltas go first (newest first) and the full snapshot last, so an interrupted gc leaves a shorter valid chain.`,
		Example: `  etcd-dr gc --store s3://backups/etcd-main --gc-policy limit --max-backups 24 --dry-run
  etcd-dr gc --store file:///var/etcd-backup --gc-policy keep --keep-last 3 --keep-daily 7 --keep-monthly 12`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runGC(cmd.Context(), g, o)
		},
	}
	o.gc.addFlags(cmd, "")
	cmd.Flags().BoolVar(&o.dryRun, "dry-run", false, "list what would be deleted and why, delete nothing")
	return cmd
}

func runGC(ctx context.Context, g *globalOptions, o gcVerbOptions) error {
	url, err := g.requireStore()
	if err != nil {
		return err
	}
	if o.gc.policy == "" {
		return usagef("--gc-policy is required: limit, exponential or keep")
	}
	cfg, err := o.gc.config()
	if err != nil {
		return err
	}
	repo, err := engine.OpenUnlisted(ctx, url, engine.Options{Logger: g.log, Cluster: g.cluster})
	if err != nil {
		return err
	}
	defer repo.Close()
	p, err := repo.GC(ctx, engine.GCRequest{Policy: *cfg, DryRun: o.dryRun})
	if written, err := writeResult(g, p, err); written {
		return err
	}
	if p != nil {
		printPlan(g, p)
	}
	return err
}

func printPlan(g *globalOptions, p *gc.Plan) {
	objects := 0
	for _, it := range p.Delete {
		objects += len(it.Objects)
	}
	verb := "Deleted"
	if p.DryRun {
		verb = "Would delete"
	}
	fmt.Fprintf(g.text(), "%s %s (%s); keeping %s (policy %s)\n", verb, plural(len(p.Delete), "chain", "chains"), plural(objects, "object", "objects"), plural(len(p.Keep), "chain", "chains"), p.Policy)
	for _, it := range p.Keep {
		fmt.Fprintf(g.text(), "  keep    %s  %s  up to revision %d: %s\n", it.Time.Format("2006-01-02 15:04"), it.Base, it.EndRevision, strings.Join(it.Why, "; "))
	}
	for _, it := range p.Delete {
		fmt.Fprintf(g.text(), "  delete  %s  %s  up to revision %d (%s)\n", it.Time.Format("2006-01-02 15:04"), it.Base, it.EndRevision, plural(len(it.Objects), "object", "objects"))
	}
	for _, it := range p.Unverified {
		fmt.Fprintf(g.text(), "  kept, not counted  %s  %s: %s\n", it.Time.Format("2006-01-02 15:04"), it.Base, strings.Join(it.Why, "; "))
	}
	if len(p.Temp) > 0 {
		tverb := "Removed"
		if p.DryRun {
			tverb = "Would remove"
		}
		fmt.Fprintf(g.text(), "%s %s older than a day (left by killed writers):\n", tverb, plural(len(p.Temp), "temporary object", "temporary objects"))
		for _, k := range p.Temp {
			fmt.Fprintf(g.text(), "  %s\n", k)
		}
	}
	if p.Untouched > 0 {
		fmt.Fprintf(g.text(), "Not considered: %s outside any chain (heartbeats, unrecognised objects, orphans)\n", plural(p.Untouched, "object", "objects"))
	}
	if !p.DryRun && len(p.Deleted) < objects {
		fmt.Fprintf(g.text(), "Only %d of %d objects were deleted\n", len(p.Deleted), objects)
	}
}
