package catalog

import (
	"context"
	"path"
	"testing"
	"time"

	"github.com/etcd-dr/etcd-dr/engine/catalog"
	"github.com/etcd-dr/etcd-dr/store"
	"github.com/etcd-dr/etcd-dr/tui/common"
	"github.com/etcd-dr/etcd-dr/tui/keymap"
	"github.com/etcd-dr/etcd-dr/tui/styles"
)

// Two chains (two etcd-backup-restore v1 folders) both hold revision 200; the one selected is the one picked.
func TestPickAtUsesTheSelectedChain(t *testing.T) {
	objs := []store.Object{
		{Key: "v1/Backup-1000/Full-00000000-00000100-1000.gz", Size: 10},
		{Key: "v1/Backup-1000/Incr-00000101-00000200-1100.gz", Size: 10},
		{Key: "v1/Backup-1200/Full-00000000-00000150-1200.gz", Size: 10},
		{Key: "v1/Backup-1200/Incr-00000151-00000250-1300.gz", Size: 10},
	}
	cat := catalog.Build("mem://two", objs)
	c := &common.Common{Styles: styles.New(true), Keys: keymap.Default(), Now: time.Now, Ctx: context.Background()}
	p := New(c, &common.Source{URL: "mem://two", Catalog: cat}, nil)
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
