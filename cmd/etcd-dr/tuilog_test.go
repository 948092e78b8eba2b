package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestTUILogLocation(t *testing.T) {
	t.Run("XDG_STATE_HOME, private directory", func(t *testing.T) {
		state := t.TempDir()
		t.Setenv("XDG_STATE_HOME", state)
		f, err := openTUILog()
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		if filepath.Dir(f.Name()) != filepath.Join(state, "etcd-dr") {
			t.Fatalf("log at %s", f.Name())
		}
		fi, err := os.Stat(filepath.Join(state, "etcd-dr"))
		if err != nil || fi.Mode().Perm() != 0o700 {
			t.Fatalf("dir mode %v (%v)", fi.Mode().Perm(), err)
		}
		if strings.HasPrefix(f.Name(), os.TempDir()+"/etcd-dr-tui") {
			t.Fatal("predictable /tmp path")
		}
	})
	t.Run("home fallback, an existing open directory is made private", func(t *testing.T) {
		home := t.TempDir()
		t.Setenv("XDG_STATE_HOME", "")
		t.Setenv("HOME", home)
		dir := filepath.Join(home, ".local", "state", "etcd-dr")
		if err := os.MkdirAll(dir, 0o777); err != nil {
			t.Fatal(err)
		}
		os.Chmod(dir, 0o777)
		f, err := openTUILog()
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		fi, _ := os.Stat(dir)
		if filepath.Dir(f.Name()) != dir || fi.Mode().Perm() != 0o700 {
			t.Fatalf("log %s, dir mode %v", f.Name(), fi.Mode().Perm())
		}
	})
}
