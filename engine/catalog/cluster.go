package catalog

import (
	"path"
	"sort"
	"strings"
)

// Clusters: a store root may hold many clusters' backups (a Gardener seed bucket holds one folder per shoot etcd;
// kops keeps main and events side by side). A cluster is the store-relative folder that holds one cluster's
// backups; revisions of different clusters are never compared.

// ClusterOf is the cluster folder of a backup object's folder: for etcd-backup-restore the folder above v2/ (or
// above v1/Backup-<ts>/), for etcd-operator and every other layout the folder that holds the objects. "" is the
// store itself.
func ClusterOf(dir string, layout Layout) string {
	switch layout {
	case EtcdBRv1:
		dir = parent(dir) // Backup-<ts>
		if path.Base(dir) == "v1" {
			dir = parent(dir)
		}
	case EtcdBRv2, EtcdDR:
		if path.Base(dir) == "v2" {
			dir = parent(dir)
		}
	case EtcdManager:
		dir = parent(dir) // <RFC3339>-<seq>
	}
	return dir
}

// HeartbeatCluster is the cluster a heartbeat object belongs to: the folder its members/ folder sits in.
func HeartbeatCluster(key string) string { return parent(path.Dir(key)) }

// IsHeartbeat reports whether key sits in a cluster's members/ folder, where backup daemons write their
// heartbeats (<cluster>/members/<name>.json): never a backup, never a problem, never touched by gc.
func IsHeartbeat(key string) bool { return path.Base(path.Dir(key)) == MembersDir }

// IsControl reports whether key is one of etcd-dr's control objects (<cluster>/control/<name>.json, e.g. the
// restore point the initialization sidecars of one cluster agreed on): never a backup, never a problem, never a
// chain member, so never touched by gc. The one rule for them; writers name them with ControlKey.
func IsControl(key string) bool {
	return path.Base(path.Dir(key)) == ControlDir && strings.HasSuffix(key, ".json")
}

// ControlKey is the key of the control object name (a file name without slashes) in the store's cluster folder.
func ControlKey(name string) string { return ControlDir + "/" + name }

// problemCluster guesses the cluster of an object the catalog could not use, from its folder.
func problemCluster(key string) string {
	dir := path.Dir(key)
	if dir == "." {
		return ""
	}
	switch base := path.Base(dir); {
	case base == "v2":
		return parent(dir)
	case v1Folder.MatchString(base) && path.Base(parent(dir)) == "v1":
		return parent(parent(dir))
	case etcdManagerFolder.MatchString(base):
		return parent(dir)
	}
	return dir
}

func parent(dir string) string {
	p := path.Dir(dir)
	if p == "." || p == "/" {
		return ""
	}
	return p
}

// Clusters lists the clusters that hold at least one chain, sorted.
func (c *Catalog) Clusters() []string {
	seen := map[string]bool{}
	for _, ch := range c.Chains {
		seen[ch.Cluster] = true
	}
	out := make([]string, 0, len(seen))
	for k := range seen {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// WithinCluster names every cluster of c as a folder of prefix: a catalog read from a store narrowed to the
// cluster folder prefix names its clusters as the root listing would.
func (c *Catalog) WithinCluster(prefix string) {
	if prefix == "" {
		return
	}
	join := func(s string) string {
		switch {
		case s == "":
			return prefix
		case strings.HasPrefix(s, ClusterIDSep): // a k3s cluster id of the folder itself
			return prefix + s
		}
		return prefix + "/" + s
	}
	for i := range c.Chains {
		c.Chains[i].Cluster = join(c.Chains[i].Cluster)
	}
	for i := range c.Problems {
		c.Problems[i].Cluster = join(c.Problems[i].Cluster)
	}
}
