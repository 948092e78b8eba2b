package tui

import (
	"fmt"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/etcd-dr/etcd-dr/engine/catalog"
	"github.com/etcd-dr/etcd-dr/store"
	"github.com/etcd-dr/etcd-dr/tui/common"
)

// bigCatalog is 100 chains of one full snapshot and 99 deltas (10 000 objects), every tenth chain with a gap.
func bigCatalog() *catalog.Catalog {
	var objs []store.Object
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	rev := int64(1000)
	for c := 0; c < 100; c++ {
		ts := t0.Add(time.Duration(c) * time.Hour)
		objs = append(objs, store.Object{Key: fmt.Sprintf("v2/Full-00000000-%08d-%d.gz", rev, ts.Unix()), Size: 1 << 30})
		for d := 0; d < 99; d++ {
			start := rev + 1
			if c%10 == 0 && d == 50 {
				start += 5 // a gap
			}
			end := rev + 100
			objs = append(objs, store.Object{Key: fmt.Sprintf("v2/Incr-%08d-%08d-%d.gz", start, end, ts.Add(time.Duration(d+1)*time.Minute).Unix()), Size: 4 << 20})
			rev = end
		}
		rev += 10
	}
	return catalog.Build("mem://bench", objs)
}

// BenchmarkCatalogView renders one full frame (title, catalog tree, footer) at 80x24 of a store with 10 000
// objects, the cursor in the middle. Goal: well under 16 ms.
func BenchmarkCatalogView(b *testing.B) { benchCatalogView(b, 80, 24) }

// BenchmarkCatalogViewTable is the same frame at 160x45, where the catalog is a bubbles table.
func BenchmarkCatalogViewTable(b *testing.B) { benchCatalogView(b, 160, 45) }

func benchCatalogView(b *testing.B, w, h int) {
	cat := bigCatalog()
	n := 0
	for _, ch := range cat.Chains {
		n += len(ch.Objects())
	}
	if n != 10000 {
		b.Fatalf("%d objects", n)
	}
	m := newModel(b, true)
	src := &common.Source{URL: cat.Store, Catalog: cat}
	m.sources = []*common.Source{src}
	drive(m, tea.WindowSizeMsg{Width: w, Height: h})
	m.c.Push(opener{m}.Catalog(src))
	m.navigate()
	drive(m, key("pgdown"))
	for i := 0; i < 250*24/h; i++ {
		drive(m, key("pgdown"))
	}
	if s := screen(m); !strings.Contains(s, "delta") || !strings.Contains(s, "of 10110") {
		b.Fatalf("not the middle of the catalog:\n%s", s)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		_ = m.View()
	}
}

// BenchmarkCatalogFilter types one filter character on 10 000 objects (rebuild plus a frame).
func BenchmarkCatalogFilter(b *testing.B) {
	cat := bigCatalog()
	m := newModel(b, true)
	src := &common.Source{URL: cat.Store, Catalog: cat}
	m.sources = []*common.Source{src}
	drive(m, tea.WindowSizeMsg{Width: 80, Height: 24})
	m.c.Push(opener{m}.Catalog(src))
	m.navigate()
	drive(m, key("/"))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		drive(m, key("7"))
		_ = m.View()
		drive(m, key("backspace"))
	}
}
