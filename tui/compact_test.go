package tui

import (
	"context"
	"strings"
	"testing"

	"github.com/etcd-dr/etcd-dr/store"
	compactpage "github.com/etcd-dr/etcd-dr/tui/pages/compact"
)

// fullsAt lists the store's full snapshots holding revision rev (what a compaction to rev writes).
func fullsAt(t *testing.T, url string, rev string) []string {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	objs, err := st.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, o := range objs {
		if strings.Contains(o.Key, "Full-00000000-"+rev+"-") {
			out = append(out, o.Key)
		}
	}
	return out
}

// The Compact wizard writes to the store only after the cluster's name is typed: a wrong word keeps the dialog
// and writes nothing, esc goes back; the right word folds the chain into a new full snapshot.
func TestCompactWizard(t *testing.T) {
	url := memStore(t, "etcdbr-v2", "cp-v2")
	m := newModel(t, false, url)
	start(m, 80, 24)
	drive(m, keys("enter", "G", "C")...)
	p := topIs[*compactpage.Page](t, m)
	word := p.Word()
	if word != "cp-v2" {
		t.Fatalf("confirmation word %q, want the store's name cp-v2", word)
	}
	mustContain(t, m, "up to revision 72", "Full-00000000-00000072-<now>", "nothing is deleted")
	if got := fullsAt(t, url, "00000072"); len(got) != 0 {
		t.Fatalf("fixture already holds %v", got)
	}
	drive(m, key("enter"))
	mustContain(t, m, "Type "+word+" to confirm")
	drive(m, typeText("cp-v3")...)
	drive(m, key("enter"))
	mustContain(t, m, "Type "+word+" to confirm")
	if got := fullsAt(t, url, "00000072"); len(got) != 0 {
		t.Fatalf("wrong word wrote %v", got)
	}
	drive(m, key("esc"))
	mustContain(t, m, "enter reviews")
	topIs[*compactpage.Page](t, m)

	drive(m, key("enter"))
	drive(m, typeText(word)...)
	drive(m, key("enter"))
	mustContain(t, m, "✓ Wrote", "revision 72")
	if got := fullsAt(t, url, "00000072"); len(got) != 1 {
		t.Fatalf("after the confirmed compaction the store holds %v full snapshots at 72, want 1", got)
	}
}
