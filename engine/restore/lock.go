package restore

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/etcd-dr/etcd-dr/engine/fault"
)

// lockSuffix names the lock file beside a target: <dir>.etcd-dr.lock. Beside, never inside, so that it exists
// before the target does and survives the target being moved aside.
const lockSuffix = ".etcd-dr.lock"

// targetLock is the exclusive flock on <dir>.etcd-dr.lock that one restore into dir holds from before its first
// check until it is done.
type targetLock struct {
	path string
	f    *os.File
	// onDir is set when the lock is the flock of the (existing, empty) target directory itself, because its
	// parent cannot take a file (a mount point under a read-only root).
	onDir bool
}

func lockPath(dir string) string { return dir + lockSuffix }

// acquireTargetLock takes the lock of dir without waiting: a restore already holding it is refused at once,
// naming its holder. The parent folder must exist.
func acquireTargetLock(dir string) (*targetLock, error) {
	p := lockPath(dir)
	for attempt := 0; ; attempt++ {
		f, err := os.OpenFile(p, os.O_CREATE|os.O_RDWR, 0o600)
		if err != nil {
			if fi, serr := os.Stat(dir); serr == nil && fi.IsDir() && (errors.Is(err, os.ErrPermission) || errors.Is(err, unix.EROFS)) {
				return lockDir(dir)
			}
			return nil, unwritable(dir, err)
		}
		if err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
			holder := readHolder(f)
			f.Close()
			if errors.Is(err, unix.EWOULDBLOCK) {
				return nil, busy(dir, p, holder)
			}
			return nil, fmt.Errorf("lock %s: %w", p, err)
		}
		// The holder before us may have removed the file after we opened it: our flock is then on a file nobody
		// else can find. Lock the file that is at the path now.
		if same(f, p) {
			_ = f.Truncate(0)
			host, _ := os.Hostname()
			_, _ = fmt.Fprintf(f, "pid %d on %s since %s", os.Getpid(), host, time.Now().UTC().Format(time.RFC3339))
			return &targetLock{path: p, f: f}, nil
		}
		f.Close()
		if attempt > 10 {
			return nil, fmt.Errorf("lock %s: it keeps being replaced; is another restore starting and stopping?", p)
		}
	}
}

// lockDir locks the target directory itself, for an existing directory whose parent takes no lock file.
func lockDir(dir string) (*targetLock, error) {
	f, err := os.Open(dir)
	if err != nil {
		return nil, fmt.Errorf("lock %s: %w", dir, err)
	}
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, unix.EWOULDBLOCK) {
			return nil, busy(dir, dir, "")
		}
		return nil, fmt.Errorf("lock %s: %w", dir, err)
	}
	return &targetLock{path: dir, f: f, onDir: true}, nil
}

// probeTargetLock refuses dir when a restore holds its lock, without creating or keeping anything.
func probeTargetLock(dir string) error {
	p := lockPath(dir)
	f, err := os.Open(p)
	if err != nil {
		return nil // no lock file: nobody holds it (an unreadable one is met again when the restore takes it)
	}
	defer f.Close()
	if err := unix.Flock(int(f.Fd()), unix.LOCK_SH|unix.LOCK_NB); err != nil {
		if errors.Is(err, unix.EWOULDBLOCK) {
			return busy(dir, p, readHolder(f))
		}
		return nil
	}
	_ = unix.Flock(int(f.Fd()), unix.LOCK_UN)
	return nil
}

// release removes the lock file while still holding it (a restore waiting on the old file then retries on a new
// one), and lets go.
func (l *targetLock) release() {
	if l == nil || l.f == nil {
		return
	}
	if !l.onDir {
		_ = os.Remove(l.path)
	}
	l.f.Close()
	l.f = nil
}

func busy(dir, lock, holder string) error {
	if holder == "" {
		holder = "holder unknown"
	}
	return fault.Refused("another restore into %s is running (%s; lock %s): wait for it to finish, or choose another path", dir, holder, lock)
}

func readHolder(f *os.File) string {
	b := make([]byte, 256)
	n, _ := f.ReadAt(b, 0)
	return strings.TrimSpace(string(b[:n]))
}

// same tells whether f is the file at path p now.
func same(f *os.File, p string) bool {
	a, err := f.Stat()
	if err != nil {
		return false
	}
	b, err := os.Stat(p)
	return err == nil && os.SameFile(a, b)
}

// checkNotLive refuses a data dir whose bbolt db another process holds locked: a running etcd. Moving it aside
// would leave etcd writing into the moved folder while a restore takes its place. The db of an --all-members
// folder's member dirs (<dir>/<name>/member/snap/db) is checked too.
func checkNotLive(dir string) error {
	dbs := []string{memberDB(dir)}
	more, _ := filepath.Glob(memberDB(filepath.Join(dir, "*")))
	for _, db := range append(dbs, more...) {
		if dbLocked(db) {
			return fault.Refused("data dir %s is in use: %s is locked by another process (a running etcd?); stop that etcd first, then retry (nothing was changed)", dir, db)
		}
	}
	return nil
}

// EtcdRunsOn reports whether a process holds the data dir's bbolt db locked, as etcd does while it runs: the
// probe restore makes before it touches a target, for the sidecar's "is my etcd up" too.
func EtcdRunsOn(dataDir string) bool { return dbLocked(memberDB(dataDir)) }

// memberDB is the bbolt file of an etcd data dir.
func memberDB(dataDir string) string { return filepath.Join(dataDir, "member", "snap", "db") }

// dbLocked tries a shared, non-blocking flock on a bbolt file: etcd holds an exclusive one while it runs.
func dbLocked(db string) bool {
	f, err := os.Open(db)
	if err != nil {
		return false
	}
	defer f.Close()
	if err := unix.Flock(int(f.Fd()), unix.LOCK_SH|unix.LOCK_NB); err != nil {
		return errors.Is(err, unix.EWOULDBLOCK)
	}
	_ = unix.Flock(int(f.Fd()), unix.LOCK_UN)
	return false
}
