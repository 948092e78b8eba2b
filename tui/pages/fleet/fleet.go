// Package fleet is the Fleet screen of a store root that holds several clusters (a Gardener seed bucket: one
// folder per shoot etcd): one row per cluster with its layout, newest restorable revision, the age of its newest
// backup (in the danger style past --max-age), gaps, problems and backup leader, worst first, with a / filter;
// enter opens that cluster's catalog. The judging is the engine's (engine.Health); this page only draws it.
package fleet

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"time"

	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"

	"github.com/etcd-dr/etcd-dr/engine"
	"github.com/etcd-dr/etcd-dr/tui/common"
	"github.com/etcd-dr/etcd-dr/tui/components/filter"
	"github.com/etcd-dr/etcd-dr/tui/components/list"
	"github.com/etcd-dr/etcd-dr/tui/keymap"
)

// Opener builds the page a fleet row opens (the root wires it).
type Opener interface {
	ClusterCatalog(root *common.Source, cluster string) common.Page
}

// Page is the Fleet screen of one store root.
type Page struct {
	c    *common.Common
	src  *common.Source
	open Opener
	id   int64 // answers of an older read (or of a page left) are dropped

	health  []engine.ClusterHealth // worst first, as the engine sorts them
	lowered []string               // per row: the lower-case text the filter searches, made once per read
	shown   []int                  // rows that pass the filter, in order
	longest int                    // the widest cluster name, in cells
	reading bool
	readErr error
	read    time.Time
	repo    *engine.Repo // the Repo health was read from

	list   list.Model
	filter filter.Model
	w, h   int
}

var ids atomic.Int64

// healthMsg carries one read of every cluster's health.
type healthMsg struct {
	id     int64
	repo   *engine.Repo
	health []engine.ClusterHealth
	err    error
}

// New builds the Fleet page of src (a read store root).
func New(c *common.Common, src *common.Source, open Opener) *Page {
	p := &Page{c: c, src: src, open: open, id: ids.Add(1)}
	p.filter = filter.New("filter by cluster, layout or leader")
	return p
}

func (p *Page) Init() tea.Cmd   { return p.readCmd() }
func (p *Page) Title() string   { return "Fleet" }
func (p *Page) Capturing() bool { return p.filter.Typing() }
func (p *Page) Busy() bool      { return false }

// Waiting is true while every cluster's health is being read (the root spins the spinner).
func (p *Page) Waiting() bool { return p.reading }

// LiveSources is the store root: the root reads it again every --refresh while this page is on top.
func (p *Page) LiveSources() []*common.Source { return []*common.Source{p.src} }

func (p *Page) Bindings() []keymap.Binding {
	k := p.c.Keys
	if p.filter.Typing() {
		return []keymap.Binding{{Keys: []string{"enter"}, Desc: "keep the filter"}, {Keys: []string{"esc"}, Desc: "clear it"}}
	}
	return []keymap.Binding{{Keys: k.Enter.Keys, Desc: "open the cluster's catalog", Short: "catalog"}, k.Filter, k.Reload, {Keys: []string{"esc"}, Desc: "back"}}
}

func (p *Page) SetSize(w, h int) {
	p.w, p.h = w, h
	p.list.SetHeight(max(h-4, 1))
}

// readCmd judges every cluster of the source's current Repo off the UI goroutine (it reads heartbeats).
func (p *Page) readCmd() tea.Cmd {
	repo := p.src.Repo
	if repo == nil {
		return nil
	}
	p.reading = true
	id, ctx, now, maxAge := p.id, p.c.Ctx, p.c.Now(), p.c.MaxAge
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(ctx, common.LoadTimeout)
		defer cancel()
		health, _, _ := repo.Health(ctx, now, maxAge)
		return healthMsg{id: id, repo: repo, health: health, err: ctx.Err()}
	}
}

func (p *Page) Update(msg tea.Msg) (common.Page, tea.Cmd) {
	switch msg := msg.(type) {
	case common.SourceLoadedMsg:
		if msg.Index == p.src.Index && p.src.Repo != nil && p.src.Repo != p.repo {
			return p, p.readCmd()
		}
	case healthMsg:
		if msg.id == p.id {
			p.reading = false
			p.setHealth(msg.repo, msg.health, msg.err)
		}
	case tea.KeyPressMsg:
		if !p.filter.Typing() {
			return p, p.updateKeys(msg)
		}
	}
	p.filter.Update(msg, p.applyFilter, &p.list)
	return p, nil
}

// setHealth shows a new read, keeping the cursor on the cluster it was on.
func (p *Page) setHealth(repo *engine.Repo, health []engine.ClusterHealth, err error) {
	keep := p.selected()
	p.repo, p.readErr, p.read = repo, err, p.c.Now()
	if err != nil && len(health) == 0 {
		return // keep the last good rows; the header says the read failed
	}
	p.health = health
	p.lowered = make([]string, len(health))
	p.longest = len("(store root)")
	for i, h := range health {
		p.lowered[i] = strings.ToLower(h.Cluster + " " + h.Layout + " " + h.Leader)
		p.longest = max(p.longest, lipgloss.Width(common.Safe(h.Cluster)))
	}
	p.applyFilter()
	if keep != nil {
		for i, r := range p.shown {
			if p.health[r].Cluster == keep.Cluster {
				p.list.Select(i)
			}
		}
	}
}

func (p *Page) applyFilter() {
	q := p.filter.Query()
	p.shown = p.shown[:0]
	for i := range p.health {
		if q == "" || strings.Contains(p.lowered[i], q) {
			p.shown = append(p.shown, i)
		}
	}
	p.list.SetLen(len(p.shown))
}

func (p *Page) selected() *engine.ClusterHealth {
	if len(p.shown) == 0 {
		return nil
	}
	return &p.health[p.shown[p.list.Cursor()]]
}

func (p *Page) updateKeys(msg tea.KeyPressMsg) tea.Cmd {
	k := p.c.Keys
	if p.list.Update(msg, k) {
		return nil
	}
	switch {
	case k.Back.Matches(msg):
		if p.filter.Clear() {
			p.applyFilter()
			return nil
		}
		p.id = ids.Add(1) // answers still on their way are for a page that is gone
		return p.c.Pop()
	case k.Filter.Matches(msg):
		p.filter.Start()
	case k.Reload.Matches(msg):
		return p.src.Reload(p.c.Ctx, p.c.Decrypt)
	case k.Enter.Matches(msg):
		if h := p.selected(); h != nil {
			return p.c.Push(p.open.ClusterCatalog(p.src, h.Cluster))
		}
	}
	return nil
}

// Column widths; the cluster name takes what is left.
const (
	colLayout = 10
	colRev    = 10
	colAge    = 9
	colGaps   = 4
	colProbs  = 5
	colLeader = 10
	fixed     = 2 + 1 + colLayout + 1 + colRev + 1 + colAge + 1 + colGaps + 1 + colProbs + 1 + colLeader
)

// nameWidth fits the longest cluster name when there is room; the leader column takes what is left.
func (p *Page) nameWidth() int { return min(max(p.w-fixed, 12), max(p.longest, len("CLUSTER")), 64) }

// View renders the summary, the header, the visible rows only (a fleet of 1 000 clusters costs one screenful)
// and the status line. It changes nothing.
func (p *Page) View() string {
	st := p.c.Styles
	var b strings.Builder
	b.WriteString(common.Trunc(p.summary(), p.w))
	b.WriteByte('\n')
	nw := p.nameWidth()
	hdr := "  " + common.Pad("CLUSTER", nw) + " " + common.Pad("LAYOUT", colLayout) + " " + common.PadLeft("RESTORABLE", colRev) + " " +
		common.PadLeft("NEWEST", colAge) + " " + common.PadLeft("GAPS", colGaps) + " " + common.PadLeft("PROBS", colProbs) + " " + "LEADER"
	b.WriteString(st.Header.Render(common.Trunc(hdr, p.w)))
	b.WriteByte('\n')
	switch {
	case len(p.shown) == 0:
		msg := "No cluster in this store."
		switch {
		case p.health == nil && (p.reading || p.src.Loading):
			msg = p.c.Spinner() + " Reading every cluster's backups and heartbeats…"
		case p.filter.Query() != "":
			msg = "No cluster matches the filter (esc clears it)."
		case p.readErr != nil:
			msg = "Cannot read the clusters: " + common.Safe(p.readErr.Error()) + " (r retries)"
		}
		b.WriteString(common.Fit(st.Muted.Render(msg), p.w, p.list.Height()))
	default:
		b.WriteString(p.list.View(func(i int, sel bool) string { return p.row(&p.health[p.shown[i]], sel, nw) }))
	}
	b.WriteByte('\n')
	b.WriteString(p.status())
	return b.String()
}

// summary is the first line: the filter while it is used, else how many clusters are in trouble, and the store.
func (p *Page) summary() string {
	st := p.c.Styles
	if p.filter.Shown() {
		return p.filter.View(st, 2, max(p.w-14, 10)) + st.Muted.Render(fmt.Sprintf("  %d of %d", len(p.shown), len(p.health)))
	}
	var old, gaps, probs int
	for _, h := range p.health {
		if h.TooOld {
			old++
		}
		if h.Gaps > 0 {
			gaps++
		}
		if h.Problems > 0 {
			probs++
		}
	}
	s := st.Value.Render(fmt.Sprintf("%d clusters", len(p.health)))
	if p.c.MaxAge > 0 {
		part := fmt.Sprintf(" · %d older than %s", old, days(p.c.MaxAge))
		if old > 0 {
			s += st.Danger.Render(part)
		} else {
			s += st.Muted.Render(part)
		}
	}
	if gaps > 0 {
		s += st.Danger.Render(fmt.Sprintf(" · %d with gaps", gaps))
	}
	if probs > 0 {
		s += st.Warn.Render(fmt.Sprintf(" · %d with problems", probs))
	}
	if p.readErr != nil && len(p.health) > 0 {
		s += st.Danger.Render(" · last read failed")
	}
	if p.src.Loading || p.reading {
		s += st.Muted.Render(" · ") + p.c.Spinner() + st.Muted.Render(" reading…")
	}
	return s + st.Muted.Render(" · in "+common.Safe(p.src.URL)) // last: a long URL is what gets cut
}

// days writes a maximum age as people say it: 30d, 36h, 90m.
func days(d time.Duration) string {
	switch {
	case d >= 24*time.Hour && d%(24*time.Hour) == 0:
		return fmt.Sprintf("%dd", d/(24*time.Hour))
	case d >= time.Hour && d%time.Hour == 0:
		return fmt.Sprintf("%dh", d/time.Hour)
	case d >= time.Minute && d%time.Minute == 0:
		return fmt.Sprintf("%dm", d/time.Minute)
	}
	return d.String()
}

func (p *Page) row(h *engine.ClusterHealth, sel bool, nw int) string {
	st := p.c.Styles
	mark := "  "
	if sel {
		mark = "▸ "
	}
	name := h.Cluster
	if name == "" {
		name = "(store root)"
	}
	rev := "-"
	if h.RestorableRevision > 0 {
		rev = fmt.Sprint(h.RestorableRevision)
	}
	switch { // the newest backup's revision is read when picked: what is known is a lower bound
	case h.RevisionOnDemand && h.RestorableRevision == 0:
		rev = "on demand"
	case h.RevisionOnDemand:
		rev += "+"
	}
	age := "never"
	if !h.LastBackup.IsZero() {
		age = common.Ago(h.LastBackup, p.c.Now())
	}
	leader := h.Leader
	if leader == "" {
		leader = "-"
	}
	head := mark + common.Pad(common.TruncLeft(common.Safe(name), nw), nw) // the tail tells etcd-main from etcd-events
	cells := []string{
		common.Pad(common.Safe(h.Layout), colLayout),
		common.PadLeft(rev, colRev),
		p.mark(common.PadLeft(age, colAge), h.TooOld, false),
		p.mark(common.PadLeft(fmt.Sprint(h.Gaps), colGaps), h.Gaps > 0, false),
		p.mark(common.PadLeft(fmt.Sprint(h.Problems), colProbs), false, h.Problems > 0),
		common.Trunc(common.Safe(leader), max(p.w-fixed-nw+colLeader, 1)),
	}
	if sel {
		head = st.Selected.Render(head)
	}
	return common.Trunc(head+" "+strings.Join(cells, " "), p.w)
}

// mark styles a cell: danger for what is lost or late, warn for what could not be used.
func (p *Page) mark(cell string, danger, warn bool) string {
	switch {
	case danger:
		return p.c.Styles.Danger.Render(cell)
	case warn:
		return p.c.Styles.Warn.Render(cell)
	}
	return cell
}

// status is the line under the list: the selected cluster's folder, what is wrong with it, and the position.
func (p *Page) status() string {
	st := p.c.Styles
	h := p.selected()
	if h == nil {
		return ""
	}
	what := "cluster " + common.Safe(h.Cluster)
	if h.Cluster == "" {
		what = "backups at the store root"
	}
	what += fmt.Sprintf(" · %d chains", h.Chains)
	if !h.LastBackup.IsZero() {
		what += " · newest " + common.Stamp(h.LastBackup)
	}
	if h.TooOld {
		what += " · TOO OLD"
	}
	if pos := p.list.Scrollbar(); pos != "" {
		what = common.Pad(what, max(p.w-len(pos)-1, 0)) + " " + pos
	}
	return st.Muted.Render(common.Trunc(what, p.w))
}
