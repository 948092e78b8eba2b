package copy_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"sort"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/etcd-dr/etcd-dr/engine"
	"github.com/etcd-dr/etcd-dr/engine/catalog"
	storecopy "github.com/etcd-dr/etcd-dr/engine/copy"
	"github.com/etcd-dr/etcd-dr/engine/crypt"
	"github.com/etcd-dr/etcd-dr/engine/fault"
	"github.com/etcd-dr/etcd-dr/internal/fixture"
	"github.com/etcd-dr/etcd-dr/internal/testenv"
	"github.com/etcd-dr/etcd-dr/store"
)

// chainKeys is every object the chains of a catalog are made of: full snapshots, companions, deltas.
func chainKeys(cat *catalog.Catalog) []string {
	var keys []string
	for _, ch := range cat.Chains {
		keys = append(keys, ch.Base.Key)
		keys = append(keys, ch.Base.Companions...)
		for _, d := range ch.Deltas {
			keys = append(keys, d.Key)
		}
	}
	sort.Strings(keys)
	return keys
}

// requireSameObjects checks that every key holds the same bytes and the same metadata in both stores.
func requireSameObjects(t *testing.T, srcURL, dstURL string, keys []string) {
	t.Helper()
	ctx := context.Background()
	src, err := store.Open(ctx, srcURL)
	require.NoError(t, err)
	defer src.Close()
	dst, err := store.Open(ctx, dstURL)
	require.NoError(t, err)
	defer dst.Close()
	require.NotEmpty(t, keys)
	for _, k := range keys {
		a, b := readAll(t, src, k), readAll(t, dst, k)
		require.True(t, bytes.Equal(a, b), "%s: %d bytes at the source, %d at the target, not identical", k, len(a), len(b))
		sa, err := src.Attributes(ctx, k)
		require.NoError(t, err)
		sb, err := dst.Attributes(ctx, k)
		require.NoError(t, err)
		require.Equal(t, sa.Metadata, sb.Metadata, "%s: metadata", k)
	}
}

func readAll(t *testing.T, st *store.Store, key string) []byte {
	t.Helper()
	rc, err := st.NewReader(context.Background(), key)
	require.NoError(t, err)
	defer rc.Close()
	b, err := io.ReadAll(rc)
	require.NoError(t, err)
	return b
}

func keysOf(st *store.Store) []string {
	objs, err := st.List(context.Background())
	if err != nil {
		panic(err)
	}
	var out []string
	for _, o := range objs {
		out = append(out, o.Key)
	}
	return out
}

func open(t *testing.T, url string, opts engine.Options) *engine.Repo {
	t.Helper()
	r, err := engine.Open(context.Background(), url, opts)
	require.NoError(t, err)
	t.Cleanup(func() { r.Close() })
	return r
}

// chainsOf is what a catalog says of its chains, without where it was read.
func chainsOf(t *testing.T, url string) []catalog.Chain {
	t.Helper()
	_, cat := testenv.OpenCatalog(t, context.Background(), url)
	return cat.Chains
}

// Every layout the catalog reads is copied whole: keys, bytes and metadata unchanged, companions with their
// snapshot, so the target's catalog is the source's.
func TestCopyEveryLayout(t *testing.T) {
	ctx := context.Background()
	for _, rel := range []string{fixture.StoreBRv2, fixture.StoreBRv1, "stores/operator"} {
		t.Run(rel, func(t *testing.T) {
			srcURL := "file://" + filepath.Join(testenv.Testdata(t), rel)
			dstURL := "file://" + filepath.Join(t.TempDir(), "dst")
			res, err := open(t, srcURL, engine.Options{}).Copy(ctx, engine.CopyRequest{To: dstURL})
			require.NoError(t, err)
			_, cat := testenv.OpenCatalog(t, ctx, srcURL)
			keys := chainKeys(cat)
			require.Equal(t, len(keys), res.Copied, "%+v", res.Objects)
			require.Zero(t, res.Skipped+res.Failed)
			requireSameObjects(t, srcURL, dstURL, keys)
			require.Equal(t, chainsOf(t, srcURL), chainsOf(t, dstURL))
		})
	}
	t.Run("wild", func(t *testing.T) {
		w, err := fixture.WriteWild(ctx, t.TempDir())
		require.NoError(t, err)
		id := filepath.Join(t.TempDir(), "talos.key")
		require.NoError(t, os.WriteFile(id, []byte(w.TalosIdentity+"\n"), 0o600))
		dec, err := crypt.NewDecrypter(id)
		require.NoError(t, err)
		srcURL, dstURL := "file://"+w.Dir, "file://"+filepath.Join(t.TempDir(), "dst")
		res, err := open(t, srcURL, engine.Options{Decrypt: dec}).Copy(ctx, engine.CopyRequest{To: dstURL})
		// The gzip cut short is the one corrupt snapshot of the wild store: reported, not copied, the rest copied.
		require.ErrorIs(t, err, fault.ErrProblems)
		require.ErrorContains(t, err, w.Truncated)
		require.Equal(t, 1, res.Failed, "%+v", res.Objects)
		var copied []string
		for _, o := range res.Objects {
			if o.Result == storecopy.Failed {
				require.Equal(t, w.Truncated, o.Key)
				require.Contains(t, o.Why, w.Truncated)
				continue
			}
			require.Equal(t, storecopy.Copied, o.Result, o.Key)
			copied = append(copied, o.Key)
		}
		sort.Strings(copied)
		_, cat := testenv.OpenCatalog(t, ctx, srcURL)
		var want []string
		for _, k := range chainKeys(cat) {
			if k != w.Truncated {
				want = append(want, k)
			}
		}
		require.Equal(t, want, copied)
		for _, k := range []string{w.K3s, w.Zip, w.OpenShift, w.EtcdManager, w.Talos, w.Plain, w.Gzip} {
			require.Contains(t, copied, k)
		}
		requireSameObjects(t, srcURL, dstURL, copied)
		dst, err := store.Open(ctx, dstURL)
		require.NoError(t, err)
		defer dst.Close()
		require.NotContains(t, keysOf(dst), w.Truncated, "a corrupt object is not copied")
		for _, k := range keysOf(dst) {
			require.Contains(t, copied, k, "only chains and their companions are copied")
		}
	})
}

// corruptMiddle flips one byte in the middle of a file.
func corruptMiddle(t *testing.T, path string) {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	b[len(b)/2] ^= 0xff
	require.NoError(t, os.WriteFile(path, b, 0o644))
}

// A corrupt delta and a corrupt full snapshot are reported by name, not copied (nothing of them at the target),
// and every other object is copied; the error is a problem (exit 3).
func TestCopyCorruptObjectsAreReportedAndTheRestCopied(t *testing.T) {
	ctx := context.Background()
	dir := testenv.CopyStore(t, fixture.StoreBRv2)
	badDelta := "v2/Incr-00000033-00000042-1763900180.zlib"
	badFull := "v2/Full-00000000-00000093-1763900420"
	corruptMiddle(t, filepath.Join(dir, badDelta))
	corruptMiddle(t, filepath.Join(dir, badFull))
	dstURL := "file://" + filepath.Join(t.TempDir(), "dst")
	res, err := open(t, "file://"+dir, engine.Options{}).Copy(ctx, engine.CopyRequest{To: dstURL, Parallel: 2})
	require.ErrorIs(t, err, fault.ErrProblems)
	require.Equal(t, 2, res.Failed)
	require.Equal(t, 7, res.Copied)
	why := map[string]string{}
	for _, o := range res.Objects {
		if o.Result == storecopy.Failed {
			why[o.Key] = o.Why
		}
	}
	require.Contains(t, why[badDelta], badDelta)
	require.Contains(t, why[badFull], badFull)
	require.Contains(t, why[badFull], "checksum")
	dst, err := store.Open(ctx, dstURL)
	require.NoError(t, err)
	defer dst.Close()
	got := keysOf(dst)
	require.Len(t, got, 7)
	require.NotContains(t, got, badDelta)
	require.NotContains(t, got, badFull)
	entries, err := os.ReadDir(filepath.Join(dstURL[len("file://"):], "v2"))
	require.NoError(t, err)
	require.Len(t, entries, 7, "no temporary file of an aborted object is left beside the copied ones")
}

// A second run skips every object; one taken away at the target is copied again, alone; an object of the same
// key but other bytes at the target is never replaced (reported, exit 3).
func TestCopySkipsWhatIsThereAndNeverReplaces(t *testing.T) {
	ctx := context.Background()
	srcURL := "file://" + filepath.Join(testenv.Testdata(t), fixture.StoreBRv2)
	dstDir := filepath.Join(t.TempDir(), "dst")
	dstURL := "file://" + dstDir
	repo := open(t, srcURL, engine.Options{})
	_, err := repo.Copy(ctx, engine.CopyRequest{To: dstURL})
	require.NoError(t, err)

	res, err := repo.Copy(ctx, engine.CopyRequest{To: dstURL})
	require.NoError(t, err)
	require.Equal(t, 9, res.Skipped)
	require.Zero(t, res.Copied)
	require.Zero(t, res.Bytes)

	gone := "v2/Incr-00000053-00000062-1763900300"
	require.NoError(t, os.Remove(filepath.Join(dstDir, gone)))
	res, err = repo.Copy(ctx, engine.CopyRequest{To: dstURL})
	require.NoError(t, err)
	require.Equal(t, 1, res.Copied)
	require.Equal(t, 8, res.Skipped)
	for _, o := range res.Objects {
		if o.Result == storecopy.Copied {
			require.Equal(t, gone, o.Key)
		}
	}
	requireSameObjects(t, srcURL, dstURL, []string{gone})

	// Same size, other bytes: the sha256 trailer of an uncompressed delta differs.
	other := filepath.Join(dstDir, gone)
	corruptEnd(t, other)
	before, err := os.ReadFile(other)
	require.NoError(t, err)
	res, err = repo.Copy(ctx, engine.CopyRequest{To: dstURL})
	require.ErrorIs(t, err, fault.ErrProblems)
	require.Equal(t, 1, res.Failed)
	require.Contains(t, res.Objects[indexOf(res, gone)].Why, "not replaced")
	after, err := os.ReadFile(other)
	require.NoError(t, err)
	require.Equal(t, before, after, "the target's object is left as it was")
}

func corruptEnd(t *testing.T, path string) {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	b[len(b)-1] ^= 0xff
	require.NoError(t, os.WriteFile(path, b, 0o644))
}

func indexOf(res *engine.CopyResult, key string) int {
	for i, o := range res.Objects {
		if o.Key == key {
			return i
		}
	}
	return -1
}

// --max-backups takes the newest chains, --max-age the recent ones, --dry-run writes nothing (not even the
// target folder), and results come newest chain first.
func TestCopyLimitsAndDryRun(t *testing.T) {
	ctx := context.Background()
	srcURL := "file://" + filepath.Join(testenv.Testdata(t), fixture.StoreBRv2)
	repo := open(t, srcURL, engine.Options{})
	dstDir := filepath.Join(t.TempDir(), "dst")

	res, err := repo.Copy(ctx, engine.CopyRequest{To: "file://" + dstDir, DryRun: true})
	require.NoError(t, err)
	require.Equal(t, 9, res.Planned)
	require.Zero(t, res.Copied)
	_, statErr := os.Stat(dstDir)
	require.True(t, os.IsNotExist(statErr), "a dry run made the target folder")
	require.Equal(t, "v2/Full-00000000-00000093-1763900420", res.Objects[0].Key, "the newest chain first")

	res, err = repo.Copy(ctx, engine.CopyRequest{To: "file://" + dstDir, MaxBackups: 1})
	require.NoError(t, err)
	require.Equal(t, 1, res.Chains)
	require.Equal(t, 3, res.Copied, "the newest chain: its full snapshot and two deltas")
	for _, o := range res.Objects {
		require.Contains(t, []string{"v2/Full-00000000-00000093-1763900420", "v2/Incr-00000094-00000103-1763900480.gz", "v2/Incr-00000114-00000123-1763900600.gz"}, o.Key)
	}

	res, err = repo.Copy(ctx, engine.CopyRequest{To: "file://" + dstDir, MaxAge: 1, DryRun: true})
	require.NoError(t, err)
	require.Zero(t, res.Chains, "every fixture chain is from 2025")
	require.Empty(t, res.Objects)
}

// The target is refused (exit 2) when it is the source or a folder inside it, before anything is read or written.
func TestCopyRefusesTargetInsideSource(t *testing.T) {
	ctx := context.Background()
	dir := testenv.CopyStore(t, fixture.StoreBRv2)
	link := filepath.Join(t.TempDir(), "link")
	require.NoError(t, os.Symlink(dir, link))
	repo := open(t, "file://"+dir, engine.Options{})
	for name, to := range map[string]string{
		"same":          "file://" + dir,
		"trailingSlash": "file://" + dir + "/",
		"inside":        "file://" + dir + "/v2/copy",
		"viaSymlink":    "file://" + link + "/sub",
		"none":          "",
	} {
		t.Run(name, func(t *testing.T) {
			res, err := repo.Copy(ctx, engine.CopyRequest{To: to})
			require.Nil(t, res)
			var bad *fault.BadSetting
			require.True(t, errors.As(err, &bad), "%v", err)
			require.Equal(t, "target store", bad.Setting)
			require.ErrorIs(t, err, fault.ErrRefused)
		})
	}
	_, err := os.Stat(filepath.Join(dir, "v2", "copy"))
	require.True(t, os.IsNotExist(err))
	// A sibling folder with a name that starts like the source is another store.
	res, err := repo.Copy(ctx, engine.CopyRequest{To: "file://" + dir + "-copy", DryRun: true})
	require.NoError(t, err)
	require.Equal(t, 9, res.Planned)
}

// An unreachable target fails (exit 1) naming it, before anything is copied; the source is untouched.
func TestCopyTargetUnreachable(t *testing.T) {
	ctx := context.Background()
	t.Setenv("AWS_ACCESS_KEY_ID", "copytest")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "copytest-secret")
	dir := testenv.CopyStore(t, fixture.StoreBRv2)
	before := treeOf(t, dir)
	to := "s3://dr-site/etcd?endpoint=http://127.0.0.1:" + itoa(testenv.FreePort(t)) + "&use_path_style=true"
	res, err := open(t, "file://"+dir, engine.Options{}).Copy(ctx, engine.CopyRequest{To: to})
	require.Error(t, err)
	require.Nil(t, res)
	require.NotErrorIs(t, err, fault.ErrRefused)
	require.NotErrorIs(t, err, fault.ErrProblems)
	require.ErrorContains(t, err, "s3://dr-site/etcd")
	require.ErrorContains(t, err, "nothing was copied")
	require.Equal(t, before, treeOf(t, dir), "the source is untouched")
}

// treeOf is every file below dir with its bytes.
func treeOf(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	require.NoError(t, filepath.Walk(dir, func(p string, info os.FileInfo, err error) error {
		if err != nil || info.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		out[p] = string(b)
		return err
	}))
	return out
}

func itoa(n int) string { return fmtInt(n) }
