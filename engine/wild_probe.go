package engine

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"sort"

	"github.com/etcd-dr/etcd-dr/engine/catalog"
	"github.com/etcd-dr/etcd-dr/engine/download"
	"github.com/etcd-dr/etcd-dr/engine/fault"
	"github.com/etcd-dr/etcd-dr/engine/format"
	"github.com/etcd-dr/etcd-dr/engine/snapinfo"
	"github.com/etcd-dr/etcd-dr/store"
)

// The catalog reads other tools' snapshots (k3s, OpenShift, etcdctl) for their revision through snapinfo, which
// imports the catalog: registered here, where both are known.
func init() { catalog.SetProber(probeSnapshot) }

func probeSnapshot(ctx context.Context, st *store.Store, o store.Object) catalog.Probe {
	if catalog.IsEtcdManagerMeta(o.Key) {
		return probeMeta(ctx, st, o)
	}
	if c := catalog.CompressedCodec(o.Key); c != format.None {
		return probeCompressed(ctx, st, o, c)
	}
	info, err := snapinfo.Read(st.ReaderAt(ctx, o.Key), o.Size)
	switch {
	case errors.Is(err, snapinfo.ErrNotBolt):
		return catalog.Probe{NotSnapshot: true, Why: err.Error()}
	case err != nil:
		return catalog.Probe{Err: fmt.Errorf("read %s: %w", o.Key, err)}
	}
	return catalog.Probe{Revision: info.Revision, StorageVersion: info.StorageVersion, BytesRead: info.BytesRead}
}

// headBytes is what a compressed object's first bbolt page needs at most: a page of 4 KiB seldom compresses worse
// than this (gzip and zstd store incompressible blocks nearly as they are).
const headBytes = 64 << 10

// probeCompressed decompresses the start of a .gz/.zst/.zip object to its first bbolt page and checks the magic there:
// an etcd db, its revision read at pick (a compressed stream cannot be read at an offset).
func probeCompressed(ctx context.Context, st *store.Store, o store.Object, c format.Compression) catalog.Probe {
	var dec io.ReadCloser
	if c == format.Zip {
		f, err := download.ZipEntry(ctx, st, o.Key, o.Size)
		if errors.Is(err, fault.ErrProblems) {
			return catalog.Probe{NotSnapshot: true, Why: err.Error()}
		} else if err != nil {
			return catalog.Probe{Err: fmt.Errorf("read the zip directory of %s: %w", o.Key, err)}
		}
		if dec, err = f.Open(); err != nil {
			return catalog.Probe{NotSnapshot: true, Why: fmt.Sprintf("its zip entry does not open: %v", err)}
		}
	} else {
		rc, err := st.NewRangeReader(ctx, o.Key, 0, min(o.Size, headBytes))
		if err != nil {
			return catalog.Probe{Err: fmt.Errorf("read the start of %s: %w", o.Key, err)}
		}
		defer rc.Close()
		if dec, err = format.NewDecompressor(rc, c); err != nil {
			return catalog.Probe{NotSnapshot: true, Why: fmt.Sprintf("its start is not %s: %v", c, err)}
		}
	}
	defer dec.Close()
	var page [boltMetaEnd]byte
	if _, err := io.ReadFull(dec, page[:]); err != nil {
		return catalog.Probe{NotSnapshot: true, Why: fmt.Sprintf("its start does not decompress to a bbolt page: %v", err)}
	}
	if binary.LittleEndian.Uint32(page[boltMagicAt:]) != boltMagic {
		return catalog.Probe{NotSnapshot: true, Why: "it decompresses to something that is not an etcd bbolt database"}
	}
	return catalog.Probe{OnDemand: true}
}

// bbolt's first meta page: a 16-byte page header, then the meta whose first field is the magic.
const (
	boltMagic   = 0xED0CDAED
	boltMagicAt = 16
	boltMetaEnd = boltMagicAt + 4
)

// resolveOnDemand reads the revision of each compressed snapshot of another tool that pick may need, newest first
// (by time: one cluster's later snapshot holds a later revision), and stops as soon as pick has its answer: the
// newest readable one (want 0), or the first at or below want. It returns the catalog
// pick chooses from, without the snapshots left unread or unreadable, and a warning per unreadable one.
func (r *Repo) resolveOnDemand(ctx context.Context, cat *catalog.Catalog, want int64) (*catalog.Catalog, []string, error) {
	var lazy []int
	for i, ch := range cat.Chains {
		if ch.Base.RevisionOnDemand {
			lazy = append(lazy, i)
		}
	}
	if len(lazy) == 0 {
		return cat, nil, nil
	}
	sort.SliceStable(lazy, func(a, b int) bool { return cat.Chains[lazy[a]].Base.Time.After(cat.Chains[lazy[b]].Base.Time) })
	out := *cat
	out.Chains = make([]catalog.Chain, 0, len(cat.Chains))
	for _, ch := range cat.Chains {
		if !ch.Base.RevisionOnDemand {
			out.Chains = append(out.Chains, ch)
		}
	}
	var warnings []string
	for _, i := range lazy {
		ch := cat.Chains[i]
		if ch.Base.Encrypted && r.opts.Decrypt == nil {
			return nil, nil, &fault.Encrypted{Object: ch.Base.Key}
		}
		info, err := snapinfo.Of(ctx, r.st, ch.Base, snapinfo.Options{Decrypt: r.opts.Decrypt})
		if errors.Is(err, fault.ErrProblems) {
			warnings = append(warnings, fmt.Sprintf("skipped %s: %v", ch.Base.Key, err))
			continue
		}
		if err != nil {
			return nil, nil, fmt.Errorf("read the revision of %s: %w", ch.Base.Key, err)
		}
		rev := info.Revision
		ch.Base.StartRevision, ch.Base.EndRevision, ch.EndRevision, ch.RestorableRevision = rev, rev, rev, rev
		ch.Base.RevisionOnDemand = false
		ch.Base.RecordedRevision = rev // just read from the db: pick's check need not stream it again
		if ch.Base.EtcdVersion == "" {
			ch.Base.EtcdVersion = info.StorageVersion
		}
		out.Chains = append(out.Chains, ch)
		if want == 0 || rev <= want {
			break // the newest readable one, or older ones hold older revisions still
		}
	}
	return &out, warnings, nil
}

// probeMeta reads an etcd-manager _etcd_backup.meta (bounded) for the etcd version of the backup beside it.
func probeMeta(ctx context.Context, st *store.Store, o store.Object) catalog.Probe {
	if o.Size > catalog.MaxMetaBytes {
		return catalog.Probe{NotSnapshot: true, Why: fmt.Sprintf("etcd-manager backup metadata of %d bytes, more than the %d such a file holds", o.Size, catalog.MaxMetaBytes)}
	}
	rc, err := st.NewReader(ctx, o.Key)
	if err != nil {
		return catalog.Probe{Err: fmt.Errorf("read %s: %w", o.Key, err)}
	}
	defer rc.Close()
	b, err := io.ReadAll(io.LimitReader(rc, catalog.MaxMetaBytes))
	if err != nil {
		return catalog.Probe{Err: fmt.Errorf("read %s: %w", o.Key, err)}
	}
	v, err := catalog.ParseEtcdManagerMeta(b)
	if err != nil {
		return catalog.Probe{NotSnapshot: true, Why: err.Error() + "; the backup beside it is listed without an etcd version"}
	}
	return catalog.Probe{EtcdVersion: v}
}
