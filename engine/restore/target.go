package restore

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/etcd-dr/etcd-dr/engine/fault"
)

// stagingMark is in the name of the temporary folder a restore works in, beside the target.
const stagingMark = ".etcd-dr-restore-"

// target is the checked --data-dir.
type target struct {
	path     string
	occupied bool // exists and is not empty: must be moved aside first
}

// prepareTarget refuses a data dir that must not be written, before anything is changed.
func prepareTarget(dir string, moveAside bool) (*target, error) {
	if strings.TrimSpace(dir) == "" {
		return nil, fault.Refused("--data-dir is required: the new etcd data directory to create")
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fault.Refused("--data-dir %s: %v", dir, err)
	}
	t := &target{path: abs}
	fi, err := os.Stat(abs)
	switch {
	case os.IsNotExist(err):
	case err != nil:
		return nil, fault.Refused("--data-dir %s cannot be checked: %v", abs, err)
	case !fi.IsDir():
		return nil, fault.Refused("--data-dir %s is a file, not a directory; choose another path", abs)
	default:
		entries, err := os.ReadDir(abs)
		if err != nil {
			return nil, fault.Refused("--data-dir %s cannot be read: %v", abs, err)
		}
		if len(entries) > 0 {
			if !moveAside {
				return nil, fault.Refused("--data-dir %s is not empty (%d entries); a restore never overwrites a data dir: pass --move-aside to rename it to %s.broken-<timestamp> first, or choose a new path", abs, len(entries), abs)
			}
			t.occupied = true
		}
	}
	return t, nil
}

// commit moves an occupied target aside and renames the finished restore into place.
func (t *target) commit(out string, now time.Time) (string, error) {
	moved := ""
	if t.occupied {
		moved = fmt.Sprintf("%s.broken-%s", t.path, now.UTC().Format("20060102T150405Z"))
		if _, err := os.Stat(moved); err == nil {
			moved = fmt.Sprintf("%s.broken-%s", t.path, now.UTC().Format("20060102T150405.000000000Z"))
		}
		if err := os.Rename(t.path, moved); err != nil {
			return "", fmt.Errorf("move %s aside to %s: %w (nothing was changed)", t.path, moved, err)
		}
	} else if fi, err := os.Stat(t.path); err == nil && fi.IsDir() {
		// An empty directory (a mount point is refused by rename; then the files are moved in).
		if err := os.Remove(t.path); err != nil {
			return "", fmt.Errorf("replace empty directory %s: %w", t.path, err)
		}
	}
	if err := os.Rename(out, t.path); err != nil {
		if moved != "" {
			if back := os.Rename(moved, t.path); back != nil {
				return "", fmt.Errorf("rename the restore into %s: %w; and moving the old data dir back from %s failed: %v", t.path, err, moved, back)
			}
		}
		return "", fmt.Errorf("rename the restore into %s: %w", t.path, err)
	}
	syncDir(filepath.Dir(t.path))
	return moved, nil
}

// staging is the temporary folder beside the target: the downloaded db and the data dir(s) being made. It holds
// a lock while a restore runs, so that a later restore can tell a folder left by a killed one from a live one.
type staging struct {
	dir  string
	lock *os.File
}

func (s *staging) db() string  { return filepath.Join(s.dir, "snapshot.db") }
func (s *staging) out() string { return filepath.Join(s.dir, "data") }

// remove deletes the staging folder: this restore's own scratch files, never user data.
func (s *staging) remove() {
	_ = os.RemoveAll(s.dir)
	if s.lock != nil {
		s.lock.Close()
	}
}

// newStaging creates the staging folder beside target, after removing folders that killed restores of the same
// target left behind (their lock is free). Read-only or unwritable parents are refused.
func newStaging(target string) (*staging, []string, error) {
	parent := filepath.Dir(target)
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return nil, nil, unwritable(target, err)
	}
	var notes []string
	leftovers, _ := filepath.Glob(filepath.Join(parent, "."+filepath.Base(target)+stagingMark+"*"))
	for _, old := range leftovers {
		if stale(old) {
			if err := os.RemoveAll(old); err == nil {
				notes = append(notes, fmt.Sprintf("removed %s, left by an interrupted restore", old))
			}
		}
	}
	dir, err := os.MkdirTemp(parent, "."+filepath.Base(target)+stagingMark)
	if err != nil {
		return nil, nil, unwritable(target, err)
	}
	s := &staging{dir: dir}
	lock, err := os.OpenFile(filepath.Join(dir, "lock"), os.O_CREATE|os.O_RDWR, 0o600)
	if err == nil {
		err = syscall.Flock(int(lock.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
	}
	if err != nil {
		s.remove()
		return nil, nil, fmt.Errorf("lock %s: %w", dir, err)
	}
	s.lock = lock
	return s, notes, nil
}

// stale tells whether a staging folder belongs to no running restore.
func stale(dir string) bool {
	f, err := os.Open(filepath.Join(dir, "lock"))
	if err != nil {
		// Killed between creating the folder and its lock: only trust that for an old folder.
		fi, err := os.Stat(dir)
		return err == nil && time.Since(fi.ModTime()) > 10*time.Minute
	}
	defer f.Close()
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		return false
	}
	_ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
	return true
}

func unwritable(target string, err error) error {
	if errors.Is(err, os.ErrPermission) || errors.Is(err, syscall.EROFS) {
		return fault.Refused("cannot write beside --data-dir %s (%v): the restore needs a writable parent folder; choose another path", target, err)
	}
	return fmt.Errorf("prepare a folder beside %s: %w", target, err)
}

func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		d.Close()
	}
}
