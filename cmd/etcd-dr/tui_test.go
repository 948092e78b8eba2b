package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Without a terminal (here: output to a buffer) or with --non-interactive, no verb prints the help, exit 0.
func TestNoVerbWithoutTerminalPrintsHelp(t *testing.T) {
	for _, args := range [][]string{nil, {"--non-interactive"}, {"--store", "file:///tmp", "--store", "file:///var"}} {
		out, errOut, code := runCLI(t, args...)
		if code != 0 || !strings.Contains(out, "Available Commands") || errOut != "" {
			t.Fatalf("%v: code %d, stdout %q, stderr %q", args, code, out, errOut)
		}
	}
}

// --store repeats for the TUI; verbs keep one store, the last given, as before.
func TestStoreFlagRepeatable(t *testing.T) {
	var out bytes.Buffer
	g := &globalOptions{stdout: &out, stderr: &out}
	root := newRootCommand(g)
	root.SetArgs([]string{"--non-interactive", "--store", "file:///a", "--store", "file:///b"})
	if err := root.ExecuteContext(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(g.tuiStores(), " "); got != "file:///a file:///b" {
		t.Fatalf("TUI stores %q", got)
	}
	if g.store != "file:///b" {
		t.Fatalf("verbs' store %q", g.store)
	}
	t.Setenv("ETCD_DR_STORE", "file:///env")
	g2 := &globalOptions{stdout: &out, stderr: &out}
	root = newRootCommand(g2)
	root.SetArgs([]string{"--non-interactive"})
	if err := root.ExecuteContext(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(g2.tuiStores(), " "); got != "file:///env" {
		t.Fatalf("TUI stores from ETCD_DR_STORE: %q", got)
	}
}

// Without --store or ETCD_DR_STORE, the TUI opens the stores listed in the config file.
func TestStoresFile(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("XDG_CONFIG_HOME", dir)
	t.Setenv("ETCD_DR_STORE", "")
	if err := os.MkdirAll(filepath.Join(dir, "etcd-dr"), 0o755); err != nil {
		t.Fatal(err)
	}
	body := "# production\nfile:///var/etcd-backup/v1/etcd-cluster\n\n  s3://backups/etcd-main  \n"
	if err := os.WriteFile(filepath.Join(dir, "etcd-dr", "stores"), []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	g := &globalOptions{}
	if got := strings.Join(g.tuiStores(), " "); got != "file:///var/etcd-backup/v1/etcd-cluster s3://backups/etcd-main" {
		t.Fatalf("stores %q", got)
	}
	g.stores = []string{"file:///flag"}
	if got := strings.Join(g.tuiStores(), " "); got != "file:///flag" {
		t.Fatalf("--store did not win: %q", got)
	}
}
