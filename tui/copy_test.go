package tui

import (
	"os"
	"path/filepath"
	"sort"
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
