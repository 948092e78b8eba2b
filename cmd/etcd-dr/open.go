package main

import (
	"context"

	"github.com/etcd-dr/etcd-dr/engine/catalog"
	"github.com/etcd-dr/etcd-dr/store"
)

// openCatalog opens --store and builds its catalog. The caller closes the store.
func openCatalog(ctx context.Context, g *globalOptions) (*store.Store, *catalog.Catalog, error) {
	url, err := g.requireStore()
	if err != nil {
		return nil, nil, err
	}
	return catalog.Open(ctx, url)
}
