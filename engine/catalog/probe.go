package catalog

import (
	"context"
	"fmt"
	"path"

	"golang.org/x/sync/errgroup"

	"github.com/etcd-dr/etcd-dr/engine/format"
	"github.com/etcd-dr/etcd-dr/store"
)

// Probe is what reading an object's bytes told about it: an etcd snapshot at Revision, or not one (Why).
type Probe struct {
	Revision       int64
	StorageVersion string
	NotSnapshot    bool
	// OnDemand: a compressed object whose first bytes decompress to an etcd db; its revision is read at pick.
	OnDemand bool
	Why      string
	// EtcdVersion is what a tool's metadata file (etcd-manager's _etcd_backup.meta) says.
	EtcdVersion string
	// BytesRead is what reading it cost (the cost rule: a few bbolt pages, never the object).
	BytesRead int64
	// Err is a failure to read the object at all (the store, not its bytes).
	Err error
}

// Prober reads an object just enough to tell whether it is an etcd snapshot and at which revision: a few ranged
// reads of bbolt pages, never the whole object. It lives above the catalog (engine registers snapinfo's) since
// snapinfo needs the catalog's types.
type Prober func(ctx context.Context, st *store.Store, o store.Object) Probe

var prober Prober

// SetProber installs the content reader Load uses for objects whose name does not give their revision.
func SetProber(p Prober) { prober = p }

// probeParallel bounds concurrent ranged reads: each costs a few round trips, a store holds few such snapshots.
const probeParallel = 8

// wantsProbe reports whether only the object's bytes can say what it is: a plain snapshot of another tool
// (named or not). Compressed ones are never read to list.
func wantsProbe(o store.Object) bool {
	if IsEtcdManagerMeta(o.Key) {
		return true
	}
	if IsHeartbeat(o.Key) || IsControl(o.Key) || isCompanion(o.Key) || o.Size == 0 {
		return false
	}
	if _, ok := ParseName(o.Key); ok {
		return false
	}
	if CompressedCodec(o.Key) != format.None {
		return true // the prober decompresses its first page only
	}
	if !plainCandidate(o.Size) {
		return false
	}
	if s, ok := parseWildName(o.Key); ok {
		return !s.Encrypted
	}
	return true
}

// CompressedCodec is the compression an object of another tool carries by its suffix (.gz, .zst, .zip), or None.
func CompressedCodec(key string) format.Compression {
	ext := path.Ext(key)
	if ext == "" {
		return format.None
	}
	if c, ok := format.CompressionForSuffix(ext); ok && (c == format.Gzip || c == format.Zstd || c == format.Zip) {
		return c
	}
	return format.None
}

// probeAll reads every object wantsProbe picks, in parallel.
func probeAll(ctx context.Context, st *store.Store, objs []store.Object) (map[string]Probe, error) {
	if prober == nil {
		return nil, nil
	}
	results := make([]Probe, len(objs))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(probeParallel)
	for i, o := range objs {
		if !wantsProbe(o) {
			continue
		}
		g.Go(func() error {
			results[i] = prober(gctx, st, o)
			return gctx.Err()
		})
	}
	if err := g.Wait(); err != nil {
		return nil, fmt.Errorf("read snapshots of other tools to find their revisions: %w", err)
	}
	out := map[string]Probe{}
	for i, o := range objs {
		if wantsProbe(o) {
			out[o.Key] = results[i]
		}
	}
	return out, nil
}
