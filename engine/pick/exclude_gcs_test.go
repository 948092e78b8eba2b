package pick_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/etcd-dr/etcd-dr/engine/catalog"
	"github.com/etcd-dr/etcd-dr/engine/pick"
	"github.com/etcd-dr/etcd-dr/internal/testenv"
	"github.com/etcd-dr/etcd-dr/store"
)

// On a real GCS emulator (fake-gcs-server) the exclude mark is object metadata, as etcd-backup-restore's GCS
// snapstore reads it: the catalog shows the newest full snapshot excluded and pick takes the older one.
func TestPickSkipsExcludedOnGCS(t *testing.T) {
	ctx := context.Background()
	g := testenv.StartGCS(t)
	g.Env(t)
	t.Setenv("HOME", t.TempDir()) // no application-default credentials: the emulator needs none
	g.CreateBucket(t, "br")
	url := g.URL("br", "shoot-x")
	st, err := store.Open(ctx, url)
	require.NoError(t, err)
	defer st.Close()
	const older, newer = "v2/Full-00000000-00000100-1700000000.gz", "v2/Full-00000000-00000300-1700000120.gz"
	for key, md := range map[string]map[string]string{older: nil, newer: {catalog.MetaExclude: "true"}} {
		w, err := st.NewWriter(ctx, key, store.WriteOptions{Metadata: md})
		require.NoError(t, err)
		_, err = w.Write([]byte("not read to list " + key))
		require.NoError(t, err)
		require.NoError(t, w.Commit(), key)
	}

	_, cat := testenv.OpenCatalog(t, ctx, url)
	require.Len(t, cat.Chains, 2, "chains: %+v\nproblems: %+v", cat.Chains, cat.Problems)
	marked := map[string]string{}
	for _, ch := range cat.Chains {
		marked[ch.Base.Key] = ch.Base.Excluded
	}
	require.Empty(t, marked[older])
	require.Contains(t, marked[newer], catalog.MetaExclude+"=true")

	res, err := pick.Pick(cat, pick.Config{})
	require.NoError(t, err)
	require.Equal(t, older, res.Chain.Base.Key)
	require.Equal(t, int64(100), res.Revision)
	require.Len(t, res.Warnings, 1)
	require.Contains(t, res.Warnings[0], newer)
}
