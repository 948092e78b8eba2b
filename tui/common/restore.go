package common

import (
	"context"
	"strings"

	"github.com/etcd-dr/etcd-dr/engine/restore"
	"github.com/etcd-dr/etcd-dr/engine/status"
)

// RestoreRequest is the Restore wizard's form (and restore's flags when a verb opens it): the page turns it into
// the engine's restore.Config.
type RestoreRequest struct {
	DataDir string
	// Member settings; empty for a single-member restore with etcd's defaults.
	Name                     string
	InitialCluster           string
	InitialAdvertisePeerURLs string
	InitialClusterToken      string
	// MoveAside renames an occupied DataDir to <DataDir>.broken-<timestamp> once the restore is ready.
	MoveAside bool
	// AllMembers writes one data dir per member of InitialCluster, as <DataDir>/<name>.etcd, from one replay.
	AllMembers bool
	// BumpRevision and MarkCompacted keep Kubernetes watchers from going back in time.
	BumpRevision  int64
	MarkCompacted bool
}

// Config is the form as the engine's restore takes it.
func (q RestoreRequest) Config() restore.Config {
	cfg := restore.Config{
		DataDir:       q.DataDir,
		Cluster:       restore.Cluster{Name: q.Name, InitialCluster: q.InitialCluster, Token: q.InitialClusterToken},
		BumpRevision:  uint64(max(q.BumpRevision, 0)),
		MarkCompacted: q.MarkCompacted,
		AllMembers:    q.AllMembers,
		MoveAside:     q.MoveAside,
	}
	if q.InitialAdvertisePeerURLs != "" {
		cfg.Cluster.PeerURLs = strings.Split(q.InitialAdvertisePeerURLs, ",")
	}
	return cfg
}

// ClusterStatus reads the live etcd cluster (members, leader, raft, revision, db size, alarms, health); nil when
// the TUI was started without --endpoints. Unreachable members come back down with their error.
type ClusterStatus interface {
	Status(ctx context.Context) (*status.Cluster, error)
	// Endpoints names what is asked, for the screen.
	Endpoints() []string
}
