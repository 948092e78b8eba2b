package catalog

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/etcd-dr/etcd-dr/store"
)

func objects(keys ...string) []store.Object {
	out := make([]store.Object, len(keys))
	for i, k := range keys {
		out[i] = store.Object{Key: k, Size: 100, ModTime: time.Unix(1700000000, 0)}
	}
	return out
}

// etcd-backup-restore on GCS composes component objects into a snapshot and leaves them until its GC:
// leftovers are a note on the chain, components without their composite a problem naming them.
func TestChunkComposites(t *testing.T) {
	const full = "shoot-a/v2/Full-00000000-00000100-1700000000.gz"
	const delta = "shoot-a/v2/Incr-00000101-00000120-1700000060.gz"
	cases := []struct {
		name     string
		keys     []string
		chains   int
		notes    []string // substrings of the first chain's notes
		problems []Problem
		what     []string // substrings of the problems' What, in order
	}{
		{
			name:   "components beside their composite (GCS)",
			keys:   []string{full, full + "/0000000001", full + "/0000000002", full + "/0000000003", delta},
			chains: 1, notes: []string{"3 leftover chunks of Full-00000000-00000100-1700000000.gz in " + full + "/"},
		},
		{
			// swift_snapstore.go uploadChunk: "<snapshot>/%010d" from 1, then the DLO manifest at "<snapshot>".
			name:   "Swift segments beside their manifest, synced to another store",
			keys:   []string{full + "/0000000001", full + "/0000000002", full, delta},
			chains: 1, notes: []string{"2 leftover chunks of Full-00000000-00000100-1700000000.gz in " + full + "/"},
		},
		{
			name:   "emulator naming with .chunk",
			keys:   []string{full, full + ".chunk/0000000001", full + ".chunk/0000000002"},
			chains: 1, notes: []string{"2 leftover chunks of Full-00000000-00000100-1700000000.gz in " + full + ".chunk/"},
		},
		{
			name:   "components of a delta",
			keys:   []string{full, delta, delta + "/0000000001"},
			chains: 1, notes: []string{"1 leftover chunks of Incr-00000101-00000120-1700000060.gz"},
		},
		{
			name:     "components without their composite",
			keys:     []string{full, delta + "/0000000001", delta + "/0000000002"},
			chains:   1,
			problems: []Problem{{Object: delta + "/", Cluster: "shoot-a"}},
			what:     []string{"2 chunks (" + delta + "/0000000001, " + delta + "/0000000002) of an etcd-backup-restore upload that was never composed into " + delta},
		},
		{
			name:     "emulator components (.chunk) without their composite",
			keys:     []string{full, delta + ".chunk/0000000001"},
			chains:   1,
			problems: []Problem{{Object: delta + ".chunk/", Cluster: "shoot-a"}},
			what:     []string{"1 chunk (" + delta + ".chunk/0000000001) of an etcd-backup-restore upload that was never composed into " + delta},
		},
		{
			name:     "many components are named first and last",
			keys:     []string{full + "/0000000001", full + "/0000000002", full + "/0000000003", full + "/0000000031"},
			problems: []Problem{{Object: full + "/", Cluster: "shoot-a"}},
			what:     []string{"4 chunks (" + full + "/0000000001 … " + full + "/0000000031)"},
		},
		{
			name:     "v1 layout",
			keys:     []string{"v1/Backup-1700000000/Full-00000000-00000005-1700000000", "v1/Backup-1700000000/Full-00000000-00000005-1700000000/0000000001", "v1/Backup-1700000001/Full-00000000-00000009-1700000001/0000000001"},
			chains:   1,
			notes:    []string{"1 leftover chunks of Full-00000000-00000005-1700000000"},
			problems: []Problem{{Object: "v1/Backup-1700000001/Full-00000000-00000009-1700000001/", Cluster: ""}},
			what:     []string{"never composed into v1/Backup-1700000001/Full-00000000-00000009-1700000001"},
		},
		{
			name:     "other objects in a snapshot's folder stay problems",
			keys:     []string{full, full + "/notes.txt", full + "/12345"},
			chains:   1,
			problems: []Problem{{Object: full + "/notes.txt", Cluster: full}, {Object: full + "/12345", Cluster: full}},
			what:     []string{"chunk of an unfinished multipart upload", "chunk of an unfinished multipart upload"},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cat := Build("gs://b", objects(c.keys...))
			require.Len(t, cat.Chains, c.chains, "%+v", cat.Chains)
			if len(c.notes) > 0 {
				notes := strings.Join(cat.Chains[0].Notes, "\n")
				for _, n := range c.notes {
					require.Contains(t, notes, n)
				}
				require.Empty(t, cat.Chains[0].Problems)
			}
			require.Len(t, cat.Problems, len(c.problems), "%+v", cat.Problems)
			for i, p := range c.problems {
				require.Equal(t, p.Object, cat.Problems[i].Object)
				require.Equal(t, p.Cluster, cat.Problems[i].Cluster)
				require.Contains(t, cat.Problems[i].What, c.what[i])
			}
		})
	}
}

// An empty composite is a problem of its own; its components are named in it, not counted twice.
func TestChunksOfAnEmptyComposite(t *testing.T) {
	const full = "v2/Full-00000000-00000100-1700000000.gz"
	objs := objects(full, full+"/0000000001")
	objs[0].Size = 0
	cat := Build("gs://b", objs)
	require.Empty(t, cat.Chains)
	require.Len(t, cat.Problems, 1, "%+v", cat.Problems)
	require.Equal(t, full, cat.Problems[0].Object)
	require.Contains(t, cat.Problems[0].What, "empty object")
	require.Contains(t, cat.Problems[0].What, "1 leftover chunks of its upload in "+full+"/")
}
