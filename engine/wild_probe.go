package engine

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/etcd-dr/etcd-dr/engine/catalog"
	"github.com/etcd-dr/etcd-dr/engine/snapinfo"
	"github.com/etcd-dr/etcd-dr/store"
)

// The catalog reads other tools' snapshots (k3s, OpenShift, etcdctl) for their revision through snapinfo, which
// imports the catalog: registered here, where both are known.
func init() { catalog.SetProber(probeSnapshot) }

func probeSnapshot(ctx context.Context, st *store.Store, o store.Object) catalog.Probe {
	info, err := snapinfo.Read(&rangeReaderAt{ctx: ctx, st: st, key: o.Key}, o.Size)
	switch {
	case errors.Is(err, snapinfo.ErrNotBolt):
		return catalog.Probe{NotSnapshot: true, Why: err.Error()}
	case err != nil:
		return catalog.Probe{Err: fmt.Errorf("read %s: %w", o.Key, err)}
	}
	return catalog.Probe{Revision: info.Revision, StorageVersion: info.StorageVersion}
}

// rangeReaderAt reads an object at offsets, one ranged read per call (a file:// store reads the file in place).
type rangeReaderAt struct {
	ctx context.Context
	st  *store.Store
	key string
}

func (r *rangeReaderAt) ReadAt(p []byte, off int64) (int, error) {
	rc, err := r.st.NewRangeReader(r.ctx, r.key, off, int64(len(p)))
	if err != nil {
		return 0, err
	}
	defer rc.Close()
	n, err := io.ReadFull(rc, p)
	if err == io.ErrUnexpectedEOF {
		err = io.EOF
	}
	return n, err
}
