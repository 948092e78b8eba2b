package main

import (
	"context"

	"github.com/etcd-dr/etcd-dr/engine/catalog"
	"github.com/etcd-dr/etcd-dr/engine/pick"
	"github.com/etcd-dr/etcd-dr/engine/snapinfo"
)

// openCatalog opens --store and builds its catalog. The caller closes the store.
func openCatalog(ctx context.Context, g *globalOptions) (*catalog.Store, *catalog.Catalog, error) {
	url, err := g.requireStore()
	if err != nil {
		return nil, nil, err
	}
	return catalog.Open(ctx, url)
}

// openPicked opens --store and picks what cfg asks for: the shared first half of pick, download and restore.
// A pick error is already reported (with its refusals); the store is closed on every error.
func openPicked(ctx context.Context, g *globalOptions, cfg pick.Config) (*catalog.Store, *pick.Result, error) {
	st, cat, err := openCatalog(ctx, g)
	if err != nil {
		return nil, nil, err
	}
	if cfg.Verify == nil {
		// The chosen chain's full snapshot must hold the revision its name gives (a few ranged reads).
		cfg.Verify = func(s catalog.Snapshot) error {
			_, err := snapinfo.Verify(ctx, st, s, snapinfo.Options{})
			return err
		}
	}
	res, err := pick.Pick(cat, cfg)
	if err != nil {
		st.Close()
		return nil, nil, reportPickError(g, res, err)
	}
	return st, res, nil
}
