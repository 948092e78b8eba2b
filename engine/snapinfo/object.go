package snapinfo

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"path"

	"github.com/etcd-dr/etcd-dr/engine/catalog"
	"github.com/etcd-dr/etcd-dr/engine/crypt"
	"github.com/etcd-dr/etcd-dr/engine/download"
	"github.com/etcd-dr/etcd-dr/engine/fault"
	"github.com/etcd-dr/etcd-dr/engine/format"
	"github.com/etcd-dr/etcd-dr/store"
)

// ErrNameLies marks a full snapshot whose name says another revision than the db inside it holds.
var ErrNameLies = errors.New("snapshot name lies about its revision")

// ErrUnverifiable marks a snapshot that cannot be read without a key it was not given (encrypted).
var ErrUnverifiable = catalog.ErrUnverifiable

// Options tunes Of and Verify. The zero value reads plain objects only and stages in os.TempDir.
type Options struct {
	// Decrypt opens .age objects; nil makes them ErrUnverifiable.
	Decrypt crypt.Decrypter
	// TempDir receives the decompressed copy of a compressed snapshot (default os.TempDir()).
	TempDir string
	// Thorough makes Verify read a compressed or encrypted snapshot written by etcd-dr instead of taking the
	// revision etcd-dr recorded beside it (default: the record, which etcd-dr wrote after checking the db).
	Thorough bool
}

// Of reads the revision and the rest of Info from a full snapshot in st. A plain object costs a handful of ranged
// reads; a compressed or encrypted one cannot be read at an offset, so it is streamed (verified against its
// sha256 trailer) into a temporary file that is removed afterwards: bounded memory, disk the db's size.
func Of(ctx context.Context, st *store.Store, snap catalog.Snapshot, opts Options) (Info, error) {
	if snap.Codec == format.None && !snap.Encrypted {
		info, err := Read(st.ReaderAt(ctx, snap.Key), snap.Size)
		if err != nil && !errors.Is(err, ErrNotBolt) {
			return info, err
		}
		if err != nil {
			return info, fault.Problems("full snapshot %s: %v", snap.Key, err)
		}
		return info, nil
	}
	if snap.Encrypted && opts.Decrypt == nil {
		return Info{}, fmt.Errorf("%w: %s is encrypted and no identity was given", ErrUnverifiable, snap.Key)
	}
	f, err := os.CreateTemp(opts.TempDir, "etcd-dr-snapinfo-*.db")
	if err != nil {
		return Info{}, fmt.Errorf("stage %s to read its revision: %w", snap.Key, err)
	}
	defer os.Remove(f.Name()) // our own temporary file
	defer f.Close()
	bw := bufio.NewWriterSize(f, 1<<20)
	v, err := download.Object(ctx, st, snap, bw, nil, opts.Decrypt)
	if err != nil {
		return Info{}, err
	}
	if err := bw.Flush(); err != nil {
		return Info{}, fmt.Errorf("stage %s in %s: %w", snap.Key, f.Name(), err)
	}
	info, err := Read(f, v.Bytes)
	if err != nil {
		if errors.Is(err, ErrNotBolt) {
			return info, fault.Problems("full snapshot %s: %v", snap.Key, err)
		}
		return info, fmt.Errorf("read the staged copy of %s: %w", snap.Key, err)
	}
	return info, nil
}

// Verify reads the snapshot's revision and compares it with the one its name gives: a mismatch is an ErrNameLies
// problem that names both; ErrUnverifiable when it cannot be read. A plain object costs a few ranged reads; for a
// compressed or encrypted one written by etcd-dr the revision it recorded stands in (see Options.Thorough).
func Verify(ctx context.Context, st *store.Store, snap catalog.Snapshot, opts Options) (Info, error) {
	plain := snap.Codec == format.None && !snap.Encrypted
	if !plain && snap.RecordedRevision != 0 && (!opts.Thorough || (snap.Encrypted && opts.Decrypt == nil)) {
		// etcd-dr checked the db's revision before it committed the object, and recorded it: reading a
		// compressed or encrypted object means downloading it whole, on every pick and every GC run.
		info := Info{Revision: snap.RecordedRevision}
		return info, Compare(snap, info)
	}
	info, err := Of(ctx, st, snap, opts)
	if err != nil {
		return info, err
	}
	return info, Compare(snap, info)
}

// Compare is the one rule for a full snapshot's name: the revision it names is the revision inside.
func Compare(snap catalog.Snapshot, info Info) error {
	if info.Revision == snap.EndRevision || snap.RevisionOnDemand {
		// Another tool's compressed snapshot names no revision: reading it is how its revision is known.
		return nil
	}
	return fault.Problems("full snapshot %s is named for revision %d but its database is at revision %d: its name lies, so it is not counted as a backup of revision %d (rename it, or delete it once a good chain exists): %w",
		path.Base(snap.Key), snap.EndRevision, info.Revision, snap.EndRevision, ErrNameLies)
}
