package catalog

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/etcd-dr/etcd-dr/store"
)

// k3s and rke2 snapshots of several clusters in one folder (k3s's default: the bucket root) are told apart by the
// cluster id k3s puts in their S3 user metadata; without it the folder is the cluster.
func TestK3sClusterIDGroups(t *testing.T) {
	const size = 4*4096 + 32
	obj := func(key string, md map[string]string) store.Object {
		return store.Object{Key: key, Size: size, Metadata: md}
	}
	objs := []store.Object{
		obj("etcd-snapshot-a-0-1700000000", map[string]string{metaK3sClusterID: "uid-a", metaK3sNode: "a-0"}),
		obj("etcd-snapshot-a-1-1700000100", map[string]string{metaK3sClusterID: "uid-a", metaK3sNode: "a-1"}),
		obj("etcd-snapshot-b-0-1700000200", map[string]string{metaK3sClusterID: "uid-b", metaK3sNode: "b-0"}),
		obj("etcd-snapshot-r-0-1700000300", map[string]string{metaRKE2ClusterID: "uid-r", metaRKE2Node: "r-0"}),
		obj("etcd-snapshot-old-0-1700000400", nil),                                             // k3s before it wrote metadata
		obj("etcd-snapshot-x-0-1700000500", map[string]string{metaK3sClusterID: "../../evil"}), // not an id
		obj("k3s/etcd-snapshot-c-0-1700000600", map[string]string{metaK3sClusterID: "uid-c", metaK3sNode: "c-0"}),
	}
	probed := map[string]Probe{}
	for i, o := range objs {
		probed[o.Key] = Probe{Revision: int64(10 + i)}
	}
	cat := build("s3://b", objs, probed)
	got := map[string]Chain{}
	for _, ch := range cat.Chains {
		got[ch.Base.Key] = ch
	}
	require.Len(t, got, len(objs), "%+v", cat.Problems)
	for key, want := range map[string]struct{ cluster, node string }{
		"etcd-snapshot-a-0-1700000000":     {"@uid-a", "a-0"},
		"etcd-snapshot-a-1-1700000100":     {"@uid-a", "a-1"},
		"etcd-snapshot-b-0-1700000200":     {"@uid-b", "b-0"},
		"etcd-snapshot-r-0-1700000300":     {"@uid-r", "r-0"},
		"etcd-snapshot-old-0-1700000400":   {"", "old-0"},
		"etcd-snapshot-x-0-1700000500":     {"", "x-0"},
		"k3s/etcd-snapshot-c-0-1700000600": {"k3s@uid-c", "c-0"},
	} {
		require.Equal(t, want.cluster, got[key].Cluster, key)
		require.Equal(t, want.node, got[key].Base.Node, key)
	}
	require.Equal(t, RKE2, got["etcd-snapshot-r-0-1700000300"].Layout)
	require.Equal(t, "uid-a", got["etcd-snapshot-a-0-1700000000"].Base.ClusterID)
	require.Equal(t, []string{"", "@uid-a", "@uid-b", "@uid-r", "k3s@uid-c"}, cat.Clusters())

	// A catalog read from the folder names the clusters as the root's listing does; KeepCluster narrows to one id.
	sub := build("s3://b/k3s", []store.Object{obj("etcd-snapshot-c-0-1700000600", objs[6].Metadata), obj("etcd-snapshot-d-0-1700000700", map[string]string{metaK3sClusterID: "uid-d"})},
		map[string]Probe{"etcd-snapshot-c-0-1700000600": {Revision: 5}, "etcd-snapshot-d-0-1700000700": {Revision: 6}})
	sub.WithinCluster("k3s")
	require.Equal(t, []string{"k3s@uid-c", "k3s@uid-d"}, sub.Clusters())
	sub.KeepCluster("k3s@uid-d")
	require.Len(t, sub.Chains, 1)
	require.Equal(t, int64(6), sub.Chains[0].EndRevision)
}

func TestSplitCluster(t *testing.T) {
	for name, want := range map[string][2]string{
		"k3s@2b6c5f1e-0d7a-4c1e-9b1a-3f2c4d5e6f70": {"k3s", "2b6c5f1e-0d7a-4c1e-9b1a-3f2c4d5e6f70"},
		"@uid":          {"", "uid"},
		"a/b@uid":       {"a/b", "uid"},
		"k3s":           {"k3s", ""},
		"team@corp/k3s": {"team@corp/k3s", ""}, // an @ in a folder name, not an id
		"k3s@":          {"k3s@", ""},
		"":              {"", ""},
	} {
		f, id := SplitCluster(name)
		require.Equal(t, want, [2]string{f, id}, name)
	}
}
