package main

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

// Object names holding terminal escapes (a title change, a colour) reach list's and validate's text output
// escaped, never raw.
func TestTextOutputEscapesObjectNames(t *testing.T) {
	dir := testenv.CopyStore(t, "stores/operator/v1/etcd-cluster")
	ctx := context.Background()
	st, err := store.Open(ctx, "file://"+dir)
	require.NoError(t, err)
	for _, key := range []string{"\x1b]0;pwned\x07junk", "\x1b[31mred.txt"} {
		w, err := st.NewWriter(ctx, key, store.WriteOptions{})
		require.NoError(t, err)
		_, err = w.Write([]byte("not a backup"))
		require.NoError(t, err)
		require.NoError(t, w.Commit())
	}
	st.Close()
	entries, _ := os.ReadDir(dir)
	require.NotEmpty(t, entries)
	for _, args := range [][]string{{"list"}, {"validate"}} {
		out, errs, _ := runCLI(t, append(args, "--store", "file://"+filepath.Clean(dir))...)
		require.NotContains(t, out+errs, "\x1b", "%v printed a raw ESC:\n%s%s", args, out, errs)
		require.NotContains(t, out+errs, "\x07")
		require.True(t, strings.Contains(out+errs, `\x1b]0;pwned\x07junk`) || strings.Contains(out+errs, `\x1b[31mred.txt`), "%v shows the names escaped:\n%s%s", args, out, errs)
	}
}
