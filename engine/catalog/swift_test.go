package catalog_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/etcd-dr/etcd-dr/internal/testenv"
	"github.com/etcd-dr/etcd-dr/store"
)

// etcd-backup-restore's Swift store (swift_snapstore.go, uploadChunk) uploads "<snapshot>/%010d" segments from 1
// and then a DLO manifest object at "<snapshot>". Copied or synced to S3, the manifest (the composed object) sits
// beside its segments: they are leftovers, one note (TestChunkComposites, "Swift segments beside their manifest").
// Segments whose manifest never made it are a problem naming them. A filesystem cannot hold a file and a folder
// of one name, and neither can versitygw's posix backend (409 ExistingObjectIsDirectory), so on file://,
// versitygw and fake-gcs-server only the second shape can be stored; a snapshot beside it stays a chain.
const (
	swiftFull  = "shoot-s/v2/Full-00000000-00000100-1700000000.gz"
	swiftDelta = "shoot-s/v2/Incr-00000101-00000120-1700000060.gz"
)

// On S3 (versitygw) and GCS (fake-gcs-server: its filesystem backend cannot hold the first shape either).
func TestSwiftSegmentsOnObjectStores(t *testing.T) {
	for _, backend := range testenv.ObjectStores {
		t.Run(backend, func(t *testing.T) { swiftSegmentsOn(t, backend) })
	}
}

func swiftSegmentsOn(t *testing.T, backend string) {
	ctx := context.Background()
	url := testenv.StartBucket(t, backend, "swift").URL("")
	st, err := store.Open(ctx, url)
	require.NoError(t, err)
	defer st.Close()
	put := func(key string) {
		w, err := st.NewWriter(ctx, key, store.WriteOptions{})
		require.NoError(t, err, "put %s", key)
		_, err = w.Write([]byte("segment bytes " + key))
		require.NoError(t, err, "put %s", key)
		require.NoError(t, w.Commit(), "put %s", key)
	}
	// The delta's segments without their manifest, beside a whole full snapshot.
	for _, k := range []string{swiftDelta + "/0000000001", swiftDelta + "/0000000002", swiftFull} {
		put(k)
	}

	_, cat := testenv.OpenCatalog(t, ctx, url)
	require.Len(t, cat.Chains, 1, "chains: %+v\nproblems: %+v", cat.Chains, cat.Problems)
	require.Equal(t, swiftFull, cat.Chains[0].Base.Key)
	require.NotContains(t, strings.Join(cat.Chains[0].Notes, "\n"), "leftover chunks", "the delta's segments are not leftovers of the full snapshot")
	require.Len(t, cat.Problems, 1, "%+v", cat.Problems)
	require.Equal(t, swiftDelta+"/", cat.Problems[0].Object)
	require.Contains(t, cat.Problems[0].What, "2 chunks ("+swiftDelta+"/0000000001, "+swiftDelta+"/0000000002)")
	require.Contains(t, cat.Problems[0].What, "never composed into "+swiftDelta)
}

func TestSwiftSegmentsOnFile(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	for _, k := range []string{swiftDelta + "/0000000001", swiftDelta + "/0000000002", swiftDelta + "/0000000003", swiftDelta + "/0000000011"} {
		p := filepath.Join(dir, filepath.FromSlash(k))
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
		require.NoError(t, os.WriteFile(p, []byte("segment bytes"), 0o644))
	}
	_, cat := testenv.OpenCatalog(t, ctx, "file://"+dir)
	require.Empty(t, cat.Chains)
	require.Len(t, cat.Problems, 1, "segments without their manifest are one problem, not four: %+v", cat.Problems)
	require.Equal(t, swiftDelta+"/", cat.Problems[0].Object)
	require.Contains(t, cat.Problems[0].What, "4 chunks ("+swiftDelta+"/0000000001 … "+swiftDelta+"/0000000011)")
}
