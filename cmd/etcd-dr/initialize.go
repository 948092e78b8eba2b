package main

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/etcd-dr/etcd-dr/engine"
	"github.com/etcd-dr/etcd-dr/engine/restore"
)

func newInitializeCommand(g *globalOptions) *cobra.Command {
	var o restoreOptions
	cmd := &cobra.Command{
		Use:   "initialize --store URL --data-dir DIR",
		Short: "Validate a data dir; restore it from the store only if it is missing (or invalid, with --move-aside)",
		Long: `Validates --data-dir as 'validate --data-dir --store' does. A valid data dir is left alone (exit 0); a missing
or empty one is restored as 'restore' would; an invalid one (damaged, or older than the newest backup) is refused
with exit 3 unless --move-aside, which renames it to <dir>.broken-<timestamp> and restores. Nothing is deleted.`,
		Example: `  etcd-dr initialize --store s3://backups/etcd-main --data-dir /var/lib/etcd --name m0 \
      --initial-cluster m0=https://10.0.0.1:2380 --initial-advertise-peer-urls https://10.0.0.1:2380`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runInitialize(cmd.Context(), g, o)
		},
	}
	o.addFlags(cmd)
	return cmd
}

func runInitialize(ctx context.Context, g *globalOptions, o restoreOptions) error {
	req, cfg, err := o.requests(g)
	if err != nil {
		return err
	}
	var store string // the store as the catalog names it (redacted), for the text output
	res, err := onRepo(ctx, g, o.identity, func(r *engine.Repo) (*restore.InitResult, error) {
		store = r.Catalog().Store
		return r.Initialize(ctx, engine.InitializeRequest{Pick: req, Config: cfg})
	})
	if written, err := writeResult(g, res, err); written {
		return err
	}
	if err != nil {
		if res != nil && res.Validation != nil && !res.Validation.Missing {
			printDataDirReport(g.textErr(), res.Validation)
		}
		return err
	}
	switch res.Action {
	case restore.ActionNone:
		fmt.Fprintf(g.text(), "Data dir %s is valid (revision %d); nothing to do.\n", res.Validation.Path, res.Validation.Revision)
	default:
		if res.Validation.Missing {
			fmt.Fprintf(g.text(), "Data dir %s was missing; restored it from %s.\n", res.Validation.Path, store)
		} else {
			fmt.Fprintf(g.text(), "Data dir %s was not valid; moved it aside and restored it from %s.\n", res.Validation.Path, store)
		}
		printRestore(g.text(), res.Restore, o)
	}
	return nil
}
