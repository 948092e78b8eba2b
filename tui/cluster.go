package tui

import (
	"context"

	"github.com/etcd-dr/etcd-dr/engine/etcdconn"
	"github.com/etcd-dr/etcd-dr/engine/status"
)

// EngineCluster asks the etcd cluster through engine/status (the Members screen's live view).
type EngineCluster struct {
	Conn etcdconn.Config
}

// Status queries every member (each bounded by the members package's timeout).
func (e EngineCluster) Status(ctx context.Context) (*status.Cluster, error) {
	return status.Query(ctx, status.Config{Conn: e.Conn})
}

// Endpoints are the --endpoints asked.
func (e EngineCluster) Endpoints() []string { return e.Conn.Endpoints }
