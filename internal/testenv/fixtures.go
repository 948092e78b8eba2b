package testenv

import (
	"os"
	"path/filepath"
	"testing"
)

// Testdata is the absolute path of the repo's testdata folder.
func Testdata(t testing.TB) string {
	t.Helper()
	root := RepoRoot()
	if root == "" {
		t.Fatal("cannot find the repo root (go.mod) above the working directory")
	}
	return filepath.Join(root, "testdata")
}

// CopyStore copies testdata/<rel> into a fresh temp dir and returns the copy's path, for tests that corrupt or
// add objects (testdata itself is never modified).
func CopyStore(t testing.TB, rel string) string {
	t.Helper()
	src := filepath.Join(Testdata(t), rel)
	dst := filepath.Join(t.TempDir(), filepath.Base(rel))
	err := filepath.Walk(src, func(p string, info os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		r, _ := filepath.Rel(src, p)
		target := filepath.Join(dst, r)
		if info.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if err := os.WriteFile(target, b, 0o644); err != nil {
			return err
		}
		return os.Chtimes(target, info.ModTime(), info.ModTime())
	})
	if err != nil {
		t.Fatalf("copy %s: %v", src, err)
	}
	return dst
}
