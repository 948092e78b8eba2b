package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/etcd-dr/etcd-dr/internal/fixture"
	"github.com/etcd-dr/etcd-dr/internal/testenv"
)

// copyJSON is the JSON contract of issue 15, decoded strictly: a renamed or missing field fails the test.
type copyJSON struct {
	Copied  *int      `json:"copied"`
	Skipped *int      `json:"skipped"`
	Failed  *int      `json:"failed"`
	Bytes   *int64    `json:"bytes"`
	Seconds *float64  `json:"seconds"`
	Objects []copyObj `json:"objects"`
}

type copyObj struct {
	Key    string  `json:"key"`
	Result string  `json:"result"`
	Why    *string `json:"why"`
}

func decodeCopy(t *testing.T, out string) copyJSON {
	t.Helper()
	var res copyJSON
	require.NoError(t, json.Unmarshal([]byte(out), &res), out)
	require.NotNil(t, res.Copied, out)
	require.NotNil(t, res.Skipped, out)
	require.NotNil(t, res.Failed, out)
	require.NotNil(t, res.Bytes, out)
	require.NotNil(t, res.Seconds, out)
	for _, o := range res.Objects {
		require.NotEmpty(t, o.Key, out)
		require.Contains(t, []string{"copied", "skipped", "failed"}, o.Result, out)
		require.NotNil(t, o.Why, "every object carries a why field: %s", out)
	}
	return res
}

// fileTree is every file below dir with its bytes, keyed by path relative to dir.
func fileTree(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	require.NoError(t, filepath.Walk(dir, func(p string, info os.FileInfo, err error) error {
		if err != nil || info.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		rel, _ := filepath.Rel(dir, p)
		out[rel] = string(b)
		return err
	}))
	return out
}

// copy through the CLI: the JSON shape of the issue, exit 0 and a byte-identical target; a re-run skips all;
// a corrupt source object is reported by name and not copied, the rest are (exit 3).
func TestCopyCLI(t *testing.T) {
	src := testenv.CopyStore(t, fixture.StoreBRv2)
	dst := filepath.Join(t.TempDir(), "dst")
	out, errOut, code := runCLI(t, "copy", "--store", "file://"+src, "--to-store", "file://"+dst, "-o", "json")
	require.Equal(t, exitOK, code, errOut)
	res := decodeCopy(t, out)
	require.Equal(t, 9, *res.Copied)
	require.Equal(t, 0, *res.Skipped)
	require.Equal(t, 0, *res.Failed)
	require.Len(t, res.Objects, 9)
	require.Equal(t, fileTree(t, src), fileTree(t, dst), "the target holds the source's objects, byte for byte")
	var total int64
	for _, b := range fileTree(t, src) {
		total += int64(len(b))
	}
	require.Equal(t, total, *res.Bytes)

	out, errOut, code = runCLI(t, "copy", "--store", "file://"+src, "--to-store", "file://"+dst, "-o", "json")
	require.Equal(t, exitOK, code, errOut)
	res = decodeCopy(t, out)
	require.Equal(t, 0, *res.Copied)
	require.Equal(t, 9, *res.Skipped)

	bad := "v2/Incr-00000033-00000042-1763900180.zlib"
	b, err := os.ReadFile(filepath.Join(src, bad))
	require.NoError(t, err)
	b[len(b)/2] ^= 0xff
	require.NoError(t, os.WriteFile(filepath.Join(src, bad), b, 0o644))
	dst2 := filepath.Join(t.TempDir(), "dst2")
	out, errOut, code = runCLI(t, "copy", "--store", "file://"+src, "--to-store", "file://"+dst2, "-o", "json")
	require.Equal(t, exitProblems, code, errOut)
	res = decodeCopy(t, out)
	require.Equal(t, 8, *res.Copied)
	require.Equal(t, 1, *res.Failed)
	for _, o := range res.Objects {
		if o.Key == bad {
			require.Equal(t, "failed", o.Result)
			require.Contains(t, *o.Why, bad)
		}
	}
	_, err = os.Stat(filepath.Join(dst2, bad))
	require.True(t, os.IsNotExist(err), "a corrupt object is not copied")
	require.Len(t, fileTree(t, dst2), 8)
}

// Bad input through the CLI: a target that is the source or inside it is refused (exit 2) and nothing is made;
// an unreachable target fails (exit 1) naming it, and the source is untouched.
func TestCopyCLIBadTargets(t *testing.T) {
	src := testenv.CopyStore(t, fixture.StoreBRv2)
	before := fileTree(t, src)
	for _, to := range []string{"file://" + src, "file://" + src + "/", "file://" + src + "/v2/copy"} {
		_, errOut, code := runCLI(t, "copy", "--store", "file://"+src, "--to-store", to)
		require.Equal(t, exitUsage, code, "%s: %s", to, errOut)
	}
	_, errOut, code := runCLI(t, "copy", "--store", "file://"+src)
	require.Equal(t, exitUsage, code, errOut)
	require.Contains(t, errOut, "--to-store")

	t.Setenv("AWS_ACCESS_KEY_ID", "copytest")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "copytest-secret")
	to := "s3://dr-site/etcd?endpoint=http://127.0.0.1:" + strconv.Itoa(testenv.FreePort(t)) + "&use_path_style=true"
	_, errOut, code = runCLI(t, "copy", "--store", "file://"+src, "--to-store", to)
	require.Equal(t, exitFailed, code, errOut)
	require.Contains(t, errOut, "s3://dr-site/etcd")
	require.Equal(t, before, fileTree(t, src), "nothing at the source is touched")
}
