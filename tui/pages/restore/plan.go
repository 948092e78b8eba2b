package restore

import (
	"fmt"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/etcd-dr/etcd-dr/engine"
	"github.com/etcd-dr/etcd-dr/engine/restore"
	"github.com/etcd-dr/etcd-dr/tui/common"
)

// plan says exactly what the restore will do.
func (p *Page) plan(occupied bool) []string {
	r, q := p.res, p.req
	deltas := len(r.Snapshots()) - 1
	into := fmt.Sprintf("into the NEW data directory %s.", q.DataDir)
	if occupied {
		into = fmt.Sprintf("into the data directory %s, which holds data now.", q.DataDir)
	}
	lines := []string{
		fmt.Sprintf("Restore revision %d from %s", r.Revision, common.Safe(engine.Redact(p.src.URL))),
		fmt.Sprintf("using full snapshot %s and %s,", common.BaseName(r.Chain.Base.Key), common.Plural(deltas, "delta", "deltas")),
		into,
		"It is built in a temporary directory beside it and renamed into place only when complete and checked.",
	}
	if occupied {
		lines = append(lines, fmt.Sprintf("Move aside: the data there now is first renamed to %s.broken-<timestamp>, kept whole.", filepath.Base(q.DataDir)))
	}
	lines = append(lines, "Nothing is deleted or overwritten; the running cluster is not touched.")
	switch {
	case q.AllMembers:
		lines = append(lines, fmt.Sprintf("One data dir per member of %s, as %s/<name>.etcd, token %s.", q.InitialCluster, q.DataDir, orDefault(q.InitialClusterToken)))
	case q.Name != "":
		lines = append(lines, fmt.Sprintf("Member %s, initial cluster %s, peer URLs %s, token %s.", q.Name, orDefault(q.InitialCluster), orDefault(q.InitialAdvertisePeerURLs), orDefault(q.InitialClusterToken)))
	}
	if q.BumpRevision > 0 {
		lines = append(lines, fmt.Sprintf("Revisions are bumped by %d (mark compacted: %v).", q.BumpRevision, q.MarkCompacted))
	} else {
		lines = append(lines, "If this cluster serves Kubernetes, go back and set a revision bump and mark compacted, so watchers do not go back in time.")
	}
	return lines
}

func orDefault(s string) string {
	if s == "" {
		return "(default)"
	}
	return s
}

// EtcdCommand is the command line that starts the restored member, quoted for a shell.
func EtcdCommand(q common.RestoreRequest) string {
	args := []string{"etcd", "--data-dir", q.DataDir}
	if q.Name != "" {
		args = append(args, "--name", q.Name)
	}
	if q.InitialAdvertisePeerURLs != "" {
		args = append(args, "--initial-advertise-peer-urls", q.InitialAdvertisePeerURLs, "--listen-peer-urls", q.InitialAdvertisePeerURLs)
	}
	if q.InitialCluster != "" {
		args = append(args, "--initial-cluster", q.InitialCluster)
	}
	if q.InitialClusterToken != "" {
		args = append(args, "--initial-cluster-token", q.InitialClusterToken)
	}
	return common.ShellLine(args...)
}

// MemberCommand is the command line that starts one member of a multi-member restore, quoted for a shell.
func MemberCommand(q common.RestoreRequest, m restore.MemberDir) string {
	args := []string{"etcd", "--name", m.Name, "--data-dir", m.DataDir}
	if len(m.PeerURLs) > 0 {
		u := strings.Join(m.PeerURLs, ",")
		args = append(args, "--initial-advertise-peer-urls", u, "--listen-peer-urls", u)
	}
	args = append(args, "--initial-cluster", q.InitialCluster)
	if q.InitialClusterToken != "" {
		args = append(args, "--initial-cluster-token", q.InitialClusterToken)
	}
	return common.ShellLine(args...)
}

// CLICommand is the scripted equivalent of the wizard, quoted for a shell, with the store URL redacted as the
// CLI prints it (credentials and signatures never reach the screen; the SRE's environment supplies them).
func CLICommand(src string, rev int64, q common.RestoreRequest) string {
	args := []string{"etcd-dr", "restore", "--non-interactive", "--store", engine.Redact(src), "--revision", strconv.FormatInt(rev, 10), "--data-dir", q.DataDir}
	if q.Name != "" {
		args = append(args, "--name", q.Name)
	}
	if q.InitialCluster != "" {
		args = append(args, "--initial-cluster", q.InitialCluster)
	}
	if q.InitialAdvertisePeerURLs != "" {
		args = append(args, "--initial-advertise-peer-urls", q.InitialAdvertisePeerURLs)
	}
	if q.InitialClusterToken != "" {
		args = append(args, "--initial-cluster-token", q.InitialClusterToken)
	}
	if q.BumpRevision > 0 {
		args = append(args, "--bump-revision", strconv.FormatInt(q.BumpRevision, 10))
	}
	if q.MarkCompacted {
		args = append(args, "--mark-compacted")
	}
	if q.AllMembers {
		args = append(args, "--all-members")
	}
	if q.MoveAside {
		args = append(args, "--move-aside")
	}
	return common.Safe(common.ShellLine(args...))
}
