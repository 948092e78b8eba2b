package validate_test

import (
	"context"
	"crypto/sha256"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/etcd-dr/etcd-dr/engine/catalog"
	"github.com/etcd-dr/etcd-dr/engine/pick"
	"github.com/etcd-dr/etcd-dr/engine/restore"
	"github.com/etcd-dr/etcd-dr/engine/restore/restoretest"
	"github.com/etcd-dr/etcd-dr/engine/validate"
	"github.com/etcd-dr/etcd-dr/internal/fixture"
	"github.com/etcd-dr/etcd-dr/internal/testenv"
)

func TestMain(m *testing.M) {
	validate.RunChild()
	os.Exit(m.Run())
}

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

func validateStore(t *testing.T, dir string) *validate.StoreReport {
	t.Helper()
	ctx := testCtx(t)
	st, cat, err := catalog.Open(ctx, "file://"+dir)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	rep, err := validate.Backups(ctx, st, cat, validate.BackupConfig{})
	if err != nil {
		t.Fatalf("validate: %v", err)
	}
	return rep
}

func TestBackupsOfCommittedStores(t *testing.T) {
	cases := []struct {
		store    string
		objects  int
		problems []string
	}{
		{store: fixture.StoreBRv1, objects: 5},
		{store: fixture.StoreOperator, objects: 3},
		{store: fixture.StoreBRv2, objects: 9, problems: []string{"revisions 104-113 are in no object"}},
	}
	for _, tc := range cases {
		t.Run(tc.store, func(t *testing.T) {
			rep := validateStore(t, filepath.Join(restoretest.Root(t), tc.store))
			if len(rep.Objects) != tc.objects {
				t.Errorf("checked %d objects, want %d", len(rep.Objects), tc.objects)
			}
			for _, o := range rep.Objects {
				if !o.OK {
					t.Errorf("object %s: %s", o.Object, o.What)
				}
				if o.Kind == catalog.Delta && o.Events == 0 {
					t.Errorf("delta %s: no events counted", o.Object)
				}
			}
			if len(rep.Problems) != len(tc.problems) || rep.OK != (len(tc.problems) == 0) {
				t.Fatalf("ok=%v problems %+v, want %v", rep.OK, rep.Problems, tc.problems)
			}
			for i, p := range tc.problems {
				if !strings.Contains(rep.Problems[i].What, p) {
					t.Errorf("problem %q, want it to say %q", rep.Problems[i].What, p)
				}
			}
		})
	}
}

// Each kind of damage is found in the damaged object, and only there.
func TestBackupsFindDamage(t *testing.T) {
	const v2 = "v2/"
	cases := []struct {
		name   string
		object string // the object reported
		damage func(t *testing.T, dir string)
		what   string
	}{
		{name: "truncated gzip", object: v2 + "Full-00000000-00000022-1763900060.gz", what: "is corrupt",
			damage: func(t *testing.T, dir string) {
				truncate(t, filepath.Join(dir, v2+"Full-00000000-00000022-1763900060.gz"), 2)
			}},
		{name: "flipped bit in a full snapshot", object: v2 + "Full-00000000-00000093-1763900420", what: "failed its checksum",
			damage: func(t *testing.T, dir string) { flip(t, filepath.Join(dir, v2+"Full-00000000-00000093-1763900420")) }},
		{name: "delta checksum", object: v2 + "Incr-00000053-00000062-1763900300", what: "failed its checksum",
			damage: func(t *testing.T, dir string) { flip(t, filepath.Join(dir, v2+"Incr-00000053-00000062-1763900300")) }},
		{name: "delta not JSON", object: v2 + "Incr-00000053-00000062-1763900300", what: "not a JSON array",
			damage: func(t *testing.T, dir string) {
				write(t, filepath.Join(dir, v2+"Incr-00000053-00000062-1763900300"), trailer([]byte("{not json")))
			}},
		{name: "events outside the name's range", object: v2 + "Incr-00000053-00000060-1763900300", what: "outside the revisions 53-60",
			damage: func(t *testing.T, dir string) {
				if err := os.Rename(filepath.Join(dir, v2+"Incr-00000053-00000062-1763900300"), filepath.Join(dir, v2+"Incr-00000053-00000060-1763900300")); err != nil {
					t.Fatal(err)
				}
			}},
		{name: "empty object", object: v2 + "Incr-00000053-00000062-1763900300", what: "is empty",
			damage: func(t *testing.T, dir string) {
				write(t, filepath.Join(dir, v2+"Incr-00000053-00000062-1763900300"), nil)
			}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := testenv.CopyStore(t, fixture.StoreBRv2)
			tc.damage(t, dir)
			rep := validateStore(t, dir)
			if rep.OK {
				t.Fatal("damage not found")
			}
			found := false
			for _, p := range rep.Problems {
				switch {
				case p.Object == tc.object && strings.Contains(p.What, tc.what):
					found = true
				case strings.Contains(p.What, "gap"):
					// the known gap of the second chain, and gaps the damage makes
				default:
					t.Errorf("unexpected problem in %s: %s", p.Object, p.What)
				}
			}
			if !found {
				t.Errorf("no problem %q for %s in %+v", tc.what, tc.object, rep.Problems)
			}
		})
	}
}

func truncate(t *testing.T, p string, div int64) {
	fi, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(p, fi.Size()/div); err != nil {
		t.Fatal(err)
	}
}

func flip(t *testing.T, p string) {
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	b[len(b)/2] ^= 0x04
	write(t, p, b)
}

func write(t *testing.T, p string, b []byte) {
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func trailer(body []byte) []byte {
	sum := sha256.Sum256(body)
	return append(append([]byte{}, body...), sum[:]...)
}

// restored restores the newest etcdbr-v1 backup (revision 195) into a new data dir.
func restored(t *testing.T) string {
	t.Helper()
	ctx := testCtx(t)
	st, cat, err := catalog.Open(ctx, restoretest.StoreURL(t, fixture.StoreBRv1))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	r, err := pick.Pick(cat, pick.Config{})
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "etcd")
	if _, err := restore.Restore(ctx, st, r, restore.Config{DataDir: dir, Cluster: restore.Cluster{Name: "m0"}}); err != nil {
		t.Fatal(err)
	}
	return dir
}

func walFile(t *testing.T, dir string) string {
	names, _ := filepath.Glob(filepath.Join(dir, "member", "wal", "*.wal"))
	if len(names) == 0 {
		t.Fatal("no WAL file")
	}
	return names[0]
}

func TestDataDir(t *testing.T) {
	cases := []struct {
		name    string
		prepare func(t *testing.T) (dir string, cfg validate.DataDirConfig)
		missing bool
		what    string // "" = valid
	}{
		{name: "restored data dir is valid", prepare: func(t *testing.T) (string, validate.DataDirConfig) {
			return restored(t), validate.DataDirConfig{StoreRevision: 195}
		}},
		{name: "absent", missing: true, prepare: func(t *testing.T) (string, validate.DataDirConfig) {
			return filepath.Join(t.TempDir(), "nothing"), validate.DataDirConfig{}
		}},
		{name: "empty folder", missing: true, prepare: func(t *testing.T) (string, validate.DataDirConfig) {
			return t.TempDir(), validate.DataDirConfig{}
		}},
		{name: "no WAL folder", what: "missing directory", prepare: func(t *testing.T) (string, validate.DataDirConfig) {
			dir := restored(t)
			if err := os.RemoveAll(filepath.Join(dir, "member", "wal")); err != nil {
				t.Fatal(err)
			}
			return dir, validate.DataDirConfig{}
		}},
		{name: "no db", what: "missing bbolt database", prepare: func(t *testing.T) (string, validate.DataDirConfig) {
			dir := restored(t)
			if err := os.Remove(filepath.Join(dir, "member", "snap", "db")); err != nil {
				t.Fatal(err)
			}
			return dir, validate.DataDirConfig{}
		}},
		{name: "WAL record with a flipped bit", what: "crc mismatch", prepare: func(t *testing.T) (string, validate.DataDirConfig) {
			dir := restored(t)
			p := walFile(t, dir)
			b, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			end := 0 // the records; the file is preallocated with zeros after them
			for i := 0; i < 4096; i++ {
				if b[i] != 0 {
					end = i
				}
			}
			b[end/2] ^= 0x01
			write(t, p, b)
			return dir, validate.DataDirConfig{}
		}},
		{name: "damaged db page", what: "bbolt database is damaged", prepare: func(t *testing.T) (string, validate.DataDirConfig) {
			dir := restored(t)
			p := filepath.Join(dir, "member", "snap", "db")
			b, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			for pg := 2; pg < len(b)/4096; pg++ {
				b[pg*4096+8] ^= 0xff // every page's type flags
			}
			write(t, p, b)
			return dir, validate.DataDirConfig{}
		}},
		{name: "older than the store", what: "the store has newer data", prepare: func(t *testing.T) (string, validate.DataDirConfig) {
			return restored(t), validate.DataDirConfig{StoreRevision: 223, Store: "file:///backups"}
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir, cfg := tc.prepare(t)
			rep := validate.DataDir(dir, cfg)
			if rep.Missing != tc.missing {
				t.Fatalf("missing=%v, want %v (%+v)", rep.Missing, tc.missing, rep)
			}
			if tc.missing {
				if rep.OK {
					t.Fatal("a missing data dir reported ok")
				}
				return
			}
			if tc.what == "" {
				if !rep.OK || rep.Revision != 195 || rep.ClusterID == "" || rep.MemberID == "" || len(rep.Members) != 1 || rep.Members[0] != "m0" {
					t.Fatalf("report %+v", rep)
				}
				return
			}
			if rep.OK {
				t.Fatalf("damage not found: %+v", rep)
			}
			var all []string
			for _, p := range rep.Problems {
				all = append(all, p.What)
			}
			if !strings.Contains(strings.Join(all, "\n"), tc.what) {
				t.Fatalf("problems %q, want one saying %q", all, tc.what)
			}
		})
	}
}

// A data dir that etcd runs on is reported locked, not damaged, and validating it does not disturb etcd.
func TestDataDirOfRunningEtcd(t *testing.T) {
	dir := restored(t)
	m := testenv.StartEtcdOnDataDir(t, testenv.Binary(t, "etcd"), dir, "m0")
	rep := validate.DataDir(dir, validate.DataDirConfig{})
	if rep.OK || len(rep.Problems) != 1 || !strings.Contains(rep.Problems[0].What, "locked") {
		t.Fatalf("report %+v", rep)
	}
	if rep.MemberID == "" {
		t.Error("the WAL of a running member should still be readable")
	}
	if _, err := m.Client(t).Put(testCtx(t), "still", "works"); err != nil {
		t.Fatal(err)
	}
}

// The data dir of a real etcd member that served writes and stopped (WAL entries past any snapshot, no snap
// files) is valid and reports the member's last revision and ids.
func TestDataDirOfStoppedMember(t *testing.T) {
	c := testenv.StartCluster(t, testenv.Binary(t, "etcd"), 1)
	cli := c.Client(t)
	var rev int64
	for i := 0; i < 20; i++ {
		resp, err := cli.Put(testCtx(t), "k", strings.Repeat("v", i))
		if err != nil {
			t.Fatal(err)
		}
		rev = resp.Header.Revision
	}
	m := c.Members[0]
	id := m.ID()
	m.Stop()
	rep := validate.DataDir(m.DataDir, validate.DataDirConfig{})
	if !rep.OK {
		t.Fatalf("problems %+v", rep.Problems)
	}
	if rep.Revision != rev || rep.MemberID != fmt.Sprintf("%x", id) || rep.WALCommit == 0 {
		t.Fatalf("revision %d member %s commit %d; want revision %d member %x", rep.Revision, rep.MemberID, rep.WALCommit, rev, id)
	}
}
