package testenv

import (
	"context"
	"testing"

	"github.com/etcd-dr/etcd-dr/engine/catalog"
	"github.com/etcd-dr/etcd-dr/store"
)

// OpenCatalog opens the store at url and reads its catalog, for engine tests that need the raw store the Repo
// hides (faces use engine.Open). The store closes when the test ends; a failure ends the test.
func OpenCatalog(t testing.TB, ctx context.Context, url string) (*store.Store, *catalog.Catalog) {
	t.Helper()
	st, err := store.Open(ctx, url)
	if err != nil {
		t.Fatalf("open store %s: %v", url, err)
	}
	t.Cleanup(func() { st.Close() })
	cat, err := catalog.Load(ctx, st)
	if err != nil {
		t.Fatalf("read the catalog of %s: %v", url, err)
	}
	return st, cat
}
