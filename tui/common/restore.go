package common

import (
	"context"

	"github.com/etcd-dr/etcd-dr/engine/members"
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

// ClusterStatus reads the live etcd cluster (members, leader, raft, revision, db size, alarms, health); nil when
// the TUI was started without --endpoints. Unreachable members come back down with their error.
type ClusterStatus interface {
	Status(ctx context.Context) (*members.Cluster, error)
	// Endpoints names what is asked, for the screen.
	Endpoints() []string
}
