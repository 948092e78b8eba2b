package main

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/etcd-dr/etcd-dr/engine"
	"github.com/etcd-dr/etcd-dr/engine/compact"
	"github.com/etcd-dr/etcd-dr/engine/format"
	"github.com/etcd-dr/etcd-dr/engine/progress"
)

type compactOptions struct {
	revision    string
	compression string
	encrypt     encryptOptions
	identity    identityOptions
	scratch     string
	thenGC      bool
	gc          gcOptions
}

func newCompactCommand(g *globalOptions) *cobra.Command {
	var o compactOptions
	cmd := &cobra.Command{
		Use:   "compact --store URL [--revision R] [--compression gzip|zstd|none] [--encrypt-to R] [--scratch DIR] [--then-gc --gc-policy P ...]",
		Short: "Fold a chain (full snapshot + deltas) into one new full snapshot, so restores need no replay",
		Long: `Restores the chain up to --revision (default: the newest restorable) into a scratch folder with the
restore's replay, compacts the db at that revision and defragments it, as etcd-backup-restore's compactor does
(one pass keeping the record of each key etcd's compaction keeps, every other bucket copied as is), and writes it
into the same store as one new full snapshot v2/Full-00000000-<revision>-<unix time> (etcd-backup-restore's name,
the chain's etcd version in its metadata). Before it becomes visible, the compacted db is checked to hold exactly
the state etcd's store served after the replay, and its revision and sha256 are checked. The old chain stays: --then-gc runs retention
afterwards (with --gc-policy and its flags, as the gc verb).

Refused (exit 2): a chain that is a lone full snapshot, and every etcd-operator or other tool's backup (single
snapshots, no deltas): there is nothing to fold. A revision at or after a gap is refused as restore refuses it.`,
		Example: `  etcd-dr compact --store s3://backups/etcd-main
  etcd-dr compact --store file:///var/etcd-backup --revision 1234567 --compression zstd --scratch /mnt/scratch
  etcd-dr compact --store s3://backups/etcd-main --then-gc --gc-policy limit --max-backups 24`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runCompact(cmd.Context(), g, o)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.revision, "revision", "", "revision to fold the chain up to (decimal); default: the newest restorable")
	f.StringVar(&o.compression, "compression", "gzip", "compression of the new snapshot: gzip (readable by etcd-backup-restore), zstd or none")
	f.StringVar(&o.scratch, "scratch", "", "folder to restore the chain in while it is folded (room for three copies of the db, outside any data dir; default the system temp dir)")
	f.BoolVar(&o.thenGC, "then-gc", false, "run retention (--gc-policy ...) once the new snapshot is written")
	o.encrypt.addFlags(cmd)
	o.identity.addFlags(cmd)
	o.gc.addFlags(cmd, "")
	return cmd
}

// request turns the flags into the engine's request, refusing bad ones before the store is opened.
func (o compactOptions) request(g *globalOptions) (engine.CompactRequest, error) {
	var req engine.CompactRequest
	rev, err := parseRevision(o.revision)
	if err != nil {
		return req, err
	}
	comp, err := format.ParseCompression(o.compression)
	if err != nil {
		return req, usagef("--compression: %v", err)
	}
	enc, err := o.encrypt.encrypter()
	if err != nil {
		return req, err
	}
	switch {
	case o.thenGC && o.gc.policy == "":
		return req, usagef("--then-gc needs --gc-policy (limit, exponential or keep) and its flags, as the gc verb")
	case !o.thenGC && o.gc.policy != "":
		return req, usagef("--gc-policy applies with --then-gc only")
	}
	gcCfg, err := o.gc.config()
	if err != nil {
		return req, err
	}
	req = engine.CompactRequest{Revision: rev, ThenGC: gcCfg, Config: compact.Config{ScratchDir: o.scratch, Compression: comp,
		CompressionSet: true, Encrypt: enc, Progress: g.progress()}}
	return req, nil
}

func runCompact(ctx context.Context, g *globalOptions, o compactOptions) error {
	req, err := o.request(g)
	if err != nil {
		return err
	}
	res, err := onRepo(ctx, g, o.identity, func(r *engine.Repo) (*engine.CompactResult, error) { return r.Compact(ctx, req) })
	if written, err := writeResult(g, res, err); written {
		return err
	}
	if res != nil {
		printCompact(g, g.text(), res)
	}
	return err
}

func printCompact(g *globalOptions, w io.Writer, r *engine.CompactResult) {
	fmt.Fprintf(w, "Folded %s (%d events) into %s at revision %d in %.1fs (restore %.1fs): %s, db %s -> %s compacted and defragmented, %s stored",
		plural(len(r.Folded), "object", "objects"), r.EventsApplied, r.Key, r.Revision, r.Seconds, r.RestoreSeconds,
		plural(int(r.Keys), "key", "keys"), progress.Bytes(r.RestoredDBBytes), progress.Bytes(r.DBBytes), progress.Bytes(r.Size))
	var attrs []string
	if r.EtcdVersion != "" {
		attrs = append(attrs, "etcd "+r.EtcdVersion)
	}
	attrs = append(attrs, r.Compression)
	if r.Encrypted {
		attrs = append(attrs, "encrypted")
	}
	fmt.Fprintf(w, " (%s); revision and sha256 checked.\n", strings.Join(attrs, ", "))
	fmt.Fprintf(w, "The old chain %s stays until gc removes it.\n", r.Chain)
	if r.GC != nil {
		printPlan(g, r.GC)
	}
}
