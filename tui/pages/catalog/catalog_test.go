package catalog

import (
	"context"
	"path"
	"testing"
	"time"

	"github.com/etcd-dr/etcd-dr/engine"
	"github.com/etcd-dr/etcd-dr/store"
	"github.com/etcd-dr/etcd-dr/tui/common"
	"github.com/etcd-dr/etcd-dr/tui/keymap"
	"github.com/etcd-dr/etcd-dr/tui/styles"
)

// Two chains (two etcd-backup-restore v1 folders) both hold revision 200; the one selected is the one picked.
func TestPickAtUsesTheSelectedChain(t *testing.T) {
	ctx := context.Background()
	const url = "mem://pick-at-two-chains"
	st, err := store.Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	for _, key := range []string{
		"v1/Backup-1000/Full-00000000-00000100-1000.gz",
		"v1/Backup-1000/Incr-00000101-00000200-1100.gz",
		"v1/Backup-1200/Full-00000000-00000150-1200.gz",
		"v1/Backup-1200/Incr-00000151-00000250-1300.gz",
	} {
		w, err := st.NewWriter(ctx, key, store.WriteOptions{})
		if err != nil {
			t.Fatal(err)
		}
		w.Write(make([]byte, 10))
		if err := w.Commit(); err != nil {
			t.Fatal(err)
		}
	}
	repo, err := engine.Open(ctx, url, engine.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer repo.Close()
	c := &common.Common{Styles: styles.New(true), Keys: keymap.Default(), Now: time.Now, Ctx: ctx}
	p := New(c, &common.Source{URL: url, Repo: repo, Catalog: repo.Catalog()}, nil)
	p.SetSize(80, 22)
	for i, r := range p.rows {
		if r.kind != objectRow || path.Base(r.snap.Key) != "Incr-00000101-00000200-1100.gz" {
			continue
		}
		res, err := p.pickAt(&p.rows[i])
		if err != nil {
			t.Fatal(err)
		}
		if res.Revision != 200 || path.Base(res.Chain.Base.Key) != "Full-00000000-00000100-1000.gz" {
			t.Fatalf("picked revision %d of chain %s", res.Revision, res.Chain.Base.Key)
		}
		return
	}
	t.Fatal("row not found")
}
