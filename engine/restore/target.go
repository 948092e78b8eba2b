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
	// empty is an existing empty directory (often a volume's mount point, which cannot be renamed or replaced):
	// the restore is staged inside it and its entries moved in.
	empty bool
	// notes say what was cleaned up before starting.
	notes []string
	// lock is held from the first check to the end of the restore.
	lock *targetLock
	// created are the missing parent folders this restore made, deepest first: taken back if it fails.
	created []string
	done    bool
}

// stagingParent is where the staging folder goes: inside an empty target (same filesystem, even for a mount
// point), else beside the target.
func (t *target) stagingParent() (parent, prefix string) {
	if t.empty {
		return t.path, stagingMark
	}
	return filepath.Dir(t.path), "." + filepath.Base(t.path) + stagingMark
}

// CheckTarget refuses a --data-dir that a restore would refuse, without changing anything: callers check it
// before they open the store.
func CheckTarget(dir string, moveAside bool) error {
	_, err := prepareTarget(dir, moveAside, true)
	return err
}

// prepareTarget is the one check of a restore's target, made before any download or replay: it refuses a data
// dir that must not be written (a dangling symlink, a file, one a running etcd holds, one another restore is
// writing, an occupied one without moveAside). Unless dryRun, it takes the target's lock (creating missing
// parents) and removes scratch folders of killed restores inside it; the caller releases the target.
func prepareTarget(dir string, moveAside, dryRun bool) (t *target, err error) {
	if strings.TrimSpace(dir) == "" {
		return nil, fault.Bad("data dir", "", "is required: the new etcd data directory to create")
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fault.Bad("data dir", dir, "%v", err)
	}
	if err := checkDangling(abs); err != nil {
		return nil, err
	}
	t = &target{path: abs}
	tg := t // the returns below set t to nil
	if dryRun {
		if err := probeTargetLock(abs); err != nil {
			return nil, err
		}
	} else {
		defer func() {
			if err != nil {
				tg.release()
			}
		}()
		parent := filepath.Dir(abs)
		t.created = missingParents(parent)
		if err := os.MkdirAll(parent, 0o755); err != nil {
			return nil, unwritable(abs, err)
		}
		if t.lock, err = acquireTargetLock(abs); err != nil {
			return nil, err
		}
	}
	fi, err := os.Stat(abs)
	switch {
	case os.IsNotExist(err):
	case err != nil:
		return nil, fault.Bad("data dir", abs, "cannot be checked: %v", err)
	case !fi.IsDir():
		return nil, &fault.TargetExists{Path: abs, What: "is a file, not a directory; choose another path"}
	default:
		if err := checkNotLive(abs); err != nil {
			return nil, err
		}
		entries, err := os.ReadDir(abs)
		if err != nil {
			return nil, fault.Bad("data dir", abs, "cannot be read: %v", err)
		}
		entries, t.notes, err = dropStale(abs, entries, dryRun)
		if err != nil {
			return nil, err
		}
		t.empty = len(entries) == 0
		if len(entries) > 0 {
			if !moveAside {
				return nil, &fault.TargetExists{Path: abs, What: fmt.Sprintf("is not empty (it holds %s); a restore never overwrites a data dir", entries[0].Name()), MoveAsideHelps: true}
			}
			t.occupied = true
		}
	}
	return t, nil
}

// checkDangling refuses a target that is, or lies below, a symbolic link to nothing: the restore could only
// fail at its very end, or write somewhere else than the link says once its destination appears.
func checkDangling(abs string) error {
	for p := abs; ; p = filepath.Dir(p) {
		if _, err := os.Stat(p); err == nil {
			return nil
		}
		if fi, err := os.Lstat(p); err == nil && fi.Mode()&os.ModeSymlink != 0 {
			dest, _ := os.Readlink(p)
			return fault.Refused("data dir %s: %s is a symbolic link to %s, which does not exist; create its destination, or give the real path (nothing was changed)", abs, p, dest)
		}
		if filepath.Dir(p) == p {
			return nil
		}
	}
}

// release lets go of the target's lock and, unless the restore was committed, takes back the parent folders
// prepareTarget made.
func (t *target) release() {
	t.lock.release()
	if !t.done {
		for _, d := range t.created {
			_ = os.Remove(d) // only if still empty
		}
	}
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
	}
	if t.empty {
		entries, err := os.ReadDir(out)
		if err != nil {
			return "", err
		}
		for _, e := range entries {
			if err := os.Rename(filepath.Join(out, e.Name()), filepath.Join(t.path, e.Name())); err != nil {
				return "", fmt.Errorf("move the restore into %s: %w", t.path, err)
			}
		}
		syncDir(t.path)
		return "", nil
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

// missingParents lists the folders MkdirAll(dir) would create, deepest first.
func missingParents(dir string) []string {
	var out []string
	for d := dir; ; d = filepath.Dir(d) {
		if _, err := os.Stat(d); err == nil || filepath.Dir(d) == d {
			return out
		}
		out = append(out, d)
	}
}

// newStaging creates the staging folder for t, after removing folders that killed restores of the same target
// left behind (their lock is free). Read-only or unwritable places are refused.
func newStaging(t *target) (*staging, []string, error) {
	parent, prefix := t.stagingParent()
	notes := t.notes
	leftovers, _ := filepath.Glob(filepath.Join(parent, prefix+"*"))
	for _, old := range leftovers {
		if stale(old) {
			if err := os.RemoveAll(old); err == nil {
				notes = append(notes, fmt.Sprintf("removed %s, left by an interrupted restore", old))
			}
		}
	}
	dir, err := os.MkdirTemp(parent, prefix)
	if err != nil {
		return nil, nil, unwritable(t.path, err)
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

// dropStale removes the staging folders of killed restores from the entries of an existing target (they are ours,
// made inside an empty target) and refuses a target another restore is working in.
func dropStale(dir string, entries []os.DirEntry, dryRun bool) ([]os.DirEntry, []string, error) {
	var kept []os.DirEntry
	var notes []string
	for _, e := range entries {
		if !e.IsDir() || !strings.HasPrefix(e.Name(), stagingMark) {
			kept = append(kept, e)
			continue
		}
		p := filepath.Join(dir, e.Name())
		if !stale(p) {
			return nil, nil, fault.Refused("another restore is running into data dir %s (%s is in use); wait for it, or choose another path", dir, p)
		}
		if dryRun {
			continue
		}
		if err := os.RemoveAll(p); err != nil {
			return nil, nil, fmt.Errorf("remove %s, left by an interrupted restore: %w", p, err)
		}
		notes = append(notes, fmt.Sprintf("removed %s, left by an interrupted restore", p))
	}
	return kept, notes, nil
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
		return fault.Refused("cannot write beside data dir %s (%v): the restore needs a writable parent folder; choose another path", target, err)
	}
	return fmt.Errorf("prepare a folder beside %s: %w", target, err)
}

func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		d.Close()
	}
}
