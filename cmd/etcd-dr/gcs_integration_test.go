package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/etcd-dr/etcd-dr/internal/testenv"
)

// list, pick and download of every committed fixture layout, uploaded to a GCS emulator (fake-gcs-server).
func TestGCSListPickDownloadEveryLayout(t *testing.T) {
	g := testenv.StartGCS(t)
	g.Env(t)
	t.Setenv("HOME", t.TempDir())
	g.CreateBucket(t, "backups")
	td := testenv.Testdata(t)
	cases := map[string]struct {
		rel, newest  string
		chains, code int
	}{
		"etcdbr-v2": {rel: "stores/etcdbr-v2", chains: 2, newest: "--revision 103", code: 3},
		"etcdbr-v1": {rel: "stores/etcdbr-v1", chains: 2, newest: `"revision": 195`},
		"operator":  {rel: "stores/operator/v1/etcd-cluster", chains: 3, newest: `"revision": 223`},
	}
	for layout, c := range cases {
		t.Run(layout, func(t *testing.T) {
			url := g.URL("backups", layout)
			uploadDir(t, url, filepath.Join(td, c.rel))
			out, errs, code := runCLI(t, "list", "--store", url, "-o", "json")
			require.Equal(t, 0, code, errs)
			require.Equal(t, c.chains, strings.Count(out, `"base": {`), out)
			require.Contains(t, out, `"layout": "`+layout+`"`)

			out, errs, code = runCLI(t, "pick", "--store", url, "-o", "json")
			require.Equal(t, c.code, code, errs)
			require.Contains(t, out, c.newest)

			to := filepath.Join(t.TempDir(), "dl")
			args := []string{"download", "--store", url, "--to", to, "-o", "json"}
			if layout == "etcdbr-v2" {
				args = append(args, "--revision", "103")
			}
			out, errs, code = runCLI(t, args...)
			require.Equal(t, 0, code, errs+out)
			_, err := os.Stat(to)
			require.NoError(t, err)
		})
	}
}
