package catalog_test

import (
	"context"
	"path"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	_ "github.com/etcd-dr/etcd-dr/engine" // registers the snapshot prober (snapinfo)
	"github.com/etcd-dr/etcd-dr/engine/catalog"
	"github.com/etcd-dr/etcd-dr/internal/fixture"
	"github.com/etcd-dr/etcd-dr/internal/testenv"
)

// Other tools' snapshots, made by a real etcd in each tool's shape, are each their own chain at the revision read
// from the db, in the folder that holds them; companions are silent; damaged objects are one problem each.
// Each tree is made by a real etcd 3.6 (embedded) and 3.5 (the binary) server, as make testdata makes them.
func TestWildLayoutsFromRealSnapshots(t *testing.T) {
	for name, write := range map[string]func(t *testing.T) (*fixture.Wild, error){
		"etcd-3.6": func(t *testing.T) (*fixture.Wild, error) { return fixture.WriteWild(context.Background(), t.TempDir()) },
		"etcd-3.5": func(t *testing.T) (*fixture.Wild, error) {
			return fixture.WriteWildBinary(context.Background(), t.TempDir(), testenv.Binary(t, "etcd-3.5"))
		},
	} {
		t.Run(name, func(t *testing.T) {
			w, err := write(t)
			require.NoError(t, err)
			require.Equal(t, name, "etcd-"+w.Version[:3])
			checkWildCatalog(t, w)
		})
	}
}

func checkWildCatalog(t *testing.T, w *fixture.Wild) {
	ctx := context.Background()
	_, cat := testenv.OpenCatalog(t, ctx, "file://"+w.Dir)

	byKey := map[string]catalog.Chain{}
	for _, ch := range cat.Chains {
		byKey[ch.Base.Key] = ch
	}
	want := map[string]struct {
		layout  catalog.Layout
		cluster string
	}{
		w.Plain:     {catalog.PlainSnapshot, fixture.WildPlainDir},
		w.K3s:       {catalog.K3s, fixture.WildK3sDir},
		w.OpenShift: {catalog.OpenShift, fixture.WildOpenShiftDir},
		w.Dirty:     {catalog.OpenShift, fixture.WildOpenShiftDir},
	}
	em := byKey[w.EtcdManager]
	require.Equal(t, catalog.EtcdManager, em.Layout)
	require.Equal(t, fixture.WildKopsDir, em.Cluster, "the cluster is the folder above the <time>-<seq> folders")
	require.Equal(t, w.EtcdManagerVersion, em.Base.EtcdVersion, "version from _etcd_backup.meta")
	require.True(t, em.Base.RevisionOnDemand)
	tb := byKey[w.Talos]
	require.Equal(t, catalog.Talos, tb.Layout)
	require.Equal(t, fixture.WildTalosDir, tb.Cluster)
	require.True(t, tb.Base.Encrypted && tb.Base.RevisionOnDemand, "an .age snapshot is listed unread")
	require.Equal(t, "none", tb.Base.Compression)
	tz := byKey[w.TalosZst]
	require.Equal(t, catalog.Talos, tz.Layout)
	require.Equal(t, fixture.WildTalosDir, tz.Cluster)
	require.True(t, tz.Base.Encrypted && tz.Base.RevisionOnDemand, "a .snap.zst.age snapshot is listed unread")
	require.Equal(t, "zstd", tz.Base.Compression, "talos-backup's zstd inside age")
	require.Len(t, cat.Chains, len(want)+6, "chains: %+v\nproblems: %+v", cat.Chains, cat.Problems)
	for key, comp := range map[string]string{w.Gzip: "gzip", w.Truncated: "gzip", w.Zip: "zip"} {
		base := byKey[key].Base
		require.True(t, base.RevisionOnDemand, "%s: a compressed db is not read to list", key)
		require.Zero(t, base.EndRevision, key)
		require.Equal(t, comp, base.Compression, key)
		require.Equal(t, path.Dir(key), byKey[key].Cluster)
	}
	require.Equal(t, catalog.K3s, byKey[w.Zip].Layout)
	for key, wl := range want {
		ch, ok := byKey[key]
		require.True(t, ok, "no chain for %s: %+v", key, cat.Problems)
		require.Equal(t, wl.layout, ch.Layout, key)
		require.Equal(t, wl.cluster, ch.Cluster, key)
		require.Equal(t, w.Revisions[key], ch.Base.EndRevision, "%s: revision read from the db", key)
		require.Equal(t, w.Revisions[key], ch.RestorableRevision, key)
		if strings.HasPrefix(w.Version, "3.5.") {
			require.Empty(t, ch.Base.EtcdVersion, "%s: etcd 3.5 records no storage version in the db", key)
		} else {
			require.NotEmpty(t, ch.Base.EtcdVersion, "%s: etcd 3.6 records its storage version", key)
		}
		require.Empty(t, ch.Deltas)
	}
	require.Equal(t, "server-0", byKey[w.K3s].Base.Node)
	require.Equal(t, []string{fixture.WildK3sDir + "/.metadata/" + path.Base(w.K3s)}, byKey[w.K3s].Base.Companions)
	require.Len(t, byKey[w.OpenShift].Base.Companions, 1)
	require.Contains(t, byKey[w.OpenShift].Base.Companions[0], "static_kuberesources_")
	require.Empty(t, byKey[w.Dirty].Base.Companions, "its static pod resources were not written")
	require.Equal(t, []string{path.Dir(w.EtcdManager) + "/_etcd_backup.meta"}, byKey[w.EtcdManager].Base.Companions)
	require.Contains(t, byKey[w.Dirty].Base.Warning, "__POSSIBLY_DIRTY__")
	require.Empty(t, byKey[w.OpenShift].Base.Warning)

	problems := map[string]string{}
	for _, p := range cat.Problems {
		problems[p.Object] = p.What
	}
	require.Len(t, problems, len(w.Damaged), "%+v", cat.Problems)
	require.Contains(t, problems[w.Damaged[0]], "named like a k3s snapshot but")
	require.Contains(t, problems[w.Damaged[0]], "not an etcd bbolt database")
	require.Contains(t, problems[w.Damaged[1]], "not a readable zip archive")
	require.Contains(t, problems[w.Damaged[2]], "not a backup object etcd-dr recognises")
	require.Contains(t, problems[w.Damaged[3]], "holds 2 entries")
	require.Contains(t, problems[w.Damaged[4]], "zip bomb")
	require.Contains(t, problems[w.Damaged[5]], "not etcd-manager backup metadata (JSON)")
	for obj := range problems {
		require.NotEqual(t, ".metadata", path.Base(path.Dir(obj)))
	}
}
