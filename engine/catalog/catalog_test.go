package catalog

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/etcd-dr/etcd-dr/engine/format"
	"github.com/etcd-dr/etcd-dr/store"
)

func TestParseName(t *testing.T) {
	cases := []struct {
		name, key string
		ok        bool
		kind      Kind
		layout    Layout
		start     int64
		end       int64
		comp      format.Compression
		final     bool
		encrypted bool
		version   string
	}{
		{"v2 full gzip", "v2/Full-00000000-00000123-1700000000.gz", true, Full, EtcdBRv2, 0, 123, format.Gzip, false, false, ""},
		{"v2 delta zlib", "v2/Incr-00000124-00000200-1700000060.zlib", true, Delta, EtcdBRv2, 124, 200, format.Zlib, false, false, ""},
		{"v2 delta lzw final", "v2/Incr-00000124-00000200-1700000060.Z.final", true, Delta, EtcdBRv2, 124, 200, format.LZW, true, false, ""},
		{"v2 uncompressed", "v2/Full-00000000-00000001-1700000000", true, Full, EtcdBRv2, 0, 1, format.None, false, false, ""},
		{"wide revisions", "v2/Incr-123456789-123456799-1700000000.gz", true, Delta, EtcdBRv2, 123456789, 123456799, format.Gzip, false, false, ""},
		{"v1 folder", "v1/Backup-1700000000/Full-00000000-00000005-1700000000.gz", true, Full, EtcdBRv1, 0, 5, format.Gzip, false, false, ""},
		{"etcd-dr zstd age", "v2/Full-00000000-00000009-1700000000.zst.age", true, Full, EtcdDR, 0, 9, format.Zstd, false, true, ""},
		{"etcd-dr final then age", "v2/Incr-00000010-00000019-1700000000.gz.final.age", true, Delta, EtcdDR, 10, 19, format.Gzip, true, true, ""},
		{"operator", "v1/etcd-cluster/3.5.9_0000000000000050_etcd.backup", true, Full, Operator, 80, 80, format.None, false, false, "3.5.9"},
		{"operator at root", "3.6.4_00000000000f4240_etcd.backup", true, Full, Operator, 1000000, 1000000, format.None, false, false, "3.6.4"},
		{"end before start", "v2/Incr-00000010-00000009-1700000000.gz", false, "", "", 0, 0, "", false, false, ""},
		{"unknown suffix", "v2/Full-00000000-00000009-1700000000.bz2", false, "", "", 0, 0, "", false, false, ""},
		{"operator short hex", "3.6.4_f4240_etcd.backup", false, "", "", 0, 0, "", false, false, ""},
		{"random", "notes.txt", false, "", "", 0, 0, "", false, false, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s, ok := ParseName(c.key)
			require.Equal(t, c.ok, ok)
			if !ok {
				return
			}
			require.Equal(t, c.kind, s.Kind)
			require.Equal(t, c.layout, s.Layout)
			require.Equal(t, c.start, s.StartRevision)
			require.Equal(t, c.end, s.EndRevision)
			require.Equal(t, c.comp, s.Codec)
			require.Equal(t, c.final, s.Final)
			require.Equal(t, c.encrypted, s.Encrypted)
			require.Equal(t, c.version, s.EtcdVersion)
		})
	}
}

func TestNameRoundTrip(t *testing.T) {
	ts := time.Unix(1700000000, 0)
	for _, c := range []format.Compression{format.None, format.Gzip, format.Zlib, format.LZW, format.Zstd} {
		for _, final := range []bool{false, true} {
			n := Name(Delta, 11, 20, ts, c, final, false)
			s, ok := ParseName("v2/" + n)
			require.True(t, ok, n)
			require.Equal(t, c, s.Codec, n)
			require.Equal(t, final, s.Final, n)
			require.Equal(t, int64(11), s.StartRevision)
			require.Equal(t, ts.Unix(), s.Time.Unix())
		}
	}
	s, ok := ParseName(OperatorName("3.6.16", 223))
	require.True(t, ok)
	require.Equal(t, int64(223), s.EndRevision)
}

func obj(key string) store.Object { return store.Object{Key: key, Size: 100} }

func TestBuildChainsGapsOverlapsAndProblems(t *testing.T) {
	objs := []store.Object{
		obj("v2/Incr-00000001-00000050-1699999000.gz"), // before any full snapshot
		obj("v2/Full-00000000-00000100-1700000000.gz"),
		obj("v2/Incr-00000101-00000200-1700000060.gz"),
		obj("v2/Incr-00000201-00000300-1700000120.gz"),
		// 301-400 missing: a gap
		obj("v2/Incr-00000401-00000500-1700000240.gz"),
		obj("v2/Incr-00000450-00000520-1700000250.gz"), // overlaps the previous (leader handover)
		obj("v2/Incr-00000460-00000470-1700000255.gz"), // already covered
		obj("v2/Full-00000000-00000600-1700000300.gz"),
		obj("v2/Incr-00000601-00000650-1700000360.gz"),
		obj("v2/Full-00000000-00000700-1700000400.gz.tmp"),
		obj("v2/notes.txt"),
		{Key: "v2/Incr-00000651-00000660-1700000420.gz", Size: 0},
		obj("members/etcd-0.json"),
	}
	cat := Build("mem://t", objs)
	require.Len(t, cat.Chains, 2)
	first, second := cat.Chains[0], cat.Chains[1]
	require.Equal(t, int64(100), first.Base.EndRevision)
	require.Len(t, first.Deltas, 4, "the covered delta is skipped")
	require.Equal(t, []Gap{{From: 301, To: 400}}, first.Gaps)
	require.Equal(t, int64(300), first.RestorableRevision)
	require.Equal(t, int64(520), first.EndRevision)
	require.Len(t, first.Problems, 1)
	require.Contains(t, first.Problems[0], "revisions 301-400")
	require.Len(t, first.Notes, 2)
	require.Contains(t, first.Notes[0], "overlaps")
	require.Contains(t, first.Notes[1], "already covered")

	require.Equal(t, int64(600), second.Base.EndRevision)
	// The empty last delta stays in its chain as a gap that names it: the chain does not silently end before it.
	require.Equal(t, int64(650), second.RestorableRevision)
	require.Equal(t, int64(660), second.EndRevision)
	require.Equal(t, []Gap{{From: 651, To: 660, Object: "v2/Incr-00000651-00000660-1700000420.gz"}}, second.Gaps)
	require.Len(t, second.Problems, 1)
	require.Contains(t, second.Problems[0], "delta v2/Incr-00000651-00000660-1700000420.gz is empty")
	require.Contains(t, second.Problems[0], "restores only up to revision 650")

	whats := map[string]string{}
	for _, p := range cat.Problems {
		whats[p.Object] = p.What
	}
	require.Len(t, whats, 3)
	require.Contains(t, whats["v2/Incr-00000001-00000050-1699999000.gz"], "no full snapshot before it")
	require.Contains(t, whats["v2/Full-00000000-00000700-1700000400.gz.tmp"], "incomplete upload")
	require.Contains(t, whats["v2/notes.txt"], "not a backup object")
	require.Len(t, cat.Heartbeats, 1)
	require.Equal(t, int64(660), cat.Newest().EndRevision)
}

// A delta found empty by reading it (a compressed "[]") becomes a gap by the same rule as one empty by its size.
func TestMarkEmpty(t *testing.T) {
	cat := Build("mem://t", []store.Object{
		obj("v2/Full-00000000-00000100-1700000000.gz"),
		obj("v2/Incr-00000101-00000200-1700000060.gz"),
		obj("v2/Incr-00000201-00000300-1700000120.gz"),
		{Key: "v2/Incr-00000301-00000400-1700000180", Size: 34}, // "[]" and its sha256
	})
	require.Len(t, cat.Chains, 1)
	ch := cat.Chains[0]
	require.Equal(t, []Gap{{From: 301, To: 400, Object: "v2/Incr-00000301-00000400-1700000180"}}, ch.Gaps)
	g, ok := ch.MarkEmpty("v2/Incr-00000201-00000300-1700000120.gz")
	require.True(t, ok)
	require.Equal(t, Gap{From: 201, To: 300, Object: "v2/Incr-00000201-00000300-1700000120.gz"}, g)
	require.Equal(t, int64(200), ch.RestorableRevision)
	require.Len(t, ch.Gaps, 2)
	require.Contains(t, ch.Problems[0], "revisions 201-300 are in no object; the chain restores only up to revision 200")
	_, ok = ch.MarkEmpty("v2/nope")
	require.False(t, ok)
}

func TestBuildKeepsV1FoldersApart(t *testing.T) {
	cat := Build("mem://t", []store.Object{
		obj("v1/Backup-1700000000/Full-00000000-00000010-1700000000.gz"),
		obj("v1/Backup-1700000000/Incr-00000011-00000020-1700000060.gz"),
		obj("v1/Backup-1700003600/Full-00000000-00000030-1700003600.gz"),
		obj("v1/Backup-1700003600/Incr-00000031-00000040-1700003660.gz"),
	})
	require.Len(t, cat.Chains, 2)
	for _, ch := range cat.Chains {
		require.Equal(t, EtcdBRv1, ch.Layout)
		require.Len(t, ch.Deltas, 1)
		require.Empty(t, ch.Gaps)
	}
}

func TestBuildMetadataMarksEtcdDR(t *testing.T) {
	o := obj("v2/Full-00000000-00000010-1700000000.gz")
	o.Metadata = map[string]string{MetaEtcdDR: "dev", MetaEtcdVersion: "3.6.16", MetaSHA256: "ab"}
	cat := Build("mem://t", []store.Object{o})
	require.Equal(t, EtcdDR, cat.Chains[0].Layout)
	require.Equal(t, "3.6.16", cat.Chains[0].Base.EtcdVersion)
	require.Equal(t, "ab", cat.Chains[0].Base.SHA256)
}

// manifest mirrors internal/fixture.Manifest (not imported: catalog must not depend on test fixtures' etcd code).
type manifest struct {
	Stores map[string][]struct {
		Layout             Layout   `json:"layout"`
		Base               string   `json:"base"`
		Deltas             []string `json:"deltas"`
		EndRevision        int64    `json:"endRevision"`
		RestorableRevision int64    `json:"restorableRevision"`
		Gaps               []Gap    `json:"gaps"`
		EtcdVersion        string   `json:"etcdVersion"`
	} `json:"stores"`
}

// TestLoadFixtures loads every committed fixture store through file:// and checks the chains the generator recorded.
func TestLoadFixtures(t *testing.T) {
	root, err := filepath.Abs("../../testdata")
	require.NoError(t, err)
	b, err := os.ReadFile(filepath.Join(root, "manifest.json"))
	require.NoError(t, err)
	var man manifest
	require.NoError(t, json.Unmarshal(b, &man))
	require.Len(t, man.Stores, 3)
	for dir, want := range man.Stores {
		t.Run(dir, func(t *testing.T) {
			st, err := store.Open(context.Background(), "file://"+filepath.Join(root, dir))
			require.NoError(t, err)
			defer st.Close()
			cat, err := Load(context.Background(), st)
			require.NoError(t, err)
			require.Empty(t, cat.Problems)
			require.Len(t, cat.Chains, len(want))
			byBase := map[string]Chain{}
			for _, ch := range cat.Chains {
				byBase[ch.Base.Key] = ch
			}
			for _, w := range want {
				ch, ok := byBase[w.Base]
				require.True(t, ok, "chain %s", w.Base)
				require.Equal(t, w.Layout, ch.Layout)
				require.Equal(t, w.EndRevision, ch.EndRevision)
				require.Equal(t, w.RestorableRevision, ch.RestorableRevision)
				require.Equal(t, w.Gaps, ch.Gaps)
				require.Equal(t, w.EtcdVersion, ch.Base.EtcdVersion)
				var keys []string
				for _, d := range ch.Deltas {
					keys = append(keys, d.Key)
				}
				if len(w.Deltas) == 0 {
					require.Empty(t, keys)
				} else {
					require.Equal(t, w.Deltas, keys)
				}
			}
		})
	}
}

// Control objects (the sidecars' recorded restore pick) are neither backups nor problems, in any cluster folder;
// a JSON file elsewhere still is one.
func TestControlObjects(t *testing.T) {
	cat := Build("mem://t", []store.Object{
		obj("v2/Full-00000000-00000100-1700000000.gz"),
		obj(ControlKey("initialize-etcd-cluster.json")),
		obj("shoot-a/" + ControlKey("initialize-t.json")),
		obj("control.json"),
	})
	require.Len(t, cat.Chains, 1)
	whats := map[string]bool{}
	for _, p := range cat.Problems {
		whats[p.Object] = true
	}
	require.Equal(t, map[string]bool{"control.json": true}, whats)
	require.True(t, IsControl("control/initialize-x.json"))
	require.False(t, IsControl("control/initialize-x.txt"))
}
