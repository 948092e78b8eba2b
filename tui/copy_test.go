package tui

import (
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	copypage "github.com/etcd-dr/etcd-dr/tui/pages/copy"
)

// fileKeys lists the files under dir, relative and sorted (what a file:// store holds).
func fileKeys(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	err := filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
		if err != nil || fi.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		out = append(out, filepath.ToSlash(rel))
		return nil
	})
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	sort.Strings(out)
	return out
}

// The Copy wizard end to end on file:// stores: y on the catalog, a target URL, enter plans (a dry run that
// writes nothing and says how much), enter again copies, and DST then holds every object of SRC.
func TestCopyWizard(t *testing.T) {
	src := filepath.Join(shortTemp(t), "src")
	if err := os.CopyFS(src, os.DirFS(filepath.Join("..", "testdata", "stores", "etcdbr-v2"))); err != nil {
		t.Fatal(err)
	}
	dst := filepath.Join(shortTemp(t), "dst")
	m := newModel(t, false, "file://"+src)
	start(m, 80, 24)
	drive(m, keys("enter", "y")...)
	topIs[*copypage.Page](t, m)
	drive(m, typeText("file://"+dst)...)
	drive(m, key("enter"))
	want := fileKeys(t, src)
	mustContain(t, m, "Will copy:", "2 chains", "objects to copy", "0 already at the target", "enter copies")
	if got := fileKeys(t, dst); len(got) != 0 {
		t.Fatalf("the dry run wrote %v", got)
	}
	drive(m, key("enter"))
	mustContain(t, m, "✓ Copied 2 chains", "0 failed")
	got := fileKeys(t, dst)
	if len(got) != len(want) {
		t.Fatalf("DST holds %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("DST holds %v, want %v", got, want)
		}
	}
}

// The Copy wizard's limits are applied: max backups 1 plans and copies the newest chain only (DST then holds
// that chain's objects and nothing of the older one); max age 1h finds no chain young enough (the fixtures are
// a year old) and copies nothing; a max age that is not a duration is refused before anything runs.
func TestCopyWizardLimits(t *testing.T) {
	src := filepath.Join(shortTemp(t), "src")
	if err := os.CopyFS(src, os.DirFS(filepath.Join("..", "testdata", "stores", "etcdbr-v2"))); err != nil {
		t.Fatal(err)
	}
	t.Run("max backups", func(t *testing.T) {
		dst := filepath.Join(shortTemp(t), "dst")
		m := newModel(t, false, "file://"+src)
		start(m, 80, 24)
		drive(m, keys("enter", "y")...)
		drive(m, typeText("file://"+dst)...)
		drive(m, key("tab"))
		drive(m, typeText("1")...)
		drive(m, key("enter"))
		mustContain(t, m, "Will copy: (the 1 newest chain of each cluster)", "1 chain:", "enter copies")
		drive(m, key("enter"))
		mustContain(t, m, "✓ Copied 1 chain", "0 failed")
		// The newest chain of the fixture: Full-…93 and the deltas after it (the one at 104-113 is missing).
		want := []string{"v2/Full-00000000-00000093-1763900420", "v2/Incr-00000094-00000103-1763900480.gz", "v2/Incr-00000114-00000123-1763900600.gz"}
		if got := fileKeys(t, dst); strings.Join(got, " ") != strings.Join(want, " ") {
			t.Fatalf("max backups 1: DST holds %v, want the newest chain %v", got, want)
		}
	})
	t.Run("max age", func(t *testing.T) {
		dst := filepath.Join(shortTemp(t), "dst")
		m := newModel(t, false, "file://"+src)
		start(m, 80, 24)
		drive(m, keys("enter", "y")...)
		drive(m, typeText("file://"+dst)...)
		drive(m, keys("tab", "tab")...)
		drive(m, typeText("soon")...)
		mustContain(t, m, "✗ a duration such as 90m or 24h")
		drive(m, key("enter"))
		mustContain(t, m, "✗ max age: a duration")
		drive(m, keys("backspace", "backspace", "backspace", "backspace")...)
		drive(m, typeText("1h")...)
		drive(m, key("enter"))
		mustContain(t, m, "(newest backup at most 1h old)", "0 chains:")
		drive(m, key("enter"))
		if got := fileKeys(t, dst); len(got) != 0 {
			t.Fatalf("max age 1h copied %v from year-old fixtures", got)
		}
	})
}
