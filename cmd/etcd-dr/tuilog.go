package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// openTUILog creates the console's log file under $XDG_STATE_HOME/etcd-dr/ (else ~/.local/state/etcd-dr/), in a
// directory only the user can enter: never a predictable name in a shared /tmp, where another user could plant a
// link before the console opens it.
func openTUILog() (*os.File, error) {
	base := os.Getenv("XDG_STATE_HOME")
	if base == "" || !filepath.IsAbs(base) { // the XDG spec says to ignore a relative value
		home, err := os.UserHomeDir()
		if err != nil {
			return nil, fmt.Errorf("console log: no XDG_STATE_HOME and no home directory: %w", err)
		}
		base = filepath.Join(home, ".local", "state")
	}
	dir := filepath.Join(base, "etcd-dr")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("console log: create %s: %w", dir, err)
	}
	if err := os.Chmod(dir, 0o700); err != nil { // MkdirAll leaves an existing directory as it was
		return nil, fmt.Errorf("console log: make %s private: %w", dir, err)
	}
	path := filepath.Join(dir, fmt.Sprintf("tui-%d.log", os.Getpid()))
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_EXCL, 0o600)
	if errors.Is(err, os.ErrExist) { // a log left by an earlier run with the same pid
		if err = os.Remove(path); err == nil {
			f, err = os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_EXCL, 0o600)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("console log: %w", err)
	}
	return f, nil
}
