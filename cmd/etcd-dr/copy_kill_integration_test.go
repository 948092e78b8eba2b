package main

import (
	"context"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/etcd-dr/etcd-dr/engine/progress"
	"github.com/etcd-dr/etcd-dr/internal/testenv"
	"github.com/etcd-dr/etcd-dr/internal/testkit/restoretest"
	"github.com/etcd-dr/etcd-dr/store"
)

// dstObjects is every object at the store at url with its bytes.
func dstObjects(t *testing.T, url string) map[string]string {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, url)
	require.NoError(t, err)
	defer st.Close()
	objs, err := st.List(ctx)
	require.NoError(t, err)
	out := map[string]string{}
	for _, o := range objs {
		rc, err := st.NewReader(ctx, o.Key)
		require.NoError(t, err)
		b, err := io.ReadAll(rc)
		rc.Close()
		require.NoError(t, err, o.Key)
		out[o.Key] = string(b)
	}
	return out
}

// kill -9 of the etcd-dr binary while it copies a chain to versitygw S3 or fake-gcs-server GCS leaves nothing
// partial visible there (every object listed holds the source's whole bytes); a re-run copies only what is
// missing and the target ends byte-identical to the source.
func TestCopyKilledHalfwayResumes(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and a chain of many deltas, starts versitygw and fake-gcs-server")
	}
	bin := buildBinary(t)
	ch := restoretest.SyntheticChain(t, 200, 60000, 2000, 1000)
	src := fileTree(t, ch.Store)
	require.Greater(t, len(src), 20)
	for _, backend := range testenv.ObjectStores {
		t.Run(backend, func(t *testing.T) {
			copyKilledHalfwayResumes(t, bin, ch.Store, src, testenv.StartBucket(t, backend, "dr-site").URL("copy"))
		})
	}
}

func copyKilledHalfwayResumes(t *testing.T, bin, from string, src map[string]string, dst string) {
	args := []string{"copy", "--store", "file://" + from, "--to-store", dst, "--parallel", "1", "-o", "json"}

	killWhen(t, bin, args, "copy", func(u progress.Update) bool { return u.Phase == "copy" && u.Total > 0 && u.Done*3 >= u.Total })

	partial := dstObjects(t, dst)
	require.NotEmpty(t, partial, "killed at a third of the bytes, some objects were committed")
	require.Less(t, len(partial), len(src), "killed at a third of the bytes, some objects were not copied yet")
	for key, b := range partial {
		require.Equal(t, src[filepath.FromSlash(key)], b, "%s at the target is the source's whole object", key)
	}

	rerun := exec.Command(bin, args...)
	out, err := rerun.Output()
	require.NoError(t, err, "rerun: %s", out)
	res := decodeCopy(t, string(out))
	require.Equal(t, len(partial), *res.Skipped, "the re-run skips what the killed run committed")
	require.Equal(t, len(src)-len(partial), *res.Copied, "and copies only what is missing")
	require.Equal(t, 0, *res.Failed)
	final := dstObjects(t, dst)
	require.Len(t, final, len(src))
	for key, b := range final {
		require.Equal(t, src[filepath.FromSlash(key)], b, key)
	}
	_, err = os.Stat(from)
	require.NoError(t, err)
}
