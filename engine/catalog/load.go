package catalog

import (
	"context"

	"github.com/etcd-dr/etcd-dr/store"
)

// Load lists the store and builds its catalog, always from the store itself (no cache).
// Metadata is fetched only for full snapshots (few, and they carry the etcd version); deltas are named completely.
func Load(ctx context.Context, st *store.Store) (*Catalog, error) {
	objs, err := st.List(ctx)
	if err != nil {
		return nil, err
	}
	err = st.FetchMetadata(ctx, objs, func(o store.Object) bool {
		s, ok := ParseName(o.Key)
		return ok && s.Kind == Full && s.Layout != Operator
	})
	if err != nil {
		return nil, err
	}
	return Build(st.URL(), objs), nil
}
