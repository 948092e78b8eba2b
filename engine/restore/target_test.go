package restore_test

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/etcd-dr/etcd-dr/engine/fault"
	"github.com/etcd-dr/etcd-dr/engine/progress"
	"github.com/etcd-dr/etcd-dr/engine/restore"
	"github.com/etcd-dr/etcd-dr/internal/fixture"
	"github.com/etcd-dr/etcd-dr/internal/testkit/restoretest"
)

// entries lists the names in dir.
func entries(t *testing.T, dir string) []string {
	t.Helper()
	es, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range es {
		names = append(names, e.Name())
	}
	return names
}

// A second restore into the same not-yet-existing data dir is refused at once, naming the restore that holds the
// lock, while the first one is still downloading; the first then finishes, and no lock file is left behind.
func TestConcurrentRestoreRefusedAtOnce(t *testing.T) {
	parent := t.TempDir()
	dataDir := filepath.Join(parent, "etcd")
	url := restoretest.StoreURL(t, fixture.StoreBRv2)
	downloading := make(chan struct{})
	carryOn := make(chan struct{})
	var once bool
	first := make(chan error, 1)
	go func() {
		cfg := restore.Config{DataDir: dataDir, Progress: progress.Func(func(progress.Update) {
			if !once { // hold the first restore in its download until the second has been tried
				once = true
				close(downloading)
				<-carryOn
			}
		})}
		_, err := restoreFrom(t, url, 22, cfg)
		first <- err
	}()
	select {
	case <-downloading:
	case err := <-first:
		t.Fatalf("first restore ended before downloading: %v", err)
	}
	start := time.Now()
	_, err := restoreFrom(t, url, 22, restore.Config{DataDir: dataDir})
	took := time.Since(start)
	close(carryOn)
	if !errors.Is(err, fault.ErrRefused) {
		t.Fatalf("second restore: %v, want a refusal", err)
	}
	for _, want := range []string{"another restore into " + dataDir, "pid " + strconv.Itoa(os.Getpid()), dataDir + ".etcd-dr.lock"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("second restore's error %q does not say %q", err, want)
		}
	}
	if took > 5*time.Second {
		t.Errorf("second restore took %v to be refused: it did work before checking the lock", took)
	}
	if err := <-first; err != nil {
		t.Fatalf("first restore: %v", err)
	}
	if got := entries(t, parent); len(got) != 1 || got[0] != "etcd" {
		t.Errorf("beside the data dir: %v, want only etcd (no lock or staging left)", got)
	}
}

// CheckTarget (the check made before the store is opened) refuses a target whose lock another restore holds.
func TestCheckTargetRefusesHeldLock(t *testing.T) {
	dataDir := filepath.Join(t.TempDir(), "etcd")
	f, err := os.OpenFile(dataDir+".etcd-dr.lock", os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteString("pid 4242 on elsewhere since 2026-01-01T00:00:00Z"); err != nil {
		t.Fatal(err)
	}
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX); err != nil {
		t.Fatal(err)
	}
	err = restore.CheckTarget(dataDir, false)
	if !errors.Is(err, fault.ErrRefused) || !strings.Contains(err.Error(), "pid 4242 on elsewhere") {
		t.Fatalf("CheckTarget: %v, want a refusal naming pid 4242", err)
	}
	_, err = restoreFrom(t, restoretest.StoreURL(t, fixture.StoreOperator), 0, restore.Config{DataDir: dataDir})
	if !errors.Is(err, fault.ErrRefused) || !strings.Contains(err.Error(), "pid 4242") {
		t.Fatalf("restore: %v, want a refusal naming pid 4242", err)
	}
	if _, err := os.Stat(dataDir); !os.IsNotExist(err) {
		t.Errorf("refused restore left %s: %v", dataDir, err)
	}
}

// A data dir that is a symbolic link to nothing is refused before any work, and the link is left alone.
func TestRestoreRefusesDanglingSymlink(t *testing.T) {
	parent := t.TempDir()
	for _, tc := range []struct{ name, link, dataDir string }{
		{name: "the data dir", link: filepath.Join(parent, "etcd"), dataDir: filepath.Join(parent, "etcd")},
		{name: "a parent of it", link: filepath.Join(parent, "vol"), dataDir: filepath.Join(parent, "vol", "etcd")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := os.Symlink(filepath.Join(parent, "gone-"+filepath.Base(tc.link)), tc.link); err != nil {
				t.Fatal(err)
			}
			for _, check := range []func() error{
				func() error { return restore.CheckTarget(tc.dataDir, true) },
				func() error {
					_, err := restoreFrom(t, restoretest.StoreURL(t, fixture.StoreOperator), 0, restore.Config{DataDir: tc.dataDir, MoveAside: true})
					return err
				},
			} {
				err := check()
				if !errors.Is(err, fault.ErrRefused) || !strings.Contains(err.Error(), "symbolic link") {
					t.Fatalf("got %v, want a refusal of the dangling symbolic link", err)
				}
			}
			if fi, err := os.Lstat(tc.link); err != nil || fi.Mode()&os.ModeSymlink == 0 {
				t.Errorf("the link %s was changed: %v", tc.link, err)
			}
		})
	}
	if got := entries(t, parent); len(got) != 2 {
		t.Errorf("beside the links: %v, want only the two links", got)
	}
}

// A data dir whose db another process holds locked (as a running etcd does) is refused, --move-aside or not,
// and left as it was.
func TestRestoreRefusesLockedDB(t *testing.T) {
	parent := t.TempDir()
	dataDir := filepath.Join(parent, "etcd")
	db := filepath.Join(dataDir, "member", "snap", "db")
	if err := os.MkdirAll(filepath.Dir(db), 0o755); err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(db, os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX); err != nil {
		t.Fatal(err)
	}
	for _, moveAside := range []bool{false, true} {
		_, err := restoreFrom(t, restoretest.StoreURL(t, fixture.StoreOperator), 0, restore.Config{DataDir: dataDir, MoveAside: moveAside})
		if !errors.Is(err, fault.ErrRefused) || !strings.Contains(err.Error(), "locked by another process") {
			t.Errorf("move aside %v: %v, want a refusal of the locked db", moveAside, err)
		}
	}
	if got := entries(t, parent); len(got) != 1 {
		t.Errorf("beside the data dir: %v, want it alone (nothing moved aside)", got)
	}
}

// Member names are plain etcd names: one that would place a data dir outside the target, or nest it, or carry a
// control character is refused before anything is written.
func TestRestoreRefusesBadMemberNames(t *testing.T) {
	for _, tc := range []struct{ name, initial, member string }{
		{name: "parent escape", initial: "../../x=http://127.0.0.1:2380"},
		{name: "dot dot", initial: "..=http://127.0.0.1:2380"},
		{name: "absolute", initial: "/abs/m0=http://127.0.0.1:2380"},
		{name: "nested", initial: "a/b=http://127.0.0.1:2380"},
		{name: "backslash", initial: `a\b=http://127.0.0.1:2380`},
		{name: "escape sequence", initial: "m\x1b[31m=http://127.0.0.1:2380"},
		{name: "one bad among good", initial: "m0=http://127.0.0.1:2380,../m1=http://127.0.0.1:2381"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			top := t.TempDir()
			dataDir := filepath.Join(top, "a", "b", "restore")
			_, err := restoreFrom(t, restoretest.StoreURL(t, fixture.StoreOperator), 0, restore.Config{DataDir: dataDir, AllMembers: true, Cluster: restore.Cluster{InitialCluster: tc.initial}})
			if !errors.Is(err, fault.ErrRefused) || !strings.Contains(err.Error(), "member name") {
				t.Fatalf("got %v, want a refusal of the member name", err)
			}
			if got := entries(t, top); len(got) != 0 {
				t.Errorf("refused restore wrote %v into %s", got, top)
			}
		})
	}
	for _, name := range []string{"", ".", "..", "a/b", "x\x00", "-m"} {
		if err := restore.CheckMemberName(name); !errors.Is(err, fault.ErrRefused) {
			t.Errorf("CheckMemberName(%q) = %v, want a refusal", name, err)
		}
	}
	for _, name := range []string{"default", "etcd-0", "m0.example", "node_1"} {
		if err := restore.CheckMemberName(name); err != nil {
			t.Errorf("CheckMemberName(%q) = %v, want nil", name, err)
		}
	}
}
