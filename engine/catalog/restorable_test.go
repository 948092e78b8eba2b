package catalog

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// A chain whose full snapshot is marked excluded restores to nothing: the newest restorable revision (what
// validate compares a data dir with, and what initialize and the fleet show) is the newest chain pick may use.
func TestNewestRestorableSkipsExcluded(t *testing.T) {
	objs := objects("v2/Full-00000000-00000100-1700000000.gz", "v2/Full-00000000-00000300-1700000120.gz",
		"v2/Incr-00000301-00000310-1700000130.gz")
	require.Equal(t, int64(310), NewestRestorable(Build("file:///b", objs)))
	objs[1].Metadata = map[string]string{MetaExclude: "true"}
	cat := Build("file:///b", objs)
	require.Equal(t, int64(100), NewestRestorable(cat))
	for _, ch := range cat.Chains {
		if ch.Base.Key == objs[1].Key {
			require.Equal(t, int64(310), ch.RestorableRevision, "the chain itself still lists what it holds")
			require.Zero(t, ch.Restores())
		}
	}
}
