package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"

	"github.com/etcd-dr/etcd-dr/engine/defrag"
	"github.com/etcd-dr/etcd-dr/engine/progress"
)

type defragOptions struct {
	etcd       etcdOptions
	dryRun     bool
	timeout    time.Duration
	healthWait time.Duration
}

func newDefragCommand(g *globalOptions) *cobra.Command {
	var o defragOptions
	cmd := &cobra.Command{
		Use:   "defrag --endpoints E [--dry-run]",
		Short: "Rolling defragmentation: followers one at a time, the leader last, only when every member is healthy",
		Long: `defrag gives back the free pages of every member's db, one member at a time: the followers first (each must
be healthy again before the next), the leader last. It runs only when every member is reachable and healthy,
no alarm is raised and a leader exists; it stops at the first failure and says where. --dry-run checks the
cluster and shows the order.

Exit codes: 0 done, 1 stopped part way (the message names the member), 2 refused before anything was touched.`,
		Example: `  etcd-dr defrag --endpoints http://10.0.0.1:2379,http://10.0.0.2:2379,http://10.0.0.3:2379 --dry-run
  etcd-dr defrag --endpoints https://etcd-0:2379 --cacert ca.pem --cert client.pem --key client-key.pem`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runDefrag(cmd.Context(), g, o)
		},
	}
	o.etcd.addFlags(cmd)
	f := cmd.Flags()
	f.BoolVar(&o.dryRun, "dry-run", false, "check the cluster and show the order; defragment nothing")
	f.DurationVar(&o.timeout, "timeout", 5*time.Second, "how long each member may take to answer a status or health check")
	f.DurationVar(&o.healthWait, "health-wait", 2*time.Minute, "how long a defragmented member may take to be healthy again")
	return cmd
}

func runDefrag(ctx context.Context, g *globalOptions, o defragOptions) error {
	if o.timeout <= 0 || o.healthWait <= 0 {
		return usagef("--timeout and --health-wait want positive durations, e.g. --timeout 5s --health-wait 2m")
	}
	cfg := defrag.Config{Conn: o.etcd.config(), Timeout: o.timeout, HealthWait: o.healthWait, DryRun: o.dryRun, Log: g.log}
	if g.output != "json" {
		cfg.OnStep = func(s defrag.Step) { printStep(g.text(), s) }
	}
	rep, err := defrag.Run(ctx, cfg)
	if written, err := writeResult(g, rep, err); written || g.output == "json" {
		return err
	}
	if rep != nil {
		printDefrag(g.text(), rep, err)
	}
	return err
}

func role(leader bool) string {
	if leader {
		return "leader"
	}
	return "follower"
}

func printStep(w io.Writer, s defrag.Step) {
	if !s.Done && s.Error == "" {
		fmt.Fprintf(w, "defragmenting %s (%s, %s) db %s ...\n", s.Member, role(s.Leader), s.Endpoint, progress.Bytes(s.SizeBefore))
		return
	}
	if s.Error != "" {
		fmt.Fprintf(w, "  %s FAILED after %.1fs: %s\n", s.Member, s.Seconds, s.Error)
		return
	}
	fmt.Fprintf(w, "  %s done in %.1fs: %s -> %s\n", s.Member, s.Seconds, progress.Bytes(s.SizeBefore), progress.Bytes(s.SizeAfter))
}

func printDefrag(w io.Writer, rep *defrag.Report, err error) {
	if rep.DryRun {
		if err != nil {
			fmt.Fprintf(w, "Dry run: the cluster is not ready; the order would be:\n")
		} else {
			fmt.Fprintf(w, "Dry run: the cluster is ready; defrag would go in this order:\n")
		}
		for i, name := range rep.Order {
			note := ""
			if err == nil && i == len(rep.Order)-1 {
				note = " (leader, last)"
			}
			fmt.Fprintf(w, "  %d. %s%s\n", i+1, name, note)
		}
		fmt.Fprintf(w, "Total db size now: %s\n", progress.Bytes(rep.SizeBefore))
		return
	}
	if len(rep.Steps) == 0 {
		return // refused: the error says why
	}
	fmt.Fprintf(w, "Total db size: %s -> %s (reclaimed %s)\n", progress.Bytes(rep.SizeBefore), progress.Bytes(rep.SizeAfter), progress.Bytes(max(rep.Reclaimed, 0)))
}
