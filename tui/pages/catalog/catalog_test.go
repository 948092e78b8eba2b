package catalog

import (
	"context"
	"fmt"
	"path"
	"strings"
	"testing"
	"time"

	"github.com/etcd-dr/etcd-dr/engine"
	"github.com/etcd-dr/etcd-dr/internal/fixture"
	"github.com/etcd-dr/etcd-dr/internal/testenv"
	"github.com/etcd-dr/etcd-dr/store"
	"github.com/etcd-dr/etcd-dr/tui/common"
	"github.com/etcd-dr/etcd-dr/tui/keymap"
	"github.com/etcd-dr/etcd-dr/tui/styles"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// pickFrom drives the catalog page's pick of one object row to its end: the command pickAt returns, run here.
func pickFrom(t *testing.T, p *Page, object string) pickedMsg {
	t.Helper()
	for i, r := range p.rows {
		if r.kind == objectRow && path.Base(r.snap.Key) == object {
			cmd := p.pickAt(&p.rows[i], nextDownload)
			if cmd == nil {
				t.Fatalf("no pick started: %s", p.flash)
			}
			return cmd().(pickedMsg)
		}
	}
	t.Fatalf("row %s not found", object)
	return pickedMsg{}
}

// memStore opens a mem:// store for the test; put fills it.
func memStore(t *testing.T, url string) *store.Store {
	t.Helper()
	st, err := store.Open(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// put commits body at key in st.
func put(t *testing.T, st *store.Store, key string, body []byte) {
	t.Helper()
	w, err := st.NewWriter(context.Background(), key, store.WriteOptions{})
	if err != nil {
		t.Fatal(err)
	}
	w.Write(body)
	if err := w.Commit(); err != nil {
		t.Fatal(err)
	}
}

// snapshotAt writes keys to a real etcd until its revision is rev, and returns its snapshot there.
func snapshotAt(t *testing.T, cli *clientv3.Client, rev int64) []byte {
	t.Helper()
	ctx := context.Background()
	for {
		now, err := fixture.Revision(ctx, cli)
		if err != nil {
			t.Fatal(err)
		}
		if now >= rev {
			break
		}
		if _, err := cli.Put(ctx, fmt.Sprintf("k%d", now), "v"); err != nil {
			t.Fatal(err)
		}
	}
	db, got, err := fixture.FullSnapshot(ctx, cli)
	if err != nil || got != rev {
		t.Fatalf("snapshot at %d: revision %d, %v", rev, got, err)
	}
	return db
}

func openPage(t *testing.T, url string) *Page {
	t.Helper()
	ctx := context.Background()
	repo, err := engine.Open(ctx, url, engine.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { repo.Close() })
	c := &common.Common{Styles: styles.New(true), Keys: keymap.Default(), Now: time.Now, Ctx: ctx}
	p := New(c, &common.Source{URL: url, Repo: repo, Catalog: repo.Catalog()}, nil)
	p.SetSize(80, 22)
	return p
}

// Two chains (two etcd-backup-restore v1 folders of real etcd snapshots) both hold revision 200; the one selected
// is the one picked.
func TestPickAtUsesTheSelectedChain(t *testing.T) {
	const url = "mem://pick-at-two-chains"
	st := memStore(t, url)
	_, cli := testenv.StartEmbedded(t)
	put(t, st, "v1/Backup-1000/Full-00000000-00000100-1000", snapshotAt(t, cli, 100))
	put(t, st, "v1/Backup-1200/Full-00000000-00000150-1200", snapshotAt(t, cli, 150))
	put(t, st, "v1/Backup-1000/Incr-00000101-00000200-1100.gz", make([]byte, 10))
	put(t, st, "v1/Backup-1200/Incr-00000151-00000250-1300.gz", make([]byte, 10))

	got := pickFrom(t, openPage(t, url), "Incr-00000101-00000200-1100.gz")
	if got.err != nil {
		t.Fatal(got.err)
	}
	if got.res.Revision != 200 || path.Base(got.res.Chain.Base.Key) != "Full-00000000-00000100-1000" {
		t.Fatalf("picked revision %d of chain %s", got.res.Revision, got.res.Chain.Base.Key)
	}
}

// The console's pick from a catalog row follows the engine's pick rules: a base that is not the snapshot its name
// says is refused, naming it, before a download or restore page opens.
func TestPickAtChecksTheBase(t *testing.T) {
	const url = "mem://pick-at-bad-base"
	st := memStore(t, url)
	put(t, st, "v1/Backup-1000/Full-00000000-00000100-1000", make([]byte, 4096))
	put(t, st, "v1/Backup-1000/Incr-00000101-00000200-1100.gz", make([]byte, 10))

	got := pickFrom(t, openPage(t, url), "Incr-00000101-00000200-1100.gz")
	if got.err == nil || !strings.Contains(got.err.Error(), "Full-00000000-00000100-1000") {
		t.Fatalf("a base of zeros was picked: %v", got.err)
	}
}
