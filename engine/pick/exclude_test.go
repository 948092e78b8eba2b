package pick

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/etcd-dr/etcd-dr/engine/catalog"
	"github.com/etcd-dr/etcd-dr/engine/fault"
)

// etcd-backup-restore marks a snapshot x-etcd-snapshot-exclude=true (GCS object metadata): it stays listed,
// marked, and pick passes over it, saying so when it was the newest.
func TestPickSkipsExcluded(t *testing.T) {
	o := objs(
		"v2/Full-00000000-00000100-1700000000.gz",
		"v2/Full-00000000-00000300-1700000120.gz",
	)
	o[1].Metadata = map[string]string{catalog.MetaExclude: "true"}
	cat := catalog.Build("gs://br", o)
	require.Len(t, cat.Chains, 2, "an excluded snapshot is still listed")
	var excluded catalog.Snapshot
	for _, ch := range cat.Chains {
		if ch.Base.Key == o[1].Key {
			excluded = ch.Base
		}
	}
	require.Contains(t, excluded.Excluded, "x-etcd-snapshot-exclude=true")

	res, err := Pick(cat, Config{})
	require.NoError(t, err)
	require.Equal(t, int64(100), res.Revision)
	require.Equal(t, o[0].Key, res.Chain.Base.Key)
	require.Len(t, res.Refused, 1)
	require.Equal(t, o[1].Key, res.Refused[0].Key)
	require.Contains(t, res.Refused[0].Why, "excluded")
	require.Len(t, res.Warnings, 1)
	require.Contains(t, res.Warnings[0], "newest backup "+o[1].Key+" is not used")

	_, err = Pick(cat, Config{Revision: 300})
	require.ErrorIs(t, err, fault.ErrNothingCompatible, "an excluded snapshot's revision is not offered")

	o[0].Metadata = map[string]string{catalog.MetaExclude: "TRUE"}
	_, err = Pick(catalog.Build("gs://br", o), Config{})
	require.ErrorIs(t, err, fault.ErrNothingCompatible)
	require.Contains(t, err.Error(), "can be picked")
	require.Contains(t, err.Error(), "excluded")

	o[0].Metadata = map[string]string{catalog.MetaExclude: "false"}
	o[1].Metadata = nil
	res, err = Pick(catalog.Build("gs://br", o), Config{})
	require.NoError(t, err)
	require.Equal(t, int64(300), res.Revision, "false or absent excludes nothing")
}
