package store

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// A directory store lists by walking it; names fileblob escaped on write still list under their real keys (the
// walk hands those over to fileblob), and temporary files and sidecars are never objects.
func TestDirectoryListing(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	st, err := Open(ctx, "file://"+dir)
	require.NoError(t, err)
	defer st.Close()
	put := func(key string) {
		w, err := st.NewWriter(ctx, key, WriteOptions{})
		require.NoError(t, err)
		_, err = w.Write([]byte("data"))
		require.NoError(t, err)
		require.NoError(t, w.Commit())
	}
	put("a/v2/Full-00000000-00000010-1600000000.gz")
	put("b/v2/Incr-00000011-00000020-1600000060")
	require.NoError(t, os.WriteFile(filepath.Join(dir, "a/v2/Full-00000000-00000011-1600000001.gz.0123456789abcdef.tmp"), []byte("x"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "a/v2/old.attrs"), []byte("{}"), 0o644))

	objs, err := st.List(ctx)
	require.NoError(t, err)
	var keys []string
	for _, o := range objs {
		keys = append(keys, o.Key)
		require.Equal(t, int64(4), o.Size)
		require.False(t, o.ModTime.IsZero())
	}
	require.Equal(t, []string{"a/v2/Full-00000000-00000010-1600000000.gz", "b/v2/Incr-00000011-00000020-1600000060"}, keys)

	put("c/odd\x01name") // fileblob escapes the control character on disk
	objs, err = st.List(ctx)
	require.NoError(t, err)
	require.Len(t, objs, 3)
	require.Equal(t, "c/odd\x01name", objs[2].Key)

	_, err = Open(ctx, "file://"+filepath.Join(dir, "missing"))
	require.Error(t, err)
}
