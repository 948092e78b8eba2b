package restore

import (
	"fmt"
	"path/filepath"
	"sort"
	"strings"
	"unicode"

	"go.etcd.io/etcd/client/pkg/v3/types"
	"go.etcd.io/etcd/etcdutl/v3/snapshot"
	"go.etcd.io/etcd/server/v3/storage/backend"

	"github.com/etcd-dr/etcd-dr/engine/fault"
)

// Cluster is the membership a restored data dir starts with: etcdutl snapshot restore's flags.
type Cluster struct {
	// Name of the member (default "default"; ignored with AllMembers).
	Name string
	// InitialCluster is name=peerURL[,name=peerURL...] (default "<Name>=<first of PeerURLs>").
	InitialCluster string
	// PeerURLs are the member's --initial-advertise-peer-urls (default http://localhost:2380; with AllMembers each
	// member's URLs come from InitialCluster).
	PeerURLs []string
	// Token is the --initial-cluster-token (default "etcd-cluster").
	Token string
}

// Defaults of etcdutl snapshot restore.
const (
	DefaultName    = "default"
	DefaultPeerURL = "http://localhost:2380"
	DefaultToken   = "etcd-cluster"
)

// CheckSettings refuses membership and revision settings a restore would refuse, changing nothing: the one rule
// the faces apply before they ask to confirm (the target is CheckTarget's).
func CheckSettings(cfg Config) error {
	_, err := cfg.settings()
	return err
}

// settings checks the settings of cfg and resolves the members to write.
func (cfg *Config) settings() ([]MemberDir, error) {
	members, err := cfg.members()
	if err != nil {
		return nil, err
	}
	if (cfg.BumpRevision > 0) != cfg.MarkCompacted {
		return nil, fault.Bad("revision bump and mark-compacted", "", "go together (as in etcdutl): set both, e.g. a bump of 1000000000 and mark-compacted")
	}
	return members, nil
}

// members resolves the cluster flags into the members to write, refusing inconsistent ones up front.
func (cfg *Config) members() ([]MemberDir, error) {
	c := cfg.Cluster
	if c.Token == "" {
		c.Token = DefaultToken
	}
	cfg.Cluster.Token = c.Token
	if cfg.AllMembers {
		if c.InitialCluster == "" {
			return nil, fault.Bad("initial cluster", "", "is required to write every member's data dir: name=peerURL,...")
		}
		urls, err := types.NewURLsMap(c.InitialCluster)
		if err != nil {
			return nil, fault.Bad("initial cluster", c.InitialCluster, "%v (want name=http://host:2380,...)", err)
		}
		names := make([]string, 0, len(urls))
		for n := range urls {
			if err := CheckMemberName(n); err != nil {
				return nil, err
			}
			names = append(names, n)
		}
		sort.Strings(names)
		out := make([]MemberDir, 0, len(names))
		for _, n := range names {
			out = append(out, MemberDir{Name: n, PeerURLs: urls[n].StringSlice()})
		}
		return out, nil
	}
	if c.Name == "" {
		c.Name = DefaultName
	}
	if err := CheckMemberName(c.Name); err != nil {
		return nil, err
	}
	if len(c.PeerURLs) == 0 {
		c.PeerURLs = []string{DefaultPeerURL}
	}
	if c.InitialCluster == "" {
		c.InitialCluster = c.Name + "=" + c.PeerURLs[0]
	}
	cfg.Cluster = c
	urls, err := types.NewURLsMap(c.InitialCluster)
	if err != nil {
		return nil, fault.Bad("initial cluster", c.InitialCluster, "%v (want name=http://host:2380,...)", err)
	}
	for n := range urls {
		if err := CheckMemberName(n); err != nil {
			return nil, err
		}
	}
	mine, ok := urls[c.Name]
	if !ok {
		return nil, fault.Bad("member name", c.Name, "is not in the initial cluster %q", c.InitialCluster)
	}
	peers, err := types.NewURLs(c.PeerURLs)
	if err != nil {
		return nil, fault.Bad("peer URLs", strings.Join(c.PeerURLs, ","), "%v", err)
	}
	if strings.Join(mine.StringSlice(), ",") != strings.Join(peers.StringSlice(), ",") {
		return nil, fault.Bad("peer URLs", strings.Join(peers.StringSlice(), ","), "differ from %s's entry in the initial cluster (%s); they must match", c.Name, strings.Join(mine.StringSlice(), ","))
	}
	return []MemberDir{{Name: c.Name, PeerURLs: peers.StringSlice()}}, nil
}

// CheckMemberName refuses a member name that is not a plain etcd name: empty, "." or "..", or holding a path
// separator, NUL or another control character. Member names become folder names (<name>.etcd) and are printed
// in start commands, so such a name could write outside the target or garble a terminal.
func CheckMemberName(name string) error {
	bad := ""
	switch {
	case name == "":
		bad = "is empty"
	case name == "." || name == "..":
		bad = "is a relative path"
	case strings.ContainsAny(name, `/\`):
		bad = "holds a path separator"
	case strings.ContainsFunc(name, unicode.IsControl):
		bad = "holds a control character"
	case strings.HasPrefix(name, "-"):
		bad = "starts with '-', which etcd would read as a flag"
	}
	if bad != "" {
		return fault.Refused("member name %q %s: member names are plain etcd names (letters, digits, '-', '_', '.'), e.g. etcd-0", name, bad)
	}
	return nil
}

// memberDataDir is the one place a member's data dir path is made from its name: <parent>/<name>.etcd, never
// outside parent.
func memberDataDir(parent, name string) (string, error) {
	if err := CheckMemberName(name); err != nil {
		return "", err
	}
	p := filepath.Join(parent, name+".etcd")
	if filepath.Dir(p) != filepath.Clean(parent) {
		return "", fault.Refused("member name %q would place its data dir outside %s", name, parent)
	}
	return p, nil
}

// snapshotSource is the file etcdutl restores from: our verified (and maybe replayed) db, or a store's own file
// whose sha256 etcdutl checks.
type snapshotSource struct {
	path     string
	verified bool
}

// writeMember makes one member's data dir with etcdutl's restore (membership, WAL, snap, consistent index, and the
// optional revision bump).
func writeMember(cfg Config, src snapshotSource, m MemberDir) (err error) {
	defer func() {
		if p := recover(); p != nil { // etcd's backend panics on a db it cannot open
			err = fault.Problems("write data dir of member %s: etcd's storage cannot load the snapshot: %v", m.Name, p)
		}
	}()
	initial := cfg.Cluster.InitialCluster
	err = snapshot.NewV3(cfg.Logger).Restore(snapshot.RestoreConfig{
		SnapshotPath:        src.path,
		Name:                m.Name,
		OutputDataDir:       m.DataDir,
		PeerURLs:            m.PeerURLs,
		InitialCluster:      initial,
		InitialClusterToken: cfg.Cluster.Token,
		SkipHashCheck:       src.verified, // verified while downloading (and the deltas changed the db since)
		RevisionBump:        cfg.BumpRevision,
		MarkCompacted:       cfg.MarkCompacted,
		InitialMmapSize:     backend.InitialMmapSize, // etcdutl's default
	})
	switch {
	case err == nil:
		return nil
	case !src.verified && strings.Contains(err.Error(), "sha256"):
		return fault.Problems("full snapshot %s failed its checksum: %v", src.path, err)
	case !src.verified && (strings.Contains(err.Error(), "missing hash") || strings.Contains(err.Error(), "invalid")):
		return fault.Problems("full snapshot %s is not a whole etcd snapshot: %v", src.path, err)
	}
	return fmt.Errorf("write data dir of member %s: %w", m.Name, err)
}
