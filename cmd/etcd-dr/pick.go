package main

import (
	"context"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/etcd-dr/etcd-dr/engine"
	"github.com/etcd-dr/etcd-dr/engine/pick"
)

type pickOptions struct {
	etcdVersion string
	revision    string
}

func (o *pickOptions) addFlags(cmd *cobra.Command) {
	cmd.Flags().StringVar(&o.etcdVersion, "etcd-version", "", "etcd version the backup must restore into (X.Y or X.Y.Z; X.Y backups restore into X.Y and X.Y+1)")
	cmd.Flags().StringVar(&o.revision, "revision", "", "exact revision to restore to (decimal); default: the newest restorable")
}

func (o *pickOptions) request() (engine.PickRequest, error) {
	rev, err := parseRevision(o.revision)
	if err != nil {
		return engine.PickRequest{}, err
	}
	return engine.PickRequest{EtcdVersion: o.etcdVersion, Revision: rev}, nil
}

func newPickCommand(g *globalOptions) *cobra.Command {
	var o pickOptions
	cmd := &cobra.Command{
		Use:   "pick --store URL [--etcd-version X.Y.Z] [--revision R]",
		Short: "Show the newest restorable point that fits, and why newer backups were refused",
		Example: `  etcd-dr pick --store file:///var/etcd-backup/v1/etcd-cluster --etcd-version 3.6.4
  etcd-dr pick --store s3://backups/etcd-main --revision 1234567 -o json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runPick(cmd.Context(), g, o)
		},
	}
	o.addFlags(cmd)
	return cmd
}

// pickErrorJSON is pick's JSON when nothing fits: the error plus every refusal, so scripts see why.
type pickErrorJSON struct {
	Error    string         `json:"error"`
	Hint     string         `json:"hint,omitempty"`
	ExitCode int            `json:"exitCode"`
	Refused  []pick.Refusal `json:"refused"`
	Warnings []string       `json:"warnings,omitempty"`
}

func runPick(ctx context.Context, g *globalOptions, o pickOptions) error {
	req, err := o.request()
	if err != nil {
		return err
	}
	repo, res, err := openPicked(ctx, g, identityOptions{}, req)
	if err != nil {
		return err
	}
	defer repo.Close()
	if g.output == "json" {
		writeJSON(g.stdout, res)
		return nil
	}
	printPick(g.text(), res)
	return nil
}

// reportPickError prints the refusals beside the error: why nothing fits is the answer the SRE needs.
func reportPickError(g *globalOptions, res *pick.Result, err error) error {
	if res == nil {
		return err
	}
	if g.output == "json" {
		refused := res.Refused
		if refused == nil {
			refused = []pick.Refusal{}
		}
		writeJSON(g.stdout, pickErrorJSON{Error: err.Error(), Hint: hint(err), ExitCode: exitCode(err), Refused: refused, Warnings: res.Warnings})
		return reportedError{err}
	}
	printRefusals(g.textErr(), res)
	return err
}

func printPick(w io.Writer, r *pick.Result) {
	fmt.Fprintf(w, "Restore point: revision %d", r.Revision)
	if r.EtcdVersion != "" {
		fmt.Fprintf(w, " (etcd %s)", r.EtcdVersion)
	}
	fmt.Fprintf(w, "\nChain: %s layout, full snapshot at revision %d, %s\n", r.Chain.Layout, r.Chain.Base.EndRevision, plural(len(r.Objects)-1, "delta", "deltas"))
	fmt.Fprintln(w, "Objects, in apply order:")
	for _, s := range r.Snapshots() {
		fmt.Fprintf(w, "  %s  (%s, revisions %d-%d)\n", s.Key, s.Kind, s.StartRevision, s.EndRevision)
	}
	for _, k := range r.Chain.Base.Companions {
		fmt.Fprintf(w, "  %s  (kept beside it by %s)\n", k, r.Chain.Layout)
	}
	printRefusals(w, r)
}

func printRefusals(w io.Writer, r *pick.Result) {
	for _, s := range r.Warnings {
		fmt.Fprintf(w, "warning: %s\n", s)
	}
	if len(r.Refused) > 0 {
		fmt.Fprintln(w, "Refused:")
		for _, f := range r.Refused {
			fmt.Fprintf(w, "  %s: %s\n", f.Key, f.Why)
		}
	}
}
