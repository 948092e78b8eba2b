package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/etcd-dr/etcd-dr/engine"
	"github.com/etcd-dr/etcd-dr/engine/catalog"
	"github.com/etcd-dr/etcd-dr/engine/fault"
	"github.com/etcd-dr/etcd-dr/engine/progress"
	"github.com/etcd-dr/etcd-dr/engine/validate"
)

type validateOptions struct {
	dataDir  string
	trial    bool
	trialDir string
	identity identityOptions
}

func newValidateCommand(g *globalOptions) *cobra.Command {
	var o validateOptions
	cmd := &cobra.Command{
		Use:   "validate (--store URL | --data-dir DIR [--store URL])",
		Short: "Check every backup object in a store, or an etcd data directory",
		Long: `With --store: reads every object of every chain — full snapshots against the sha256 etcd appends, deltas
against their sha256 trailer, their events decoded with revisions inside the name's range — and reports gaps.
With --data-dir: checks the layout, the WAL (every record's CRC), snap files, bbolt consistency, the revision
and the cluster and member ids; with --store too, compares the revision with the newest backup.
Exit 3 when anything is wrong.`,
		Example: `  etcd-dr validate --store s3://backups/etcd-main
  etcd-dr validate --data-dir /var/lib/etcd --store s3://backups/etcd-main -o json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runValidate(cmd.Context(), g, o)
		},
	}
	cmd.Flags().StringVar(&o.dataDir, "data-dir", "", "etcd data directory to check (read only; etcd may run on it, its db is then reported locked)")
	cmd.Flags().BoolVar(&o.trial, "trial-restore", false, "with --store: also restore the newest restorable revision into a temporary folder, validate that data dir, and remove it")
	o.identity.addFlags(cmd)
	cmd.Flags().StringVar(&o.trialDir, "trial-dir", "", "folder for the trial restore (default: the system's temporary folder)")
	return cmd
}

func runValidate(ctx context.Context, g *globalOptions, o validateOptions) error {
	if o.dataDir != "" {
		return runValidateDataDir(ctx, g, o)
	}
	if strings.TrimSpace(g.store) == "" {
		return usagef("validate needs --store URL (check the backups) or --data-dir DIR (check a data directory)")
	}
	repo, err := openRepo(ctx, g, o.identity)
	if err != nil {
		return err
	}
	defer repo.Close()
	rep, err := repo.ValidateBackups(ctx, engine.ValidateBackupsRequest{TrialRestore: o.trial, TrialDir: o.trialDir, Progress: g.progress()})
	if err != nil {
		return err
	}
	if g.output == "json" {
		writeJSON(g.stdout, rep)
	} else {
		printClusterChecks(g.text(), rep.Clusters)
		printStoreReport(g.text(), rep.StoreReport)
	}
	if !rep.OK {
		return problemsFound(g, fault.Problems("%s in %s", plural(len(rep.Problems), "problem", "problems"), rep.Store))
	}
	return nil
}

func runValidateDataDir(ctx context.Context, g *globalOptions, o validateOptions) error {
	rep := engine.ValidateDataDirAlone(o.dataDir)
	if strings.TrimSpace(g.store) != "" {
		repo, err := openRepo(ctx, g, identityOptions{})
		if err != nil {
			return err
		}
		rep, err = repo.ValidateDataDir(o.dataDir)
		repo.Close()
		if err != nil {
			return err
		}
	}
	if g.output == "json" {
		writeJSON(g.stdout, rep)
	} else {
		printDataDirReport(g.text(), rep)
	}
	switch {
	case rep.Missing:
		return problemsFound(g, fault.Problems("no data dir at %s", rep.Path))
	case !rep.OK:
		return problemsFound(g, fault.Problems("%s in data dir %s", plural(len(rep.Problems), "problem", "problems"), rep.Path))
	}
	return nil
}

// problemsFound returns err for main to print under text output; the JSON report already carries it.
func problemsFound(g *globalOptions, err error) error {
	if g.output == "json" {
		return reportedError{err}
	}
	return err
}

func printStoreReport(w io.Writer, r *validate.StoreReport) {
	fmt.Fprintf(w, "Store %s: %s, %s checked\n\n", r.Store, plural(r.Chains, "chain", "chains"), plural(len(r.Objects), "object", "objects"))
	if len(r.Objects) > 0 {
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "OBJECT\tKIND\tREVISIONS\tSIZE\tEVENTS\tRESULT")
		for _, o := range r.Objects {
			result := "ok"
			if !o.OK {
				result = "PROBLEM"
			}
			events := "-"
			if o.Kind == catalog.Delta {
				events = fmt.Sprint(o.Events)
			}
			fmt.Fprintf(tw, "%s\t%s\t%d-%d\t%s\t%s\t%s\n", o.Object, o.Kind, o.StartRevision, o.EndRevision, progress.Bytes(o.Bytes), events, result)
		}
		tw.Flush()
	}
	if t := r.Trial; t != nil && t.OK {
		fmt.Fprintf(w, "\nTrial restore of revision %d: ok (%.1fs; restored, validated, removed)\n", t.Revision, t.Seconds)
	}
	printProblems(w, r.Problems, r.Warnings)
	if r.OK {
		fmt.Fprintln(w, "\nAll backups check out.")
	}
}

func printDataDirReport(w io.Writer, r *validate.DataDirReport) {
	if r.Missing {
		fmt.Fprintf(w, "Data dir %s: missing (no data dir, or an empty folder): restore one with 'etcd-dr restore' or 'etcd-dr initialize'\n", r.Path)
		return
	}
	fmt.Fprintf(w, "Data dir %s\n", r.Path)
	fmt.Fprintf(w, "  revision %d (compacted at %d), consistent index %d, db %s\n", r.Revision, r.CompactRevision, r.ConsistentIndex, progress.Bytes(r.DBSize))
	fmt.Fprintf(w, "  cluster %s, member %s, members %s\n", orDash(r.ClusterID), orDash(r.MemberID), orDash(strings.Join(r.Members, ",")))
	fmt.Fprintf(w, "  WAL: %s, commit index %d; raft snapshot index %d\n", plural(r.WALFiles, "file", "files"), r.WALCommit, r.SnapIndex)
	if r.StoreRevision > 0 {
		fmt.Fprintf(w, "  newest backup in the store: revision %d\n", r.StoreRevision)
	}
	printProblems(w, r.Problems, r.Warnings)
	if r.OK {
		fmt.Fprintln(w, "\nData dir checks out.")
	}
}

// printClusterChecks prints one line per cluster of a store that holds several.
func printClusterChecks(w io.Writer, checks []engine.ClusterCheck) {
	for _, c := range checks {
		verdict := "ok"
		if !c.OK {
			verdict = plural(c.Problems, "problem", "problems")
		}
		fmt.Fprintf(w, "cluster %s: %s, %s checked: %s\n", clusterName(c.Cluster), plural(c.Chains, "chain", "chains"), plural(c.Objects, "object", "objects"), verdict)
	}
	if len(checks) > 0 {
		fmt.Fprintln(w)
	}
}

func printProblems(w io.Writer, problems []validate.Problem, warnings []string) {
	if len(problems) > 0 {
		fmt.Fprintln(w, "\nProblems:")
		for _, p := range problems {
			where := p.Object
			if where == "" {
				where = p.Path
			}
			fmt.Fprintf(w, "  %s: %s\n", where, p.What)
		}
	}
	for _, s := range warnings {
		fmt.Fprintf(w, "warning: %s\n", s)
	}
}
