package gc_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/etcd-dr/etcd-dr/engine/gc"
	"github.com/etcd-dr/etcd-dr/internal/fixture"
	"github.com/etcd-dr/etcd-dr/internal/testenv"
	"github.com/etcd-dr/etcd-dr/store"
)

func keys(t *testing.T, st *store.Store) []string {
	objs, err := st.List(context.Background())
	require.NoError(t, err)
	var out []string
	for _, o := range objs {
		out = append(out, o.Key)
	}
	return out
}

// A full snapshot whose name claims the highest revision but holds revision 22 is never counted among the chains
// gc keeps: --max-backups 1 keeps the newest real chain (before: it kept the liar and deleted every real chain).
func TestRunNeverCountsALyingChain(t *testing.T) {
	ctx := context.Background()
	dir := testenv.CopyStore(t, fixture.StoreBRv2)
	b, err := os.ReadFile(filepath.Join(dir, "v2", "Full-00000000-00000022-1763900060.gz"))
	require.NoError(t, err)
	liar := "v2/Full-00000000-9223372036854775807-1763909999.gz"
	require.NoError(t, os.WriteFile(filepath.Join(dir, filepath.FromSlash(liar)), b, 0o644))
	st, err := store.Open(ctx, "file://"+dir)
	require.NoError(t, err)
	defer st.Close()

	p, err := gc.Run(ctx, st, gc.Config{Policy: gc.Limit, MaxBackups: 1}, false)
	require.NoError(t, err)
	left := keys(t, st)
	require.Contains(t, left, "v2/Full-00000000-00000093-1763900420", "the newest real chain is kept")
	require.Contains(t, left, "v2/Incr-00000114-00000123-1763900600.gz")
	require.Contains(t, left, liar, "an unverified chain is never deleted")
	require.NotContains(t, left, "v2/Full-00000000-00000022-1763900060.gz", "the older real chain goes, as the policy says")
	require.Len(t, p.Unverified, 1)
	require.Equal(t, liar, p.Unverified[0].Base)
	require.Contains(t, p.Unverified[0].Why[0], "named for revision 9223372036854775807 but its database is at revision 22")
	require.Len(t, p.Keep, 1)
}

// A killed writer's temporary file older than a day is removed (a dry run lists it); a fresh one, maybe an upload
// in progress, is left alone.
func TestRunRemovesOldTempObjects(t *testing.T) {
	ctx := context.Background()
	dir := testenv.CopyStore(t, fixture.StoreBRv2)
	old := "v2/Full-00000000-00000130-1763909000.gz.18f2a3b4c5d6e7f8.tmp"
	fresh := "v2/Incr-00000124-00000133-1763909060.gz.18f2a3b4c5d6e7f9.tmp"
	for _, k := range []string{old, fresh} {
		require.NoError(t, os.WriteFile(filepath.Join(dir, filepath.FromSlash(k)), nil, 0o600))
	}
	twoDays := time.Now().Add(-48 * time.Hour)
	require.NoError(t, os.Chtimes(filepath.Join(dir, filepath.FromSlash(old)), twoDays, twoDays))
	st, err := store.Open(ctx, "file://"+dir)
	require.NoError(t, err)
	defer st.Close()
	exists := func(k string) bool {
		_, err := os.Stat(filepath.Join(dir, filepath.FromSlash(k)))
		return err == nil
	}
	cfg := gc.Config{Policy: gc.Limit, MaxBackups: 5}

	p, err := gc.Run(ctx, st, cfg, true)
	require.NoError(t, err)
	require.Equal(t, []string{old}, p.Temp)
	require.True(t, exists(old), "a dry run removes nothing")

	p, err = gc.Run(ctx, st, cfg, false)
	require.NoError(t, err)
	require.Equal(t, []string{old}, p.Temp)
	require.False(t, exists(old), "the day-old temporary file is removed")
	require.True(t, exists(fresh), "a fresh temporary file may be an upload in progress")
	for _, k := range keys(t, st) {
		require.False(t, strings.HasSuffix(k, ".tmp"))
	}
}
