package common

import (
	"context"
	"io"

	"github.com/etcd-dr/etcd-dr/engine/catalog"
	"github.com/etcd-dr/etcd-dr/engine/members"
	"github.com/etcd-dr/etcd-dr/engine/pick"
	"github.com/etcd-dr/etcd-dr/engine/progress"
)

// The engine's validate and restore packages are being built beside the TUI. The wizards talk to them through
// these small interfaces; cmd wires the real implementations when they exist (nil = the wizard says so).

// ValidateRequest says what to check: a chain of the store, or a data directory (optionally against the store).
type ValidateRequest struct {
	// Decrypt opens .age objects (nil: refused).
	Decrypt func(io.Reader) (io.Reader, error)
	Source  *Source
	Chain   *catalog.Chain // nil when DataDir is set
	DataDir string
}

// ValidateProblem is one thing found wrong, naming the object or the path.
type ValidateProblem struct {
	Object string
	Path   string
	What   string
}

// ValidateReport is what a validation found.
type ValidateReport struct {
	OK       bool
	Problems []ValidateProblem
	// Checked lists what was checked and passed, one line each.
	Checked []string
}

// Validator runs a validation, reporting progress; it must return when ctx ends.
type Validator interface {
	Validate(ctx context.Context, req ValidateRequest, p progress.Reporter) (*ValidateReport, error)
}

// RestoreRequest is everything a restore needs; the wizard fills it and shows it before asking to confirm.
type RestoreRequest struct {
	// Decrypt opens .age objects (nil: refused).
	Decrypt func(io.Reader) (io.Reader, error)
	Source  *Source
	Pick    *pick.Result
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

// RestoredMember is one data dir a restore wrote.
type RestoredMember struct {
	Name     string
	DataDir  string
	PeerURLs []string
}

// RestoreResult says what the restore wrote.
type RestoreResult struct {
	DataDir       string
	Revision      int64
	DeltasApplied int
	EventsApplied int64
	Seconds       float64
	// Keys is the number of keys at Revision (-1: not counted); ServedRevision the revision etcd serves (after a bump).
	Keys           int64
	ServedRevision int64
	Notes          []string
	Members        []RestoredMember
	// MovedAside is where the occupied data dir went ("" when none was moved).
	MovedAside string
}

// Restorer runs a restore, reporting progress; it must return when ctx ends and never touch an existing data dir.
type Restorer interface {
	Restore(ctx context.Context, req RestoreRequest, p progress.Reporter) (*RestoreResult, error)
}

// ClusterStatus reads the live etcd cluster (members, leader, raft, revision, db size, alarms, health); nil when
// the TUI was started without --endpoints. Unreachable members come back down with their error.
type ClusterStatus interface {
	Status(ctx context.Context) (*members.Cluster, error)
	// Endpoints names what is asked, for the screen.
	Endpoints() []string
}
