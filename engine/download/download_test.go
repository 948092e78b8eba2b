package download_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/etcd-dr/etcd-dr/engine/catalog"
	"github.com/etcd-dr/etcd-dr/engine/download"
	"github.com/etcd-dr/etcd-dr/engine/fault"
	"github.com/etcd-dr/etcd-dr/engine/format"
	"github.com/etcd-dr/etcd-dr/engine/pick"
	"github.com/etcd-dr/etcd-dr/engine/progress"
	"github.com/etcd-dr/etcd-dr/internal/testenv"
	"github.com/etcd-dr/etcd-dr/store"
)

func open(t testing.TB, dir string) (*store.Store, *catalog.Catalog) {
	t.Helper()
	st, cat := testenv.OpenCatalog(t, context.Background(), "file://"+dir)
	return st, cat
}

func picked(t testing.TB, cat *catalog.Catalog, cfg pick.Config) *pick.Result {
	t.Helper()
	r, err := pick.Pick(cat, cfg)
	require.NoError(t, err)
	return r
}

func TestDownloadChainIntoFolderIsAStore(t *testing.T) {
	src := filepath.Join(testenv.Testdata(t), "stores/etcdbr-v2")
	st, cat := open(t, src)
	r := picked(t, cat, pick.Config{Revision: 62}) // chain 1, through the .zlib, .Z and uncompressed deltas
	var updates []progress.Update
	to := filepath.Join(t.TempDir(), "chain")
	res, err := download.Download(context.Background(), st, r, download.Config{To: to, Progress: progress.Func(func(u progress.Update) { updates = append(updates, u) })})
	require.NoError(t, err)
	require.Len(t, res.Files, 5)
	require.NotEmpty(t, updates)
	require.True(t, updates[len(updates)-1].Finished)
	// The folder reads back as an uncompressed chain to the same revision.
	_, again := open(t, to)
	require.Len(t, again.Chains, 1)
	require.Equal(t, int64(62), again.Chains[0].EndRevision)
	for _, d := range again.Chains[0].Deltas {
		require.Equal(t, "none", d.Compression)
	}
	// No staging folder is left beside it.
	entries, err := os.ReadDir(filepath.Dir(to))
	require.NoError(t, err)
	require.Len(t, entries, 1)
}

func TestDownloadSnapshotToFileAndRefuseOverwrite(t *testing.T) {
	st, cat := open(t, filepath.Join(testenv.Testdata(t), "stores/operator/v1/etcd-cluster"))
	r := picked(t, cat, pick.Config{})
	to := filepath.Join(t.TempDir(), "snapshot.db")
	res, err := download.Download(context.Background(), st, r, download.Config{To: to})
	require.NoError(t, err)
	fi, err := os.Stat(to)
	require.NoError(t, err)
	require.Equal(t, res.Bytes, fi.Size())
	require.Equal(t, int64(32), fi.Size()%512, "the sha256 trailer is kept for etcdutl")

	before, _ := os.ReadFile(to)
	_, err = download.Download(context.Background(), st, r, download.Config{To: to})
	require.True(t, errors.Is(err, fault.ErrRefused), "%v", err)
	var te *fault.TargetExists
	require.ErrorAs(t, err, &te)
	require.True(t, te.ReplaceHelps)
	after, _ := os.ReadFile(to)
	require.Equal(t, before, after)

	_, err = download.Download(context.Background(), st, r, download.Config{To: to, Force: true})
	require.NoError(t, err)
}

// corrupt copies a fixture store, damages one object with fn, and returns the copy.
func corrupt(t *testing.T, rel, key string, fn func([]byte) []byte) string {
	dir := testenv.CopyStore(t, rel)
	p := filepath.Join(dir, key)
	b, err := os.ReadFile(p)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(p, fn(b), 0o644))
	return dir
}

func TestDownloadRefusesCorruptObjects(t *testing.T) {
	cases := []struct {
		name, store, key string
		damage           func([]byte) []byte
		cfg              pick.Config
		want             string
	}{
		{
			name: "one flipped bit in a full snapshot", store: "stores/operator/v1/etcd-cluster", key: "3.6.16_00000000000000df_etcd.backup",
			damage: func(b []byte) []byte { b[len(b)/2] ^= 0x10; return b }, want: "failed its checksum",
		},
		{
			name: "truncated gzip", store: "stores/etcdbr-v2", key: "v2/Full-00000000-00000022-1763900060.gz", cfg: pick.Config{Revision: 22},
			damage: func(b []byte) []byte { return b[:len(b)/2] }, want: "corrupt",
		},
		{
			name: "delta whose checksum fails", store: "stores/etcdbr-v2", key: "v2/Incr-00000053-00000062-1763900300", cfg: pick.Config{Revision: 62},
			damage: func(b []byte) []byte { b[10] ^= 0x01; return b }, want: "failed its checksum",
		},
		{
			name: "full snapshot without trailer", store: "stores/operator/v1/etcd-cluster", key: "3.6.16_00000000000000df_etcd.backup",
			damage: func(b []byte) []byte { return b[:len(b)-32] }, want: "no sha256 trailer",
		},
		{
			name: "gzip of garbage", store: "stores/etcdbr-v2", key: "v2/Incr-00000023-00000032-1763900120.gz", cfg: pick.Config{Revision: 32},
			damage: func([]byte) []byte {
				var buf bytes.Buffer
				zw := gzip.NewWriter(&buf)
				zw.Write([]byte("not a delta at all, and far too short"))
				zw.Close()
				return buf.Bytes()
			}, want: "failed its checksum",
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := corrupt(t, c.store, c.key, c.damage)
			st, cat := open(t, dir)
			r := picked(t, cat, c.cfg)
			out := t.TempDir()
			to := filepath.Join(out, "target")
			_, err := download.Download(context.Background(), st, r, download.Config{To: to})
			require.Error(t, err)
			require.True(t, errors.Is(err, fault.ErrProblems), "%v", err)
			require.Contains(t, err.Error(), c.want)
			require.Contains(t, err.Error(), filepath.Base(c.key))
			entries, _ := os.ReadDir(out)
			require.Empty(t, entries, "a failed download leaves nothing behind")
		})
	}
}

func TestDownloadStopsWhenCancelled(t *testing.T) {
	st, cat := open(t, filepath.Join(testenv.Testdata(t), "stores/etcdbr-v2"))
	r := picked(t, cat, pick.Config{Revision: 62})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	out := t.TempDir()
	_, err := download.Download(ctx, st, r, download.Config{To: filepath.Join(out, "chain")})
	require.ErrorIs(t, err, context.Canceled)
	entries, _ := os.ReadDir(out)
	require.Empty(t, entries, "a cancelled download leaves nothing behind")
}

func TestMeterTotalOnlyWhenStoredBytesAreWritten(t *testing.T) {
	var got []progress.Update
	r := progress.Func(func(u progress.Update) { got = append(got, u) })
	download.NewMeter(r, catalog.Snapshot{Key: "v2/Full-1.gz", Size: 500, Codec: format.Gzip}).Finish()
	download.NewMeter(r, catalog.Snapshot{Key: "3.6.0_0000000000000001_etcd.backup", Size: 4128}).Finish()
	download.NewMeter(r, catalog.Snapshot{Key: "v2/Full-2.age", Size: 700, Encrypted: true}).Finish()
	require.Len(t, got, 3)
	require.Equal(t, int64(0), got[0].Total, "a compressed object's stored size is not the bytes written")
	require.Equal(t, int64(4128), got[1].Total)
	require.Equal(t, int64(0), got[2].Total)
	require.Equal(t, "Full-1.gz", got[0].Item)
}
