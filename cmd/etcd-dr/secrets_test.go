package main

import (
	"bytes"
	"context"
	"io"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"
	"github.com/stretchr/testify/require"
)

// runCLITimeout is runCLI with a deadline, for verbs that would wait on an unreachable etcd.
func runCLITimeout(t *testing.T, d time.Duration, args ...string) (string, string, int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	var out, errb bytes.Buffer
	g := &globalOptions{stdout: &out, stderr: &errb}
	root := newRootCommand(g)
	root.SetArgs(args)
	code := report(g, root.ExecuteContext(ctx))
	return out.String(), errb.String(), code
}

// commandPaths lists every command below root (root included) as its words after "etcd-dr".
func commandPaths(c *cobra.Command, prefix []string) [][]string {
	out := [][]string{prefix}
	for _, sub := range c.Commands() {
		if sub.Name() == "help" {
			continue
		}
		out = append(out, commandPaths(sub, append(append([]string{}, prefix...), sub.Name()))...)
	}
	return out
}

// No verb prints a credential: not in --help (defaults come from the environment after parsing), not in its
// errors (text or JSON), whether the secret comes from the environment, a flag or the store URL.
func TestNoVerbPrintsSecrets(t *testing.T) {
	secrets := map[string]string{
		"ETCDCTL_PASSWORD":      "etcdctl-pw-S3CR3T1",
		"ETCD_DR_API_TOKEN":     "api-token-S3CR3T2",
		"AWS_SECRET_ACCESS_KEY": "aws-secret-S3CR3T3",
	}
	for k, v := range secrets {
		t.Setenv(k, v)
	}
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIATEST")
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	const sas = "sas-sig-S3CR3T4"
	const flagPassword = "flag-pw-S3CR3T5"
	sasStore := "azblob://backups/etcd?sv=2022-11-02&sp=rl&sig=" + sas
	presigned := "s3://backups/etcd?endpoint=http://127.0.0.1:1&region=us-east-1&X-Amz-Signature=" + sas
	t.Setenv("ETCD_DR_STORE", sasStore)
	all := []string{sas, flagPassword}
	for _, v := range secrets {
		all = append(all, v)
	}
	check := func(t *testing.T, what, text string) {
		t.Helper()
		for _, s := range all {
			require.NotContains(t, text, s, "%s shows a secret", what)
		}
	}

	var g globalOptions
	g.stdout, g.stderr = io.Discard, io.Discard
	paths := commandPaths(newRootCommand(&g), nil)
	require.Greater(t, len(paths), 10, "every verb is walked")
	dir := t.TempDir()
	for _, path := range paths {
		name := "etcd-dr " + strings.Join(path, " ")
		t.Run(name, func(t *testing.T) {
			out, errs, code := runCLI(t, append(append([]string{}, path...), "--help")...)
			require.Equal(t, 0, code, "%s --help: %s", name, errs)
			require.Contains(t, out, "Usage:")
			check(t, name+" --help", out+errs)
			if len(path) > 0 && path[0] == "completion" {
				return
			}
			cmd, _, err := newRootCommand(&g).Find(path)
			require.NoError(t, err)
			stores := []string{"", sasStore, presigned}
			if cmd.Flags().Lookup("endpoints") != nil {
				stores = stores[:1] // each run waits for the unreachable etcd's dial timeout; ETCD_DR_STORE holds the SAS
			}
			for _, store := range stores {
				args := append([]string{}, path...)
				if store != "" {
					args = append(args, "--store", store)
				}
				args = append(args, "--non-interactive")
				for flag, value := range map[string]string{"password": flagPassword, "user": "root:" + flagPassword,
					"endpoints": "http://127.0.0.1:1", "data-dir": filepath.Join(dir, "etcd"), "to": filepath.Join(dir, "out")} {
					if cmd.Flags().Lookup(flag) != nil {
						args = append(args, "--"+flag, value)
					}
				}
				for _, output := range []string{"text", "json"} {
					out, errs, _ := runCLITimeout(t, 20*time.Second, append(args, "-o", output)...)
					check(t, strings.Join(args, " ")+" -o "+output, out+errs)
				}
			}
		})
	}
}
