package catalog

import (
	"fmt"
	"strings"

	"charm.land/bubbles/v2/table"
	"charm.land/lipgloss/v2"

	"github.com/etcd-dr/etcd-dr/engine/catalog"
	"github.com/etcd-dr/etcd-dr/tui/common"
)

// TableWidth is the width from which the catalog is a bubbles table (a column each for the layout, the kind,
// revisions, size, time and compression) instead of the tree's packed lines. The rows are the tree's, in the
// same order with the same folds and filter, so keys and the cursor work alike; only the drawing differs.
const TableWidth = 120

// wide reports whether the catalog is drawn as a table.
func (p *Page) wide() bool { return p.w >= TableWidth }

// Table columns, in cells (the name takes what is left).
const (
	tcTree   = 3
	tcKind   = 6
	tcRevs   = 13
	tcSize   = 9
	tcTime   = 17
	tcComp   = 9
	tcLayout = 12
)

// tableView draws the visible rows as a table. A table of the visible window only is built for each frame, so
// a frame costs the same at 10 000 rows as at 10.
func (p *Page) tableView() string {
	st := p.c.Styles
	fixed := []int{tcTree, tcKind, tcRevs, tcSize, tcTime, tcComp, tcLayout}
	nameW := p.w
	for _, w := range fixed {
		nameW -= w + 1
	}
	// Each column is one cell wider than its text: the gap is part of the cell, so that the selected row's
	// highlight runs through the gaps (the table's Selected style would cost a second render per frame).
	widths := append(fixed, max(nameW-1, 10))
	titles := []string{"", "KIND", "REVISIONS", "SIZE", "TAKEN (UTC)", "COMP", "LAYOUT", "NAME"}
	cols := make([]table.Column, len(widths))
	for i, w := range widths {
		cols[i] = table.Column{Title: titles[i], Width: w + 1}
	}
	from, to := p.list.Visible()
	rows := make([]table.Row, 0, to-from)
	for i := from; i < to; i++ {
		rows = append(rows, p.tableRow(&p.rows[i], i == p.list.Cursor(), widths))
	}
	// One render: options only (each setter renders every row again).
	t := table.New(table.WithColumns(cols), table.WithRows(rows), table.WithHeight(p.list.Height()+1), table.WithWidth(p.w),
		table.WithStyles(table.Styles{Header: st.Header, Cell: lipgloss.NewStyle(), Selected: lipgloss.NewStyle()}))
	return t.View()
}

// tableRow is one tree row as table cells (each cut to its width and followed by its gap), styled like the
// tree's line, or as selected across the whole width.
func (p *Page) tableRow(r *row, sel bool, widths []int) table.Row {
	st := p.c.Styles
	style := lipgloss.NewStyle()
	var cells table.Row
	branch := "├─"
	if r.last {
		branch = "└─"
	}
	switch r.kind {
	case chainRow:
		ch := &p.cat.Chains[r.chain]
		cells = p.chainCells(r.chain)
		if len(ch.Gaps) > 0 || len(ch.Problems) > 0 {
			style = st.Danger
		} else {
			style = st.Value
		}
	case objectRow:
		cells = p.objectCells(r.snap, branch)
	case gapRow:
		cells, style = table.Row{branch, "✗ gap", fmt.Sprintf("%d-%d", r.gap.From, r.gap.To), "", "", "", "", gapText(r.gap, &p.cat.Chains[r.chain])}, st.Danger
	case problemRow:
		cells, style = table.Row{branch, "✗", "", "", "", "", "", r.text}, st.Danger
	case noteRow:
		cells, style = table.Row{branch, "i", "", "", "", "", "", r.text}, st.Muted
	case warnRow:
		cells, style = table.Row{branch, "⚠", "", "", "", "", "", r.text}, st.Warn
	case companionRow:
		cells, style = table.Row{branch, "+ with", "", "", "", "", "", companionName(r.text, p.cat.Chains[r.chain].Base.Key) + "  (its tool's companion file: downloaded and copied with it)"}, st.Muted
	case strayHead:
		cells, style = table.Row{"✗", "", "", "", "", "", "", r.text + " (not part of any chain)"}, st.Danger
	case strayRow:
		cells, style = table.Row{branch, "", "", "", "", "", "", r.text}, st.Danger
	}
	if sel {
		style = st.Selected
	}
	for i, c := range cells {
		if sel {
			cells[i] = style.Render(common.Pad(common.Trunc(c, widths[i]), widths[i]+1))
		} else if c != "" {
			cells[i] = style.Render(common.Trunc(c, widths[i])) + " "
		}
	}
	return cells
}

// chainCells is a chain's header: fold mark, its revisions, size and layout in their columns, and in the name
// column what the tree's line says after them.
func (p *Page) chainCells(ci int) table.Row {
	ch := &p.cat.Chains[ci]
	fold := "▾"
	if p.folded[ci] {
		fold = "▸"
	}
	var size int64
	for _, s := range ch.Objects() {
		size += s.Size
	}
	revs := fmt.Sprintf("%d-%d", ch.Base.EndRevision, ch.EndRevision)
	what := fmt.Sprintf("restorable to %d", ch.RestorableRevision)
	if ch.Base.RevisionOnDemand {
		revs, what = "on demand", "revision read when picked"
		if rev, ok := p.read[ch.Base.Key]; ok {
			revs, what = fmt.Sprintf("@%d read", rev), fmt.Sprintf("restorable to %d (read at pick)", rev)
		}
	}
	if len(ch.Gaps) > 0 {
		what += " ✗ GAP"
	}
	parts := []string{what, common.Plural(1+len(ch.Deltas), "object", "objects")}
	if ch.Base.EtcdVersion != "" {
		parts = append(parts, "etcd "+ch.Base.EtcdVersion)
	}
	if ch.Base.Node != "" {
		parts = append(parts, "node "+common.Safe(ch.Base.Node))
	}
	if ch.Base.Encrypted {
		parts = append(parts, p.encrypted())
	}
	if n := len(ch.Base.Companions); n > 0 {
		parts = append(parts, common.Plural(n, "companion", "companions"))
	}
	if ch.Base.Warning != "" {
		parts = append(parts, "⚠")
	}
	parts = append(parts, common.BaseName(ch.Base.Key))
	return table.Row{fold, "chain", revs, common.PadLeft(common.Bytes(size), tcSize), common.Stamp(ch.Base.Time), "", string(ch.Layout), strings.Join(parts, " · ")}
}

// objectCells is one object's row.
func (p *Page) objectCells(s *catalog.Snapshot, branch string) table.Row {
	revs, comp := p.objectTexts(s)
	return table.Row{branch, string(s.Kind), revs, common.PadLeft(common.Bytes(s.Size), tcSize), common.Stamp(s.Time), comp, string(s.Layout), common.BaseName(s.Key)}
}
