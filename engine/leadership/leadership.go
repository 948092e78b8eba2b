package leadership

// Leadership says whether this member may take snapshots, run GC and defragment. Only one member of a cluster
// is leader at a time (Elector decides it from etcd's raft view). The daemon and defrag both ask it.
type Leadership interface {
	IsLeader() bool
}

// AlwaysLeader is the Leadership of a single member.
type AlwaysLeader struct{}

// IsLeader is always true.
func (AlwaysLeader) IsLeader() bool { return true }
