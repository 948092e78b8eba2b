package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/etcd-dr/etcd-dr/internal/testenv"
)

// runCLI runs etcd-dr in-process with args and returns stdout, stderr and the exit code main would use.
func runCLI(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	var out, errb bytes.Buffer
	g := &globalOptions{stdout: &out, stderr: &errb}
	root := newRootCommand(g)
	root.SetArgs(args)
	code := report(g, root.ExecuteContext(context.Background()))
	return out.String(), errb.String(), code
}

// fixtureStores returns, per layout, a store URL of the committed fixture on file:// and, with servers on,
// on versitygw S3, Azurite and fake-gcs-server; keys are "<scheme>/<layout>".
func fixtureStores(t *testing.T, withServers bool) map[string]string {
	td := testenv.Testdata(t)
	layouts := map[string]string{
		"etcdbr-v2": "stores/etcdbr-v2",
		"etcdbr-v1": "stores/etcdbr-v1",
		"operator":  "stores/operator/v1/etcd-cluster",
	}
	out := map[string]string{}
	var s3 *testenv.S3
	var az *testenv.Azure
	var gcs *testenv.GCS
	if withServers {
		s3 = testenv.StartS3(t)
		s3.Env(t)
		s3.CreateBucket(t, "backups")
		az = testenv.StartAzure(t)
		az.Env(t)
		az.CreateContainer(t, "backups")
		gcs = testenv.StartGCS(t)
		gcs.Env(t)
		gcs.CreateBucket(t, "backups")
	}
	for name, rel := range layouts {
		out["file/"+name] = "file://" + filepath.Join(td, rel)
		if s3 != nil {
			u := s3.URL("backups", name)
			testenv.UploadDir(t, u, filepath.Join(td, rel), "")
			out["s3/"+name] = u
			u = az.URL("backups", name)
			testenv.UploadDir(t, u, filepath.Join(td, rel), "")
			out["azblob/"+name] = u
			u = gcs.URL("backups", name)
			testenv.UploadDir(t, u, filepath.Join(td, rel), "")
			out["gs/"+name] = u
		}
	}
	return out
}

func TestListPickDownloadOnEveryLayoutAndStore(t *testing.T) {
	want := map[string]struct {
		chains  int
		newest  string // pick without flags, or the exit-3 hint for a gap
		code    int
		version string
	}{
		"etcdbr-v2": {chains: 2, newest: "--revision 103", code: 3},
		"etcdbr-v1": {chains: 2, newest: `"revision": 195`},
		"operator":  {chains: 3, newest: `"revision": 223`, version: "3.6.16"},
	}
	for name, url := range fixtureStores(t, true) {
		layout := strings.SplitN(name, "/", 2)[1]
		w := want[layout]
		t.Run(name, func(t *testing.T) {
			out, errs, code := runCLI(t, "list", "--store", url, "-o", "json")
			require.Equal(t, 0, code, errs)
			require.Equal(t, w.chains, strings.Count(out, `"base": {`), out)
			require.Contains(t, out, `"layout": "`+layout+`"`)
			require.Contains(t, out, `"members": []`)

			text, _, code := runCLI(t, "list", "--store", url)
			require.Equal(t, 0, code)
			require.Contains(t, text, "Newest restorable revision")

			out, errs, code = runCLI(t, "pick", "--store", url, "-o", "json")
			require.Equal(t, w.code, code, errs)
			require.Contains(t, out, w.newest)
			if w.version != "" {
				require.Contains(t, out, `"etcdVersion": "`+w.version+`"`)
			}

			to := filepath.Join(t.TempDir(), "dl")
			args := []string{"download", "--store", url, "--to", to, "-o", "json"}
			if layout == "etcdbr-v2" {
				args = append(args, "--revision", "103")
			}
			out, errs, code = runCLI(t, args...)
			require.Equal(t, 0, code, errs+out)
			require.Contains(t, out, `"path": "`+to+`"`)
			_, err := os.Stat(to)
			require.NoError(t, err)
		})
	}
}

func TestBadInput(t *testing.T) {
	td := testenv.Testdata(t)
	operator := "file://" + filepath.Join(td, "stores/operator/v1/etcd-cluster")
	existing := filepath.Join(t.TempDir(), "exists.db")
	require.NoError(t, os.WriteFile(existing, []byte("keep me"), 0o644))
	junk := testenv.CopyStore(t, "stores/etcdbr-v1")
	require.NoError(t, os.WriteFile(filepath.Join(junk, "v1", "README.txt"), []byte("x"), 0o644))
	cases := []struct {
		name   string
		args   []string
		code   int
		stderr string
		stdout string
	}{
		{name: "unknown scheme", args: []string{"list", "--store", "foo://x"}, code: 2, stderr: "supported schemes: file://, s3://"},
		{name: "missing directory", args: []string{"list", "--store", "file:///nonexistent/backups"}, code: 1, stderr: "/nonexistent/backups"},
		{name: "no store", args: []string{"list", "--store", ""}, code: 2, stderr: "--store is required"},
		{name: "output yaml", args: []string{"list", "--store", operator, "--output", "yaml"}, code: 2, stderr: "use text or json"},
		{name: "unknown flag", args: []string{"list", "--store", operator, "--frobnicate"}, code: 2, stderr: "unknown flag"},
		{name: "unknown verb", args: []string{"frobnicate"}, code: 2, stderr: "unknown command"},
		{name: "hex revision", args: []string{"pick", "--store", operator, "--revision", "0xdf"}, code: 2, stderr: "decimal"},
		{name: "no such revision names nearest", args: []string{"pick", "--store", operator, "--revision", "100"}, code: 4, stderr: "nearest available: 15 (below) and 209 (above)"},
		{name: "incompatible version", args: []string{"pick", "--store", operator, "--etcd-version", "3.9.0"}, code: 4, stderr: "not 3.9"},
		{name: "json error carries refusals", args: []string{"pick", "--store", operator, "--etcd-version", "3.9.0", "-o", "json"}, code: 4, stdout: `"refused": [`},
		{name: "download onto an existing file", args: []string{"download", "--store", operator, "--to", existing}, code: 2, stderr: "--force"},
		{name: "download without --to", args: []string{"download", "--store", operator}, code: 2, stderr: "--to is required"},
		{name: "unrecognised objects are problems, not failures", args: []string{"list", "--store", "file://" + junk}, code: 0, stdout: "README.txt: not a backup object"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			out, errs, code := runCLI(t, c.args...)
			require.Equal(t, c.code, code, "stdout: %s\nstderr: %s", out, errs)
			if c.stderr != "" {
				require.Contains(t, errs, c.stderr)
			}
			if c.stdout != "" {
				require.Contains(t, out, c.stdout)
			}
		})
	}
	b, _ := os.ReadFile(existing)
	require.Equal(t, "keep me", string(b), "a refused download changes nothing")
}

func TestS3BadCredentialsExitOneWithoutSecret(t *testing.T) {
	s3 := testenv.StartS3(t)
	s3.Env(t)
	s3.CreateBucket(t, "backups")
	const secret = "definitely-not-the-secret-42"
	t.Setenv("AWS_SECRET_ACCESS_KEY", secret)
	out, errs, code := runCLI(t, "list", "--store", s3.URL("backups", "etcd-main"))
	require.Equal(t, 1, code)
	require.Contains(t, errs, "access denied")
	require.NotContains(t, errs+out, secret)
}

// A bucket that does not exist on S3 or GCS: exit 1 naming it.
func TestMissingBucketExitOne(t *testing.T) {
	for _, backend := range testenv.ObjectStores {
		t.Run(backend, func(t *testing.T) {
			// Another bucket on the same server: the one asked for is the only thing missing.
			url := testenv.StartBucket(t, backend, "backups").URL("etcd-main")
			url = strings.Replace(url, "://backups/", "://nope/", 1)
			_, errs, code := runCLI(t, "list", "--store", url)
			require.Equal(t, 1, code)
			require.Contains(t, errs, `bucket "nope" not found`)
		})
	}
}
