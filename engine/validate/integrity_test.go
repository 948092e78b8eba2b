package validate_test

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/etcd-dr/etcd-dr/engine/format"
	"github.com/etcd-dr/etcd-dr/engine/restore/restoretest"
	"github.com/etcd-dr/etcd-dr/internal/fixture"
	"github.com/etcd-dr/etcd-dr/internal/testenv"
)

// An empty last delta is the gap restore refuses: validate names the object and the same safe revision (one rule).
func TestBackupsEmptyLastDelta(t *testing.T) {
	const empty = "v1/Backup-1763900840/Incr-00000196-00000205-1763900960"
	for name, write := range map[string]func(t *testing.T, p string) string{
		"zero bytes": func(t *testing.T, p string) string { write(t, p, nil); return empty },
		"gzip of []": func(t *testing.T, p string) string {
			restoretest.WriteDelta(t, p+".gz", format.Gzip, []byte("[]"))
			return empty + ".gz"
		},
	} {
		t.Run(name, func(t *testing.T) {
			dir := testenv.CopyStore(t, fixture.StoreBRv1)
			key := write(t, filepath.Join(dir, filepath.FromSlash(empty)))
			rep := validateStore(t, dir)
			if rep.OK || len(rep.Problems) != 1 {
				t.Fatalf("ok=%v problems %+v, want the one empty delta", rep.OK, rep.Problems)
			}
			p := rep.Problems[0]
			if p.Object != key || !strings.Contains(p.What, "is empty") || !strings.Contains(p.What, "restores only up to revision 195") {
				t.Fatalf("problem %+v, want %s named empty, restorable up to 195", p, key)
			}
		})
	}
}

// A 1 GiB decompression bomb is a problem found after a few MiB, with the heap bounded (before: inflated whole).
func TestBackupsDecompressionBomb(t *testing.T) {
	dir := testenv.CopyStore(t, fixture.StoreBRv1)
	key := "v1/Backup-1763900840/Incr-00000196-00000196-1763900960.gz"
	restoretest.WriteBomb(t, filepath.Join(dir, filepath.FromSlash(key)), 196, 1<<30)
	start := time.Now()
	var problems []string
	peak, alloc := restoretest.PeakHeap(func() {
		for _, p := range validateStore(t, dir).Problems {
			if p.Object == key {
				problems = append(problems, p.What)
			}
		}
	})
	t.Logf("validate with a 1 GiB bomb: %v, heap in use grew at most %d MiB, %d MiB allocated: %v", time.Since(start).Round(time.Millisecond), peak>>20, alloc>>20, problems)
	if len(problems) != 1 || !strings.Contains(problems[0], "larger than its events can be") {
		t.Fatalf("problems of %s: %v, want it refused as too big", key, problems)
	}
	if peak > 64<<20 {
		t.Errorf("heap in use grew by %d MiB, want < 64 MiB", peak>>20)
	}
	if alloc > 256<<20 {
		t.Errorf("%d MiB allocated, want < 256 MiB", alloc>>20)
	}
}
