package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/etcd-dr/etcd-dr/internal/fixture"
	"github.com/etcd-dr/etcd-dr/internal/testenv"
)

// compact folds a chain into one new full snapshot (JSON shape below); the refusals keep their exit codes: nothing
// to fold 2, a gap 3 (as restore), a store of several clusters 2.
func TestCompactCLI(t *testing.T) {
	dir := testenv.CopyStore(t, fixture.StoreBRv2)
	out, errOut, code := runCLI(t, "compact", "--store", "file://"+dir, "--revision", "72", "--compression", "zstd", "-o", "json")
	require.Equal(t, exitOK, code, errOut)
	var res struct {
		Key      string   `json:"key"`
		Revision int64    `json:"revision"`
		Chain    string   `json:"chain"`
		Folded   []string `json:"folded"`
		Keys     int64    `json:"keys"`
	}
	require.NoError(t, json.Unmarshal([]byte(out), &res), out)
	require.Equal(t, int64(72), res.Revision)
	require.True(t, strings.HasPrefix(res.Key, "v2/Full-00000000-00000072-") && strings.HasSuffix(res.Key, ".zst"), res.Key)
	require.Len(t, res.Folded, 6)

	_, errOut, code = runCLI(t, "compact", "--store", "file://"+dir, "--revision", "93")
	require.Equal(t, exitUsage, code, errOut)
	require.Contains(t, errOut, "nothing to fold")
	_, errOut, code = runCLI(t, "compact", "--store", "file://"+dir)
	require.Equal(t, exitProblems, code, errOut)
	require.Contains(t, errOut, "--revision 103")
	_, errOut, code = runCLI(t, "compact", "--store", "file://"+testenv.CopyStore(t, fixture.StoreOperator))
	require.Equal(t, exitUsage, code, errOut)
	require.Contains(t, errOut, "nothing to fold")
	_, errOut, code = runCLI(t, "compact", "--store", "file://"+testenv.CopyStore(t, "stores"))
	require.Equal(t, exitUsage, code, errOut)
	require.Contains(t, errOut, "--cluster")
	_, errOut, code = runCLI(t, "compact", "--store", "file://"+dir, "--then-gc")
	require.Equal(t, exitUsage, code, errOut)
}
