package testenv

import (
	"context"
	"io"
	"os"
	"path"
	"path/filepath"
	"testing"

	"github.com/etcd-dr/etcd-dr/store"
)

// UploadDir writes every file below dir into the store at url (any scheme, mem:// too), keys relative to dir
// under prefix ("" for none), streamed and committed one by one: a fixture store served by a real server. A
// failure ends the test.
func UploadDir(t testing.TB, url, dir, prefix string) {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, url)
	if err != nil {
		t.Fatalf("open store %s: %v", url, err)
	}
	defer st.Close()
	err = filepath.Walk(dir, func(p string, info os.FileInfo, err error) error {
		if err != nil || info.IsDir() {
			return err
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		f, err := os.Open(p)
		if err != nil {
			return err
		}
		defer f.Close()
		w, err := st.NewWriter(ctx, path.Join(prefix, filepath.ToSlash(rel)), store.WriteOptions{})
		if err != nil {
			return err
		}
		if _, err := io.Copy(w, f); err != nil {
			w.Abort()
			return err
		}
		return w.Commit()
	})
	if err != nil {
		t.Fatalf("upload %s into %s: %v", dir, url, err)
	}
}
