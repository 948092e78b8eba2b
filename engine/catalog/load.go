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
		if s, ok := parseWildName(o.Key); ok {
			return s.Layout == K3s // k3s/rke2 record the node in S3 user metadata
		}
		s, ok := ParseName(o.Key)
		return ok && s.Kind == Full && s.Layout != Operator
	})
	if err != nil {
		return nil, err
	}
	probed, err := probeAll(ctx, st, objs)
	if err != nil {
		return nil, err
	}
	return build(st.URL(), objs, probed), nil
}
