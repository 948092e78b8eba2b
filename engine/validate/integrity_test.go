package validate_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/etcd-dr/etcd-dr/engine/catalog"
	"github.com/etcd-dr/etcd-dr/engine/format"
	"github.com/etcd-dr/etcd-dr/engine/restore/restoretest"
	"github.com/etcd-dr/etcd-dr/engine/validate"
	"github.com/etcd-dr/etcd-dr/internal/fixture"
	"github.com/etcd-dr/etcd-dr/internal/testenv"
)

// An empty last delta is the gap restore refuses: validate names the object and the same safe revision (one rule).
func TestBackupsEmptyLastDelta(t *testing.T) {
	const empty = "v1/Backup-1763900840/Incr-00000196-00000205-1763900960"
	for name, write := range map[string]func(t *testing.T, p string) string{
		"zero bytes": func(t *testing.T, p string) string { write(t, p, nil); return empty },
		"gzip of []": func(t *testing.T, p string) string {
			restoretest.WriteDelta(t, p+".gz", format.Gzip, []byte("[]"))
			return empty + ".gz"
		},
	} {
		t.Run(name, func(t *testing.T) {
			dir := testenv.CopyStore(t, fixture.StoreBRv1)
			key := write(t, filepath.Join(dir, filepath.FromSlash(empty)))
			rep := validateStore(t, dir)
			if rep.OK || len(rep.Problems) != 1 {
				t.Fatalf("ok=%v problems %+v, want the one empty delta", rep.OK, rep.Problems)
			}
			p := rep.Problems[0]
			if p.Object != key || !strings.Contains(p.What, "is empty") || !strings.Contains(p.What, "restores only up to revision 195") {
				t.Fatalf("problem %+v, want %s named empty, restorable up to 195", p, key)
			}
		})
	}
}

// A 1 GiB decompression bomb is a problem found after a few MiB, with the heap bounded (before: inflated whole).
func TestBackupsDecompressionBomb(t *testing.T) {
	dir := testenv.CopyStore(t, fixture.StoreBRv1)
	key := "v1/Backup-1763900840/Incr-00000196-00000196-1763900960.gz"
	restoretest.WriteBomb(t, filepath.Join(dir, filepath.FromSlash(key)), 196, 1<<30)
	start := time.Now()
	var problems []string
	peak, alloc := restoretest.PeakHeap(func() {
		for _, p := range validateStore(t, dir).Problems {
			if p.Object == key {
				problems = append(problems, p.What)
			}
		}
	})
	t.Logf("validate with a 1 GiB bomb: %v, heap in use grew at most %d MiB, %d MiB allocated: %v", time.Since(start).Round(time.Millisecond), peak>>20, alloc>>20, problems)
	if len(problems) != 1 || !strings.Contains(problems[0], "larger than its events can be") {
		t.Fatalf("problems of %s: %v, want it refused as too big", key, problems)
	}
	if peak > 64<<20 {
		t.Errorf("heap in use grew by %d MiB, want < 64 MiB", peak>>20)
	}
	if alloc > 256<<20 {
		t.Errorf("%d MiB allocated, want < 256 MiB", alloc>>20)
	}
}

// Random bytes with a valid sha256 trailer, and a real bbolt db without etcd's buckets, are problems: every full
// snapshot's db is opened by default (before: they passed unless a trial restore was asked for).
func TestBackupsOpenEveryDB(t *testing.T) {
	const full = "v2/Full-00000000-00000093-1763900420"
	random := make([]byte, 13*4096)
	for i := range random {
		random[i] = byte(i*131 + i/509)
	}
	cases := map[string]struct {
		body []byte
		what string
	}{
		"random bytes":   {body: random, what: "not usable"},
		"bbolt, no etcd": {body: emptyBolt(t), what: `no "key" bucket`},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			dir := testenv.CopyStore(t, fixture.StoreBRv2)
			write(t, filepath.Join(dir, filepath.FromSlash(full)), trailer(tc.body))
			rep := validateStore(t, dir)
			found := false
			for _, p := range rep.Problems {
				if p.Object == full && strings.Contains(p.What, tc.what) {
					found = true
				}
			}
			if rep.OK || !found {
				t.Fatalf("ok=%v problems %+v, want %s: %q", rep.OK, rep.Problems, full, tc.what)
			}
		})
	}
}

// emptyBolt is a valid bbolt file with no buckets.
func emptyBolt(t *testing.T) []byte {
	p := filepath.Join(t.TempDir(), "empty.db")
	db, err := bolt.Open(p, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// A full snapshot named for another revision than it holds is a problem naming it and both revisions (before:
// "All backups check out", and gc then deleted the only real chain).
func TestBackupsLyingName(t *testing.T) {
	dir := testenv.CopyStore(t, fixture.StoreBRv2)
	liar := "v2/Full-00000000-9223372036854775807-1763900061.gz"
	if err := os.Rename(filepath.Join(dir, "v2", "Full-00000000-00000022-1763900060.gz"), filepath.Join(dir, filepath.FromSlash(liar))); err != nil {
		t.Fatal(err)
	}
	rep := validateStore(t, dir)
	for _, p := range rep.Problems {
		if p.Object == liar {
			if !strings.Contains(p.What, "named for revision 9223372036854775807 but its database is at revision 22") {
				t.Fatalf("problem %q does not name both revisions", p.What)
			}
			return
		}
	}
	t.Fatalf("ok=%v problems %+v: the lying name is not found", rep.OK, rep.Problems)
}

// With the db check skipped, the name is still compared with the revision inside (snapinfo's cheap read).
func TestBackupsLyingNameWithoutDBCheck(t *testing.T) {
	dir := testenv.CopyStore(t, fixture.StoreBRv2)
	liar := "v2/Full-00000000-9223372036854775807-1763900061.gz"
	if err := os.Rename(filepath.Join(dir, "v2", "Full-00000000-00000022-1763900060.gz"), filepath.Join(dir, filepath.FromSlash(liar))); err != nil {
		t.Fatal(err)
	}
	ctx := testCtx(t)
	st, cat, err := catalog.Open(ctx, "file://"+dir)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	rep, err := validate.Backups(ctx, st, cat, validate.BackupConfig{SkipDBCheck: true, TempDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range rep.Problems {
		if p.Object == liar && strings.Contains(p.What, "its name lies") {
			return
		}
	}
	t.Fatalf("problems %+v: the lying name is not found", rep.Problems)
}
