package main

import (
	"context"
	"fmt"
	"os"
	"runtime/debug"
	"time"

	"github.com/spf13/cobra"

	"github.com/etcd-dr/etcd-dr/engine"
	"github.com/etcd-dr/etcd-dr/engine/catalog"
	"github.com/etcd-dr/etcd-dr/engine/crypt"
	"github.com/etcd-dr/etcd-dr/engine/etcdconn"
	"github.com/etcd-dr/etcd-dr/engine/fault"
	"github.com/etcd-dr/etcd-dr/engine/format"
	"github.com/etcd-dr/etcd-dr/engine/heartbeat"
	"github.com/etcd-dr/etcd-dr/engine/progress"
	"github.com/etcd-dr/etcd-dr/engine/snapshot"
)

// writeOptions are how new backup objects are written: shared by the snapshot verb and the daemon.
type writeOptions struct {
	compression  string
	encrypt      encryptOptions
	tempDir      string
	stallTimeout time.Duration
}

func (o *writeOptions) addFlags(cmd *cobra.Command) {
	f := cmd.Flags()
	f.StringVar(&o.compression, "compression", "gzip", "compression of new objects: gzip (readable by etcd-backup-restore), zstd or none")
	f.StringVar(&o.tempDir, "temp-dir", "", "folder for the plain copy of a full snapshot while it streams (needs room for one db; default the system temp dir)")
	f.DurationVar(&o.stallTimeout, "stall-timeout", snapshot.DefaultStallTimeout, "give up a snapshot stream (etcd or store) only after it made no progress for this long")
	o.encrypt.addFlags(cmd)
}

// open opens etcd (the first endpoint only: the revision read and the snapshot must come from one member) and
// the store for writing, and returns the snapshot configuration over them. closeAll releases both.
// dec opens encrypted objects the writer reads back (the daemon's /v1/backup); nil refuses them.
func (o *writeOptions) open(ctx context.Context, g *globalOptions, e etcdOptions, dec crypt.Decrypter) (cfg snapshot.Config, repo *engine.Repo, closeAll func(), err error) {
	lowMemory()
	url, err := g.requireStore()
	if err != nil {
		return cfg, nil, nil, err
	}
	comp, err := format.ParseCompression(o.compression)
	if err != nil {
		return cfg, nil, nil, usagef("--compression: %v", err)
	}
	enc, err := o.encrypt.encrypter()
	if err != nil {
		return cfg, nil, nil, err
	}
	ec := e.config()
	if err := ec.Validate(); err != nil {
		return cfg, nil, nil, err
	}
	ec.Endpoints = ec.Endpoints[:1]
	cli, err := etcdconn.New(ec)
	if err != nil {
		return cfg, nil, nil, err
	}
	repo, err = engine.OpenUnlisted(ctx, url, engine.Options{Create: true, Cluster: g.cluster, Logger: g.log, Decrypt: dec})
	if err != nil {
		cli.Close()
		return cfg, nil, nil, err
	}
	// A writer never picks a folder of a store of several clusters, nor starts a second cluster beside one.
	if err := repo.CheckWriter(ctx); err != nil {
		repo.Close()
		cli.Close()
		return cfg, nil, nil, err
	}
	st := repo.Store()
	cfg = snapshot.Config{Client: cli, Store: st, Compression: comp, CompressionSet: true, Encrypt: enc,
		TempDir: o.tempDir, StallTimeout: o.stallTimeout, Logger: g.log}
	return cfg, repo, func() { repo.Close(); cli.Close() }, nil
}

type snapshotOptions struct {
	etcd         etcdOptions
	write        writeOptions
	full         bool
	delta        bool
	force        bool
	ignoreDaemon bool
}

func newSnapshotCommand(g *globalOptions) *cobra.Command {
	var o snapshotOptions
	cmd := &cobra.Command{
		Use:   "snapshot --endpoints E --store URL [--full|--delta]",
		Short: "Take one backup now: a full snapshot, or a delta continuing the store's newest chain",
		Long: `Takes one snapshot now, as the daemon would, into an ordinary chain.

--full (the default) streams etcd's snapshot into the store under etcd-backup-restore's v2 name
(v2/Full-00000000-<revision>-<unix time>.gz): the revision is the one inside the snapshot, and its sha256 is
checked before the object becomes visible. It is skipped when etcd's revision equals the newest full snapshot's
(--force takes it anyway).

--delta writes the events since the end of the store's newest chain (v2/Incr-<from>-<to>-<unix time>.gz). When
etcd has compacted those revisions away, a full snapshot is taken instead, so the chain never has a gap.`,
		Example: `  etcd-dr snapshot --endpoints http://127.0.0.1:2379 --store s3://backups/etcd-main
  etcd-dr snapshot --endpoints https://10.0.0.1:2379 --cacert ca.pem --store file:///var/etcd-backup --delta`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runSnapshot(cmd.Context(), g, o)
		},
	}
	o.etcd.addFlags(cmd)
	o.write.addFlags(cmd)
	cmd.Flags().BoolVar(&o.full, "full", false, "take a full snapshot (the default)")
	cmd.Flags().BoolVar(&o.delta, "delta", false, "take a delta snapshot continuing the newest chain")
	cmd.Flags().BoolVar(&o.force, "force", false, "take a full snapshot even when the revision has not changed")
	cmd.Flags().BoolVar(&o.ignoreDaemon, "ignore-daemon", false, "take the snapshot even though a daemon is the backup leader of this store (its next delta may then overlap)")
	return cmd
}

func runSnapshot(ctx context.Context, g *globalOptions, o snapshotOptions) error {
	if o.full && o.delta {
		return usagef("--full and --delta exclude each other: one snapshot at a time")
	}
	if o.delta && o.force {
		return usagef("--force applies to --full only")
	}
	cfg, repo, closeAll, err := o.write.open(ctx, g, o.etcd, nil)
	if err != nil {
		return err
	}
	defer closeAll()
	if !o.ignoreDaemon {
		if err := noLeadingDaemon(ctx, repo); err != nil {
			return err
		}
	}
	s, err := snapshot.New(cfg)
	if err != nil {
		return err
	}
	var res snapshot.Result
	if o.delta {
		res, err = s.Delta(ctx)
	} else {
		res, err = s.Full(ctx, snapshot.FullOptions{Force: o.force})
	}
	if err != nil {
		return err
	}
	if g.output == "json" {
		writeJSON(g.stdout, res)
		return nil
	}
	printSnapshot(g, res)
	return nil
}

func printSnapshot(g *globalOptions, res snapshot.Result) {
	switch {
	case res.Skipped:
		fmt.Fprintf(g.text(), "No %s snapshot taken: %s\n", res.Kind, res.Why)
	case res.Kind == catalog.Full:
		why := ""
		if res.Forced {
			why = " (forced: etcd compacted the revisions a delta needed)"
		}
		fmt.Fprintf(g.text(), "Full snapshot %s at revision %d%s: %s stored (db %s) in %.1fs, sha256 verified\n",
			res.Key, res.EndRevision, why, progress.Bytes(res.Size), progress.Bytes(res.ContentSize), res.Took.Seconds())
	default:
		fmt.Fprintf(g.text(), "Delta snapshot %s: revisions %d-%d, %s, %s stored in %.1fs\n",
			res.Key, res.StartRevision, res.EndRevision, plural(res.Events, "event", "events"), progress.Bytes(res.Size), res.Took.Seconds())
	}
}

// snapshotMemoryLimit is the Go heap's soft limit while snapshots stream (unless GOMEMLIMIT says otherwise):
// streams allocate and drop buffers quickly, and the collector otherwise lets the heap grow to twice what is live.
const snapshotMemoryLimit = 24 << 20

func lowMemory() {
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(snapshotMemoryLimit)
	}
}

// noLeadingDaemon refuses a snapshot while a daemon leads this store (a fresh Leader heartbeat): two writers on
// one prefix would overlap their deltas. The daemon takes one on request instead.
func noLeadingDaemon(ctx context.Context, repo *engine.Repo) error {
	if err := repo.Reload(ctx); err != nil {
		return err
	}
	seen, _ := repo.Heartbeats(ctx, time.Now())
	for _, hb := range seen {
		if hb.Role == heartbeat.Leader && !hb.Stale {
			return fault.Refused("daemon %q is the backup leader of this store (heartbeat %.0fs ago): ask it for a snapshot (GET /v1/backupnow on its --listen address), or pass --ignore-daemon", hb.Name, hb.AgeSeconds)
		}
	}
	return nil
}
