package main

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/etcd-dr/etcd-dr/engine"
	"github.com/etcd-dr/etcd-dr/engine/download"
	"github.com/etcd-dr/etcd-dr/engine/progress"
)

type downloadOptions struct {
	pick     pickOptions
	to       string
	force    bool
	identity identityOptions
}

func newDownloadCommand(g *globalOptions) *cobra.Command {
	var o downloadOptions
	cmd := &cobra.Command{
		Use:   "download --store URL --to PATH [--etcd-version V] [--revision R]",
		Short: "Download the picked snapshot (or its whole chain) decompressed and hash-verified",
		Long: `Downloads what 'pick' chooses. A lone full snapshot is written to the file --to (ready for
'etcdutl snapshot restore'); a chain with deltas is written into the folder --to, which can itself be used
as a store: --store file://<that folder>. Files appear only when whole and verified.`,
		Example: `  etcd-dr download --store file:///var/etcd-backup/v1/etcd-cluster --to /tmp/snapshot.db
  etcd-dr download --store s3://backups/etcd-main --revision 1234567 --to /tmp/chain`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runDownload(cmd.Context(), g, o)
		},
	}
	o.pick.addFlags(cmd)
	o.identity.addFlags(cmd)
	cmd.Flags().StringVar(&o.to, "to", "", "target file (one snapshot) or folder (a chain)")
	cmd.Flags().BoolVar(&o.force, "force", false, "replace an existing --to file, or write into a non-empty folder")
	return cmd
}

func runDownload(ctx context.Context, g *globalOptions, o downloadOptions) error {
	if o.to == "" {
		return usagef("--to is required: a file for one snapshot, a folder for a chain")
	}
	req, err := o.pick.request()
	if err != nil {
		return err
	}
	repo, res, err := openPicked(ctx, g, o.identity, req)
	if err != nil {
		return err
	}
	defer repo.Close()
	warnPicked(g, res)
	out, err := repo.Download(ctx, engine.DownloadRequest{Point: res, To: o.to, Replace: o.force, Progress: g.progress()})
	if err != nil {
		return err
	}
	if g.output == "json" {
		writeJSON(g.stdout, downloadJSON{Result: out, Warnings: res.Warnings})
		return nil
	}
	fmt.Fprintf(g.text(), "Downloaded revision %d to %s: %s, %s in %.1fs (%s/s), sha256 verified\n", out.Revision, out.Path,
		plural(len(out.Files), "file", "files"), progress.Bytes(out.Bytes), out.Seconds, progress.Bytes(int64(float64(out.Bytes)/max(out.Seconds, 1e-3))))
	for _, f := range out.Files {
		fmt.Fprintf(g.text(), "  %s <- %s\n", f.Path, f.Key)
	}
	return nil
}

// downloadJSON is the contract's download result, with what pick warned about.
type downloadJSON struct {
	*download.Result
	Warnings []string `json:"warnings,omitempty"`
}
