package restore_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/etcd-dr/etcd-dr/engine/fault"
	"github.com/etcd-dr/etcd-dr/engine/format"
	"github.com/etcd-dr/etcd-dr/engine/restore"
	"github.com/etcd-dr/etcd-dr/internal/fixture"
	"github.com/etcd-dr/etcd-dr/internal/testenv"
	"github.com/etcd-dr/etcd-dr/internal/testkit/restoretest"
)

// An empty last delta (zero bytes, or a compressed "[]" that only reading shows empty) is a gap naming it: the
// restore of the newest point fails with exit 3 naming the object and the revision that is safe, and a restore
// of that revision succeeds. (Before: the zero-byte delta was dropped and the restore silently stopped before it.)
func TestRestoreEmptyLastDelta(t *testing.T) {
	const empty = "v1/Backup-1763900840/Incr-00000196-00000205-1763900960"
	cases := []struct {
		name  string
		write func(t *testing.T, path string) string
	}{
		{name: "zero bytes", write: func(t *testing.T, p string) string {
			// What a killed writer leaves.
			if err := writeFile(p, nil); err != nil {
				t.Fatal(err)
			}
			return empty
		}},
		{name: "gzip of []", write: func(t *testing.T, p string) string {
			restoretest.WriteDelta(t, p+".gz", format.Gzip, []byte("[]"))
			return empty + ".gz"
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := testenv.CopyStore(t, fixture.StoreBRv1)
			key := tc.write(t, filepath.Join(dir, filepath.FromSlash(empty)))
			dataDir := filepath.Join(t.TempDir(), "etcd")
			_, err := restoreFrom(t, "file://"+dir, 0, restore.Config{DataDir: dataDir})
			if !errors.Is(err, fault.ErrProblems) {
				t.Fatalf("restore of the newest point: %v, want exit-3 problems", err)
			}
			for _, want := range []string{key, "revision 195"} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not name %q", err, want)
				}
			}
			var gap *fault.Gap
			if !errors.As(err, &gap) || gap.SafeRevision != 195 {
				t.Errorf("error %v is not a gap with safe revision 195", err)
			}
			assertNoLeftovers(t, dataDir)
			res, err := restoreFrom(t, "file://"+dir, 195, restore.Config{DataDir: dataDir})
			if err != nil || res.Revision != 195 {
				t.Fatalf("restore of the safe revision 195: %+v, %v", res, err)
			}
		})
	}
}

// A 1 MiB gzip delta that inflates to 1 GiB is refused after a few MiB with the heap bounded, the restore failing
// as a corrupt object (before: the delta was inflated into memory whole, GiBs of heap).
func TestRestoreDecompressionBomb(t *testing.T) {
	dir := testenv.CopyStore(t, fixture.StoreBRv1)
	key := "v1/Backup-1763900840/Incr-00000196-00000196-1763900960.gz"
	restoretest.WriteBomb(t, filepath.Join(dir, filepath.FromSlash(key)), 196, 1<<30)
	dataDir := filepath.Join(t.TempDir(), "etcd")
	var err error
	start := time.Now()
	peak, alloc := restoretest.PeakHeap(func() {
		_, err = restoreFrom(t, "file://"+dir, 0, restore.Config{DataDir: dataDir})
	})
	t.Logf("restore with a 1 GiB bomb: %v, heap in use grew at most %d MiB, %d MiB allocated in all: %v", time.Since(start).Round(time.Millisecond), peak>>20, alloc>>20, err)
	var corrupt *fault.Corrupt
	if !errors.As(err, &corrupt) || corrupt.Object != key || !errors.Is(err, fault.ErrProblems) || !errors.Is(err, format.ErrTooBig) {
		t.Fatalf("restore: %v, want a corrupt object %s (exit-3 problems) wrapping format.ErrTooBig", err, key)
	}
	if peak > 64<<20 {
		t.Errorf("heap in use grew by %d MiB, want < 64 MiB", peak>>20)
	}
	if alloc > 256<<20 {
		t.Errorf("%d MiB allocated, want < 256 MiB (the bomb must not be inflated to the end)", alloc>>20)
	}
	assertNoLeftovers(t, dataDir)
}

func writeFile(p string, b []byte) error { return os.WriteFile(p, b, 0o644) }
