package main

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/etcd-dr/etcd-dr/engine"
	"github.com/etcd-dr/etcd-dr/engine/catalog"
	"github.com/etcd-dr/etcd-dr/engine/restore"
)

type restoreOptions struct {
	pick           pickOptions
	dataDir        string
	name           string
	initialCluster string
	peerURLs       string
	token          string
	allMembers     bool
	bumpRevision   uint64
	markCompacted  bool
	moveAside      bool
	leaseTTL       int64
	identity       identityOptions
}

func (o *restoreOptions) addFlags(cmd *cobra.Command) {
	o.pick.addFlags(cmd)
	o.identity.addFlags(cmd)
	f := cmd.Flags()
	f.StringVar(&o.dataDir, "data-dir", "", "data directory to create (must not exist or be empty; see --move-aside)")
	f.StringVar(&o.name, "name", "", "member name, as etcd's --name (default \"default\")")
	f.StringVar(&o.initialCluster, "initial-cluster", "", "initial cluster, name=peerURL,... (default <name>=<peer URL>)")
	f.StringVar(&o.peerURLs, "initial-advertise-peer-urls", "", "this member's peer URLs, comma-separated (default http://localhost:2380)")
	f.StringVar(&o.token, "initial-cluster-token", "", "initial cluster token (default \"etcd-cluster\")")
	f.BoolVar(&o.allMembers, "all-members", false, "write a data dir for every member of --initial-cluster, as <data-dir>/<name>.etcd, from one replay")
	f.Uint64Var(&o.bumpRevision, "bump-revision", 0, "raise the restored revision by this much (with --mark-compacted), so watchers never see revisions go back")
	f.BoolVar(&o.markCompacted, "mark-compacted", false, "mark the restored revision compacted (with --bump-revision): watchers re-list instead of missing events")
	f.BoolVar(&o.moveAside, "move-aside", false, "rename an existing non-empty --data-dir to <dir>.broken-<timestamp> once the restore is ready")
	f.Int64Var(&o.leaseTTL, "lease-ttl", restore.DefaultLeaseTTL, "TTL in seconds for leases the deltas use but the full snapshot does not hold (deltas record no TTL)")
}

// requests turns the flags into what restore and initialize both ask the engine: the restore point and the
// restore's settings, checked before anything is opened.
func (o *restoreOptions) requests(g *globalOptions) (engine.PickRequest, restore.Config, error) {
	req, err := o.pick.request()
	if err != nil {
		return req, restore.Config{}, err
	}
	cfg, err := o.config(g)
	if err != nil {
		return req, cfg, err
	}
	// The engine's settings rule (membership, revision bump) before the store is opened.
	return req, cfg, engine.CheckRestoreSettings(cfg)
}

// config turns the flags into the engine's Config.
func (o *restoreOptions) config(g *globalOptions) (restore.Config, error) {
	if strings.TrimSpace(o.dataDir) == "" {
		return restore.Config{}, usagef("--data-dir is required: the new etcd data directory to create")
	}
	if o.allMembers && o.name != "" {
		return restore.Config{}, usagef("--all-members writes every member of --initial-cluster; drop --name (or drop --all-members to write only --name's data dir)")
	}
	cfg := restore.Config{
		DataDir:       o.dataDir,
		Cluster:       restore.Cluster{Name: o.name, InitialCluster: o.initialCluster, Token: o.token},
		AllMembers:    o.allMembers,
		BumpRevision:  o.bumpRevision,
		MarkCompacted: o.markCompacted,
		MoveAside:     o.moveAside,
		LeaseTTL:      o.leaseTTL,
		Progress:      g.progress(),
	}
	if o.peerURLs != "" {
		cfg.Cluster.PeerURLs = strings.Split(o.peerURLs, ",")
	}
	return cfg, nil
}

func newRestoreCommand(g *globalOptions) *cobra.Command {
	var o restoreOptions
	cmd := &cobra.Command{
		Use:   "restore --store URL --data-dir DIR [--revision R] [--etcd-version V] [--name N --initial-cluster C --initial-advertise-peer-urls U --initial-cluster-token T] [--bump-revision N --mark-compacted] [--move-aside]",
		Short: "Restore the picked backup into a new data directory, deltas replayed to the exact revision",
		Long: `Restores what 'pick' chooses: the full snapshot through etcdutl's restore, then every delta applied once,
one transaction per source revision, each checked against the revision, create revision and version the source
recorded. The data dir is made in a temporary folder beside --data-dir (inside it, when it is an existing empty
folder such as a mount point) and moved into place only when complete and checked: a failed restore leaves no
--data-dir. An existing non-empty --data-dir is refused unless
--move-aside. Restoring a cluster that serves Kubernetes: add --bump-revision 1000000000 --mark-compacted.`,
		Example: `  etcd-dr restore --store file:///var/etcd-backup/v1/etcd-cluster --data-dir /var/lib/etcd
  etcd-dr restore --store s3://backups/etcd-main --revision 1234567 --data-dir /var/lib/etcd --move-aside
  etcd-dr restore --store s3://backups/etcd-main --data-dir /tmp/restore --all-members \
      --initial-cluster m0=https://10.0.0.1:2380,m1=https://10.0.0.2:2380,m2=https://10.0.0.3:2380`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runRestore(cmd.Context(), g, o)
		},
	}
	o.addFlags(cmd)
	return cmd
}

func runRestore(ctx context.Context, g *globalOptions, o restoreOptions) error {
	req, cfg, err := o.requests(g)
	if err != nil {
		return err
	}
	if err := engine.CheckTarget(cfg.DataDir, cfg.MoveAside); err != nil {
		return err
	}
	repo, res, err := openPicked(ctx, g, o.identity, req)
	if err != nil {
		return err
	}
	defer repo.Close()
	warnPicked(g, res)
	out, err := repo.Restore(ctx, engine.RestoreRequest{Point: res, Config: cfg})
	if err != nil {
		return err
	}
	out.Notes = append(out.Notes, catalog.CompanionNotes(res.Chain.Base, repo.URL())...)
	if g.output == "json" {
		writeJSON(g.stdout, restoreJSON{Result: out, Warnings: res.Warnings})
		return nil
	}
	printRestore(g.text(), out, o)
	return nil
}

// restoreJSON is the contract's restore result, with what pick warned about.
type restoreJSON struct {
	*restore.Result
	Warnings []string `json:"warnings,omitempty"`
}

func printRestore(w io.Writer, r *restore.Result, o restoreOptions) {
	fmt.Fprintf(w, "Restored revision %d into %s in %.1fs: full snapshot %s", r.Revision, r.DataDir, r.Seconds, r.FullSnapshot)
	if r.DeltasApplied > 0 {
		fmt.Fprintf(w, " + %s (%d events", plural(r.DeltasApplied, "delta", "deltas"), r.EventsApplied)
		if r.EventsSkipped > 0 {
			fmt.Fprintf(w, ", %d overlapping events skipped", r.EventsSkipped)
		}
		fmt.Fprint(w, ")")
	}
	if r.Keys != nil {
		fmt.Fprintf(w, ", %s", plural(int(*r.Keys), "key", "keys"))
	}
	fmt.Fprintln(w, ", checked.")
	if r.ServedRevision != r.Revision {
		fmt.Fprintf(w, "Revision bumped to %d and marked compacted.\n", r.ServedRevision)
	}
	if r.MovedAside != "" {
		fmt.Fprintf(w, "The previous data dir was moved aside to %s (nothing was deleted).\n", r.MovedAside)
	}
	for _, n := range r.Notes {
		fmt.Fprintf(w, "note: %s\n", n)
	}
	fmt.Fprintln(w, "Start etcd with:")
	for _, m := range r.Members {
		fmt.Fprintf(w, "  %s: --name %s --data-dir %s --initial-advertise-peer-urls %s\n", m.Name, m.Name, m.DataDir, strings.Join(m.PeerURLs, ","))
	}
	if o.bumpRevision == 0 {
		fmt.Fprintln(w, "If this cluster serves Kubernetes, restore with --bump-revision 1000000000 --mark-compacted instead, so watchers do not see revisions go back.")
	}
}
