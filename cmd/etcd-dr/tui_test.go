package main

import (
	"bytes"
	"context"
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
