package snapinfo_test

import (
	"context"
	"encoding/binary"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
	"go.etcd.io/etcd/server/v3/storage/mvcc"

	"github.com/etcd-dr/etcd-dr/engine/catalog"
	"github.com/etcd-dr/etcd-dr/engine/fault"
	"github.com/etcd-dr/etcd-dr/engine/format"
	"github.com/etcd-dr/etcd-dr/engine/snapinfo"
	"github.com/etcd-dr/etcd-dr/internal/fixture"
	"github.com/etcd-dr/etcd-dr/internal/testenv"
	"github.com/etcd-dr/etcd-dr/internal/testkit/restoretest"
	"github.com/etcd-dr/etcd-dr/store"
)

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// boltFacts opens a db with bbolt itself: the reference for what the page walk must find.
func boltFacts(t *testing.T, db string) (rev int64, ci uint64) {
	t.Helper()
	b, err := bolt.Open(db, 0o400, &bolt.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	err = b.View(func(tx *bolt.Tx) error {
		if k, _ := tx.Bucket([]byte("key")).Cursor().Last(); k != nil {
			rev = mvcc.BytesToRev(k).Main
		}
		if v := tx.Bucket([]byte("meta")).Get([]byte("consistent_index")); len(v) == 8 {
			ci = binary.BigEndian.Uint64(v)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return rev, ci
}

// Every full snapshot of the committed stores (plain, gzip, zlib, lzw; etcd 3.5 and 3.6) reads as the revision its
// name gives, with the key revision and consistent index bbolt itself finds.
func TestOfCommittedSnapshots(t *testing.T) {
	ctx := testCtx(t)
	for _, s := range []string{fixture.StoreBRv2, fixture.StoreBRv1, fixture.StoreOperator} {
		st, cat := testenv.OpenCatalog(t, ctx, restoretest.StoreURL(t, s))
		defer st.Close()
		for _, ch := range cat.Chains {
			snap := ch.Base
			t.Run(snap.Key, func(t *testing.T) {
				info, err := snapinfo.Verify(ctx, st, snap, snapinfo.Options{TempDir: t.TempDir()})
				if err != nil {
					t.Fatal(err)
				}
				t.Logf("%s (%s, %d bytes): %+v", snap.Key, snap.Codec, snap.Size, info)
				if info.Revision != snap.EndRevision || info.ConsistentIndex == 0 {
					t.Errorf("revision %d, consistent index %d; want revision %d", info.Revision, info.ConsistentIndex, snap.EndRevision)
				}
				if snap.Codec == format.None {
					p, _ := st.LocalPath(snap.Key)
					db := filepath.Join(t.TempDir(), "db")
					b, _ := os.ReadFile(p)
					os.WriteFile(db, b[:len(b)-format.TrailerSize], 0o600)
					rev, ci := boltFacts(t, db)
					if rev != info.LastKeyRevision || ci != info.ConsistentIndex {
						t.Errorf("bbolt finds revision %d, consistent index %d; the walk %d, %d", rev, ci, info.LastKeyRevision, info.ConsistentIndex)
					}
				}
			})
		}
	}
}

// A full snapshot named for another revision than it holds is an ErrNameLies problem naming both.
func TestVerifyLyingName(t *testing.T) {
	ctx := testCtx(t)
	dir := testenv.CopyStore(t, fixture.StoreBRv2)
	liar := filepath.Join(dir, "v2", "Full-00000000-9223372036854775807-1763900061.gz")
	if err := os.Rename(filepath.Join(dir, "v2", "Full-00000000-00000022-1763900060.gz"), liar); err != nil {
		t.Fatal(err)
	}
	st, cat := testenv.OpenCatalog(t, ctx, "file://"+dir)
	defer st.Close()
	var snap catalog.Snapshot
	for _, ch := range cat.Chains {
		if ch.Base.EndRevision == 9223372036854775807 {
			snap = ch.Base
		}
	}
	info, err := snapinfo.Verify(ctx, st, snap, snapinfo.Options{TempDir: t.TempDir()})
	if !errors.Is(err, snapinfo.ErrNameLies) || !errors.Is(err, fault.ErrProblems) || info.Revision != 22 {
		t.Fatalf("verify: %+v, %v; want the lie found (revision 22)", info, err)
	}
	t.Log(err)
}

// Random bytes and a truncated db are ErrNotBolt problems, never a panic.
func TestOfDamaged(t *testing.T) {
	ctx := testCtx(t)
	dir := testenv.CopyStore(t, fixture.StoreBRv2)
	p := filepath.Join(dir, "v2", "Full-00000000-00000093-1763900420")
	good, _ := os.ReadFile(p)
	random := make([]byte, len(good))
	for i := range random {
		random[i] = byte(i*31 + i/7)
	}
	for name, b := range map[string][]byte{
		"random":    random,
		"truncated": good[:8192],
	} {
		t.Run(name, func(t *testing.T) {
			if err := os.WriteFile(p, b, 0o644); err != nil {
				t.Fatal(err)
			}
			st, cat := testenv.OpenCatalog(t, ctx, "file://"+dir)
			defer st.Close()
			for _, ch := range cat.Chains {
				if ch.Base.EndRevision == 93 {
					info, err := snapinfo.Of(ctx, st, ch.Base, snapinfo.Options{})
					t.Logf("%+v, %v", info, err)
					if err == nil && info.Revision == 93 {
						t.Fatalf("damaged db read as good: %+v", info)
					}
				}
			}
		})
	}
}

// A 64 MiB snapshot costs a handful of ranged reads, not a download.
func TestOfLargeSnapshotReads(t *testing.T) {
	ctx := testCtx(t)
	dir := t.TempDir()
	rev := restoretest.LargeSnapshot(t, dir, 64<<20)
	st, cat := testenv.OpenCatalog(t, ctx, "file://"+dir)
	defer st.Close()
	snap := cat.Chains[0].Base
	info, err := snapinfo.Verify(ctx, st, snap, snapinfo.Options{})
	if err != nil || info.Revision != rev {
		t.Fatalf("%+v, %v; want revision %d", info, err, rev)
	}
	t.Logf("64 MiB snapshot (%d bytes): revision %d in %d reads, %d bytes read", snap.Size, info.Revision, info.Reads, info.BytesRead)
	if info.Reads > 12 || info.BytesRead > 128<<10 {
		t.Errorf("%d reads, %d bytes: want a handful of small reads", info.Reads, info.BytesRead)
	}
}

// On a real object store — S3 (versitygw) and GCS (fake-gcs-server) — the same 64 MiB snapshot costs a handful
// of ranged GETs.
func TestOfLargeSnapshotOnObjectStores(t *testing.T) {
	dir := t.TempDir()
	rev := restoretest.LargeSnapshot(t, dir, 64<<20)
	for _, backend := range testenv.ObjectStores {
		t.Run(backend, func(t *testing.T) { largeSnapshotOn(t, backend, dir, rev) })
	}
}

func largeSnapshotOn(t *testing.T, backend, dir string, rev int64) {
	ctx := testCtx(t)
	st, err := store.Open(ctx, testenv.StartBucket(t, backend, "snapinfo").URL("etcd-main"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	key := fixture.OperatorKey("3.6.16", rev)
	f, err := os.Open(filepath.Join(dir, key))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	w, err := st.NewWriter(ctx, key, store.WriteOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(w, f); err != nil {
		t.Fatal(err)
	}
	if err := w.Commit(); err != nil {
		t.Fatal(err)
	}
	cat, err := catalog.Load(ctx, st)
	if err != nil || len(cat.Chains) != 1 {
		t.Fatalf("catalog: %v, %+v", err, cat)
	}
	start := time.Now()
	info, err := snapinfo.Verify(ctx, st, cat.Chains[0].Base, snapinfo.Options{})
	if err != nil || info.Revision != rev {
		t.Fatalf("%+v, %v; want revision %d", info, err, rev)
	}
	t.Logf("64 MiB snapshot on %s: revision %d in %d ranged GETs, %d bytes, %v", backend, info.Revision, info.Reads, info.BytesRead, time.Since(start).Round(time.Millisecond))
	if info.Reads > 12 || info.BytesRead > 128<<10 {
		t.Errorf("%d reads, %d bytes: want a handful of small reads", info.Reads, info.BytesRead)
	}
}

// A compressed snapshot etcd-dr wrote is checked against the revision etcd-dr recorded beside it (no download);
// Thorough reads it; a record that disagrees with the name is a lie as well.
func TestVerifyRecordedRevision(t *testing.T) {
	ctx := testCtx(t)
	st, err := store.Open(ctx, "mem://snapinfo-recorded")
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	src := filepath.Join(t.TempDir(), "full.gz")
	restoretest.WriteFullAt(t, src, 40, format.Gzip)
	b, _ := os.ReadFile(src)
	put := func(key, recorded string) {
		w, err := st.NewWriter(ctx, key, store.WriteOptions{Metadata: map[string]string{catalog.MetaEtcdDR: "test", catalog.MetaEndRevision: recorded}})
		if err != nil {
			t.Fatal(err)
		}
		w.Write(b)
		if err := w.Commit(); err != nil {
			t.Fatal(err)
		}
	}
	put("v2/Full-00000000-00000040-1763900000.gz", "40")
	put("v2/Full-00000000-00000050-1763900100.gz", "40") // renamed by hand after etcd-dr wrote it
	cat, err := catalog.Load(ctx, st)
	if err != nil {
		t.Fatal(err)
	}
	for _, ch := range cat.Chains {
		info, err := snapinfo.Verify(ctx, st, ch.Base, snapinfo.Options{})
		thorough, terr := snapinfo.Verify(ctx, st, ch.Base, snapinfo.Options{Thorough: true, TempDir: t.TempDir()})
		t.Logf("%s: %+v %v; thorough %d reads: %v", ch.Base.Key, info, err, thorough.Reads, terr)
		if info.Reads != 0 || thorough.Reads == 0 || thorough.Revision != 40 {
			t.Errorf("record: %d reads, thorough: %d reads at revision %d", info.Reads, thorough.Reads, thorough.Revision)
		}
		if lies := ch.Base.EndRevision != 40; lies != errors.Is(err, snapinfo.ErrNameLies) || lies != errors.Is(terr, snapinfo.ErrNameLies) {
			t.Errorf("%s: %v / %v, lie expected: %v", ch.Base.Key, err, terr, lies)
		}
	}
}
