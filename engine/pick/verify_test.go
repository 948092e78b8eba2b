package pick_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/etcd-dr/etcd-dr/engine/catalog"
	"github.com/etcd-dr/etcd-dr/engine/pick"
	"github.com/etcd-dr/etcd-dr/engine/snapinfo"
	"github.com/etcd-dr/etcd-dr/internal/fixture"
	"github.com/etcd-dr/etcd-dr/internal/testenv"
)

// A full snapshot named for the highest revision but holding revision 185 is refused, with why, and the next
// chain is picked (before: the liar was picked as the newest restorable point).
func TestPickRefusesALyingName(t *testing.T) {
	ctx := context.Background()
	dir := testenv.CopyStore(t, fixture.StoreBRv1)
	liar := "v1/Backup-1763909999/Full-00000000-9223372036854775807-1763909999.zlib"
	b, err := os.ReadFile(filepath.Join(dir, "v1", "Backup-1763900840", "Full-00000000-00000185-1763900840.zlib"))
	if err != nil {
		t.Fatal(err)
	}
	os.MkdirAll(filepath.Join(dir, "v1", "Backup-1763909999"), 0o755)
	if err := os.WriteFile(filepath.Join(dir, filepath.FromSlash(liar)), b, 0o644); err != nil {
		t.Fatal(err)
	}
	st, cat, err := catalog.Open(ctx, "file://"+dir)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	verify := func(s catalog.Snapshot) error {
		_, err := snapinfo.Verify(ctx, st, s, snapinfo.Options{TempDir: t.TempDir()})
		return err
	}
	for _, rev := range []int64{0, 9223372036854775807} {
		r, err := pick.Pick(cat, pick.Config{Revision: rev, Verify: verify})
		if rev != 0 {
			if err == nil || len(r.Refused) != 1 {
				t.Fatalf("pick of the lying revision: %+v, %v; want it refused", r, err)
			}
			continue
		}
		if err != nil {
			t.Fatalf("pick: %v", err)
		}
		if r.Revision != 195 || r.Chain.Base.EndRevision != 185 {
			t.Fatalf("picked revision %d of %s, want 195 of the Full-185 chain", r.Revision, r.Chain.Base.Key)
		}
		if len(r.Refused) != 1 || r.Refused[0].Key != liar || !strings.Contains(r.Refused[0].Why, "database is at revision 185") {
			t.Fatalf("refused %+v, want %s refused naming revision 185", r.Refused, liar)
		}
	}
	// Without verification (names trusted) the liar is what a name-only pick chooses: the defect this guards.
	r, err := pick.Pick(cat, pick.Config{})
	if err != nil || r.Chain.Base.Key != liar {
		t.Fatalf("name-only pick: %+v, %v", r, err)
	}
	// A store failure while verifying fails the pick instead of refusing the chain.
	_, err = pick.Pick(cat, pick.Config{Verify: func(catalog.Snapshot) error { return errors.New("store down") }})
	if err == nil || !strings.Contains(err.Error(), "store down") {
		t.Fatalf("pick with a failing store: %v", err)
	}
}
