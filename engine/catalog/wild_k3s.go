package catalog

import (
	"regexp"
	"strings"
)

// k3s/rke2 upload each snapshot with S3 user metadata (k3s pkg/etcd/s3/s3.go: clusterIDKey, nodeNameKey,
// tokenHashKey, built from version.Program, so "rke2-…" for rke2): the cluster id is the UID of the kube-system
// namespace, the one name a cluster keeps for life. Several clusters often share one bucket folder (k3s's default
// folder is the bucket root; rancher #38305, k3s #11053), so on an object store the cluster id, not the folder,
// says which cluster a snapshot belongs to.
const (
	metaK3sNode       = "k3s-node-name"
	metaRKE2Node      = "rke2-node-name"
	metaK3sClusterID  = "k3s-cluster-id"
	metaRKE2ClusterID = "rke2-cluster-id"
)

// ClusterIDSep joins a folder and a k3s/rke2 cluster id into a cluster name: "<folder>@<cluster id>" ("@<id>" at
// the store root). A folder cannot hold two clusters, an id can: the name says both.
const ClusterIDSep = "@"

// clusterIDPattern is what a cluster id may look like to become part of a cluster name (k3s's are UUIDs); metadata
// is the uploader's text, so anything else is ignored rather than put into names and flags.
var clusterIDPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)

// applyK3sMetadata takes the node, cluster id and rke2 layout from the S3 user metadata k3s/rke2 set.
func applyK3sMetadata(s *Snapshot, md map[string]string) {
	if md == nil {
		return
	}
	switch {
	case md[metaRKE2Node] != "" || md[metaRKE2ClusterID] != "":
		s.Layout = RKE2
		s.Node = orElse(md[metaRKE2Node], s.Node)
		s.ClusterID = md[metaRKE2ClusterID]
	case md[metaK3sNode] != "" || md[metaK3sClusterID] != "":
		s.Node = orElse(md[metaK3sNode], s.Node)
		s.ClusterID = md[metaK3sClusterID]
	}
	if !clusterIDPattern.MatchString(s.ClusterID) {
		s.ClusterID = ""
	}
}

func orElse(v, def string) string {
	if v != "" {
		return v
	}
	return def
}

// clusterOfChain is the cluster a chain belongs to: its folder (ClusterOf), narrowed by the k3s/rke2 cluster id
// when its snapshot carries one.
func clusterOfChain(ch Chain) string {
	c := ClusterOf(ch.Base.Dir, ch.Base.Layout)
	if ch.Base.ClusterID != "" {
		c += ClusterIDSep + ch.Base.ClusterID
	}
	return c
}

// SplitCluster splits a cluster name as list shows it into the store folder that holds it and the k3s/rke2
// cluster id that narrows it ("" when the folder alone is the cluster).
func SplitCluster(name string) (folder, clusterID string) {
	i := strings.LastIndex(name, ClusterIDSep)
	if i < 0 || !clusterIDPattern.MatchString(name[i+1:]) || strings.Contains(name[i+1:], "/") {
		return name, ""
	}
	return strings.TrimRight(name[:i], "/"), name[i+1:]
}

// KeepCluster drops the chains of every cluster but name (a folder@id cluster of a shared k3s folder); the
// folder's problems and heartbeats stay, since no cluster id names them.
func (c *Catalog) KeepCluster(name string) {
	kept := c.Chains[:0]
	for _, ch := range c.Chains {
		if ch.Cluster == name {
			kept = append(kept, ch)
		}
	}
	c.Chains = kept
}
