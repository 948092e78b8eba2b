package main

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/etcd-dr/etcd-dr/engine"
	"github.com/etcd-dr/etcd-dr/engine/progress"
)

type copyOptions struct {
	to         string
	maxBackups int
	maxAge     time.Duration
	dryRun     bool
	parallel   int
	identity   identityOptions
}

func newCopyCommand(g *globalOptions) *cobra.Command {
	var o copyOptions
	cmd := &cobra.Command{
		Use:   "copy --store SRC --to-store DST [--cluster C] [--max-backups N] [--max-age D] [--dry-run] [--parallel N]",
		Short: "Copy whole backup chains to another store, verified while they stream; re-run to resume",
		Long: `Copies whole chains (a full snapshot, the deltas that continue it, and the files its tool keeps beside
it) from --store to --to-store, newest first, with keys and object metadata unchanged: the target reads as the
source did, by etcd-dr and by the tool that wrote the backups. With --cluster, only that cluster's folder is
copied, kept under the same folder at the target.

Each object is checked while it streams (snapshot sha256 trailer, delta sha256, decompression; with --identity,
decryption) and appears at the target only when it checks out. A corrupt object is reported and not copied, the
rest are (exit 3). Objects already at the target with the same size and checksum are skipped, so a killed copy
is resumed by running it again. Nothing is ever deleted, at either end.`,
		Example: `  etcd-dr copy --store s3://backups/etcd-main --to-store file:///var/etcd-backup/etcd-main --max-backups 2
  etcd-dr copy --store gs://seed-backups --cluster shoot--dev--a --to-store s3://dr-site/seed --dry-run`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runCopy(cmd.Context(), g, o)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.to, "to-store", "", "target store URL (same schemes as --store); must not be --store or a folder inside it")
	f.IntVar(&o.maxBackups, "max-backups", 0, "copy only the N newest chains of each cluster (0 = all)")
	f.DurationVar(&o.maxAge, "max-age", 0, "copy only chains whose newest backup is at most this old, e.g. 24h (0 = any age)")
	f.BoolVar(&o.dryRun, "dry-run", false, "show what would be copied and what is at the target already; write nothing")
	f.IntVar(&o.parallel, "parallel", 4, "objects copied at once")
	o.identity.addFlags(cmd)
	return cmd
}

func runCopy(ctx context.Context, g *globalOptions, o copyOptions) error {
	if o.to == "" {
		return usagef("--to-store is required: the store URL to copy the backups to")
	}
	if o.parallel < 1 {
		return usagef("--parallel %d: want 1 or more objects at once", o.parallel)
	}
	if err := engine.CheckURL(o.to); err != nil {
		return err
	}
	res, err := onRepo(ctx, g, o.identity, func(r *engine.Repo) (*engine.CopyResult, error) {
		return r.Copy(ctx, engine.CopyRequest{To: o.to, MaxBackups: o.maxBackups, MaxAge: o.maxAge, DryRun: o.dryRun,
			Parallel: o.parallel, Progress: g.progress()})
	})
	if written, err := writeResult(g, res, err); written || res == nil {
		return err
	}
	printCopy(g, res)
	return err
}

func printCopy(g *globalOptions, res *engine.CopyResult) {
	w := g.text()
	for _, ob := range res.Objects {
		line := fmt.Sprintf("  %-7s %s (%s)", ob.Result, ob.Key, progress.Bytes(ob.Size))
		if ob.Why != "" {
			line += ": " + ob.Why
		}
		fmt.Fprintln(w, line)
	}
	if res.DryRun {
		fmt.Fprintf(w, "Dry run, %s to %s: %s of %s would be copied, %d at the target already, %d cannot be; nothing written\n",
			res.From, res.To, plural(res.Planned, "object", "objects"), plural(res.Chains, "chain", "chains"), res.Skipped, res.Failed)
		return
	}
	fmt.Fprintf(w, "Copied %s to %s: %d copied (%s in %.1fs, %s/s), %d skipped (already there), %d failed\n",
		plural(res.Chains, "chain", "chains"), res.To, res.Copied, progress.Bytes(res.Bytes), res.Seconds,
		progress.Bytes(int64(float64(res.Bytes)/max(res.Seconds, 1e-3))), res.Skipped, res.Failed)
}
