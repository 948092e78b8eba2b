package catalog

import (
	"fmt"
	"sort"
	"strings"

	"github.com/etcd-dr/etcd-dr/engine/catalog"
	"github.com/etcd-dr/etcd-dr/tui/common"
)

type rowKind int

const (
	chainRow     rowKind = iota // a chain header
	objectRow                   // a full snapshot or delta
	gapRow                      // revisions no object holds
	problemRow                  // a chain problem other than a gap
	noteRow                     // something handled safely, worth knowing
	warnRow                     // what an SRE should know before using the snapshot (a dirty OpenShift one, an exclude mark)
	companionRow                // a file its tool keeps beside a snapshot (k3s .metadata, OpenShift static pod resources)
	strayHead                   // the header of objects the catalog could not use
	strayRow                    // one such object
)

// row is one line of the tree; it points into the catalog, nothing is copied.
type row struct {
	kind  rowKind
	chain int // index into chains (newest first)
	snap  *catalog.Snapshot
	gap   catalog.Gap
	text  string
	last  bool // last child of its chain (└ instead of ├)
}

// order returns the chain indexes of cat, newest (highest end revision) first.
func order(cat *catalog.Catalog) []int {
	idx := make([]int, len(cat.Chains))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool {
		ca, cb := &cat.Chains[idx[a]], &cat.Chains[idx[b]]
		if ca.EndRevision != cb.EndRevision {
			return ca.EndRevision > cb.EndRevision
		}
		return ca.Base.EndRevision > cb.Base.EndRevision
	})
	return idx
}

// buildRows lays the catalog out as a tree: per chain (newest first) a header, then its objects in apply order
// with gaps where they fall, then problems and notes; last the objects no chain could use. filter (lower case)
// keeps the objects, gaps and problems whose text holds it, with their chain header; folded chains show only
// their header.
func buildRows(cat *catalog.Catalog, chains []int, folded map[int]bool, filter string, lower func(string) string) []row {
	var rows []row
	match := func(s string) bool { return filter == "" || strings.Contains(lower(s), filter) }
	for _, ci := range chains {
		ch := &cat.Chains[ci]
		var kids []row
		kids = appendIf(kids, match(ch.Base.Key), row{kind: objectRow, chain: ci, snap: &ch.Base})
		for _, c := range ch.Base.Companions {
			kids = appendIf(kids, match(c), row{kind: companionRow, chain: ci, text: common.Safe(c)})
		}
		excluded := ""
		if ch.Base.Excluded != "" {
			excluded = "excluded, never picked: " + ch.Base.Excluded
		}
		for _, w := range []string{ch.Base.Warning, excluded} {
			if w != "" {
				kids = appendIf(kids, match(w), row{kind: warnRow, chain: ci, text: common.Safe(w)})
			}
		}
		gi := 0
		for di := range ch.Deltas {
			d := &ch.Deltas[di]
			for gi < len(ch.Gaps) && ch.Gaps[gi].To < d.StartRevision {
				g := ch.Gaps[gi]
				kids = appendIf(kids, match(gapText(g, ch)), row{kind: gapRow, chain: ci, gap: g})
				gi++
			}
			kids = appendIf(kids, match(d.Key), row{kind: objectRow, chain: ci, snap: d})
		}
		for ; gi < len(ch.Gaps); gi++ {
			kids = appendIf(kids, match(gapText(ch.Gaps[gi], ch)), row{kind: gapRow, chain: ci, gap: ch.Gaps[gi]})
		}
		for _, p := range ch.Problems {
			if strings.HasPrefix(p, "gap:") {
				continue // shown as gap rows in place
			}
			kids = appendIf(kids, match(p), row{kind: problemRow, chain: ci, text: p})
		}
		for _, n := range ch.Notes {
			kids = appendIf(kids, match(n), row{kind: noteRow, chain: ci, text: n})
		}
		if filter != "" && len(kids) == 0 && !match(chainTitle(ch)) {
			continue
		}
		rows = append(rows, row{kind: chainRow, chain: ci})
		if folded[ci] {
			continue
		}
		if len(kids) > 0 {
			kids[len(kids)-1].last = true
		}
		rows = append(rows, kids...)
	}
	var strays []row
	for i := range cat.Problems {
		p := &cat.Problems[i]
		strays = appendIf(strays, match(p.Object+" "+p.What), row{kind: strayRow, chain: -1, text: common.Safe(p.Object + ": " + p.What)})
	}
	if len(strays) > 0 {
		strays[len(strays)-1].last = true
		rows = append(rows, row{kind: strayHead, chain: -1, text: fmt.Sprintf("%d objects not used", len(strays))})
		rows = append(rows, strays...)
	}
	return rows
}

func appendIf(rows []row, ok bool, r row) []row {
	if ok {
		return append(rows, r)
	}
	return rows
}

func gapText(g catalog.Gap, ch *catalog.Chain) string {
	return fmt.Sprintf("GAP revisions %d-%d are in no object: the chain restores only to %d", g.From, g.To, ch.RestorableRevision)
}

func chainTitle(ch *catalog.Chain) string {
	return common.BaseName(ch.Base.Key) + " " + string(ch.Layout)
}
