// Package stores is the home screen: every --store with its layout, chain count, newest restorable revision
// and the age of its last backup; an unreachable store shows an error panel with what to do. The stores are
// read again every --refresh while it is shown, and r reads them all again; a store root that holds several
// clusters opens the Fleet screen instead of one catalog.
package stores

import (
	"fmt"
	"strings"

	tea "charm.land/bubbletea/v2"

	"github.com/etcd-dr/etcd-dr/engine"
	"github.com/etcd-dr/etcd-dr/tui/common"
	"github.com/etcd-dr/etcd-dr/tui/components/list"
	"github.com/etcd-dr/etcd-dr/tui/components/panel"
	"github.com/etcd-dr/etcd-dr/tui/components/textfield"
	"github.com/etcd-dr/etcd-dr/tui/keymap"
)

// Opener is common.Opener and the Fleet screen of a store of several clusters.
type Opener interface {
	common.Opener
	Fleet(src *common.Source) common.Page
}

// Page lists the stores.
type Page struct {
	c       *common.Common
	sources []*common.Source
	open    Opener
	list    list.Model
	// adding is true while the "add a store" field has focus.
	adding bool
	add    textfield.Model
	addErr string
	w, h   int
}

// AddStoreMsg asks the root to open one more store (typed on the Stores screen).
type AddStoreMsg struct{ URL string }

// New builds the Stores page over sources (shared with the root, which loads them).
func New(c *common.Common, sources []*common.Source, open Opener) *Page {
	p := &Page{c: c, sources: sources, open: open}
	p.list.SetLen(len(sources))
	p.add = textfield.New("store URL ", "file:///var/etcd-backup/v1/etcd-cluster or s3://bucket/prefix?endpoint=..")
	return p
}

// SetSources is called by the root after it added a store.
func (p *Page) SetSources(sources []*common.Source) {
	p.sources = sources
	p.list.SetLen(len(sources))
	p.list.SetHeight(p.listHeight())
	p.list.Select(len(sources) - 1)
}

func (p *Page) Init() tea.Cmd { return nil }

// LiveSources are every store shown: the root reads them again every --refresh while this page is on top.
func (p *Page) LiveSources() []*common.Source { return p.sources }
func (p *Page) Title() string                 { return "Stores" }
func (p *Page) Capturing() bool               { return p.adding }
func (p *Page) Busy() bool                    { return false }

func (p *Page) Bindings() []keymap.Binding {
	k := p.c.Keys
	if p.adding {
		return []keymap.Binding{{Keys: k.Enter.Keys, Desc: "open this store"}, {Keys: []string{"esc"}, Desc: "cancel"}}
	}
	if len(p.sources) == 0 {
		return []keymap.Binding{addKey}
	}
	return []keymap.Binding{{Keys: k.Enter.Keys, Desc: "open catalog"}, k.Pick, k.Members, reloadAll, addKey}
}

func (p *Page) SetSize(w, h int) {
	p.w, p.h = w, h
	p.list.SetHeight(p.listHeight())
}

// listHeight leaves room for the header line and the details box below.
func (p *Page) listHeight() int {
	return max(min(len(p.sources), p.h-10), 1)
}

// Selected is the store under the cursor, or nil.
func (p *Page) Selected() *common.Source {
	if len(p.sources) == 0 {
		return nil
	}
	return p.sources[p.list.Cursor()]
}

// reloadAll is r on this screen: every store is read again, not only the selected one.
var reloadAll = keymap.Binding{Keys: []string{"r"}, Desc: "read every store again", Short: "reload all"}

// addKey opens the "add a store" field.
var addKey = keymap.Binding{Keys: []string{"a"}, Desc: "add a store URL", Short: "add store"}

func (p *Page) Update(msg tea.Msg) (common.Page, tea.Cmd) {
	if p.adding {
		return p, p.updateAdd(msg)
	}
	key, ok := msg.(tea.KeyPressMsg)
	if !ok {
		return p, nil
	}
	k := p.c.Keys
	if addKey.Matches(key) {
		p.adding, p.addErr = true, ""
		p.add.SetValue("")
		p.add.Focus()
		return p, nil
	}
	if p.list.Update(key, k) {
		return p, nil
	}
	if k.Reload.Matches(key) {
		cmds := make([]tea.Cmd, 0, len(p.sources))
		for _, s := range p.sources {
			cmds = append(cmds, s.Reload(p.c.Ctx, p.c.Decrypt))
		}
		return p, tea.Batch(cmds...)
	}
	src := p.Selected()
	if src == nil {
		return p, nil
	}
	switch {
	case k.Enter.Matches(key):
		if isFleet(src) {
			return p, p.c.Push(p.open.Fleet(src))
		}
		if src.Catalog != nil {
			return p, p.c.Push(p.open.Catalog(src))
		}
	case k.Pick.Matches(key):
		if src.Catalog != nil {
			return p, p.c.Push(p.open.Pick(src))
		}
	case k.Members.Matches(key):
		if src.Catalog != nil {
			return p, p.c.Push(p.open.Members(src))
		}
	}
	return p, nil
}

// isFleet tells whether src is a store root that holds several clusters.
func isFleet(src *common.Source) bool {
	return src.Catalog != nil && len(src.Catalog.Clusters()) > 1
}

func (p *Page) updateAdd(msg tea.Msg) tea.Cmd {
	if key, ok := msg.(tea.KeyPressMsg); ok {
		switch key.String() {
		case "esc":
			p.adding = false
			p.add.Blur()
			return nil
		case "enter":
			url := strings.TrimSpace(p.add.Value())
			if err := engine.CheckURL(url); err != nil {
				p.addErr = common.Safe(err.Error())
				return nil
			}
			p.adding = false
			p.add.Blur()
			return func() tea.Msg { return AddStoreMsg{URL: url} }
		}
	}
	if p.add.Update(msg) {
		p.addErr = ""
	}
	return nil
}

const (
	colLayout = 16
	colChains = 6
	colRev    = 12
	colAge    = 11
)

func (p *Page) View() string {
	st := p.c.Styles
	if len(p.sources) == 0 {
		return panel.Box(st, min(p.w, 76), "No store given", []string{
			"Press a and type a store URL, or start etcd-dr with stores:",
			"",
			"  etcd-dr --store file:///var/etcd-backup/v1/etcd-cluster",
			"  etcd-dr --store s3://backups/etcd-main --store gs://dr/etcd",
			"",
			"or set ETCD_DR_STORE, or list URLs (one a line) in ~/.config/etcd-dr/stores.",
			"Press q to quit.",
		}) + p.addView()
	}
	urlW := max(p.w-colLayout-colChains-colRev-colAge-6, 12)
	var b strings.Builder
	b.WriteString(st.Header.Render(common.Pad("  STORE", urlW+2) + " " + common.Pad("LAYOUT", colLayout) + " " +
		common.PadLeft("CHAINS", colChains) + " " + common.PadLeft("RESTORABLE", colRev) + " " + common.PadLeft("LAST BACKUP", colAge)))
	b.WriteByte('\n')
	b.WriteString(p.list.View(func(i int, sel bool) string {
		return p.row(p.sources[i], sel, urlW)
	}))
	b.WriteString("\n")
	if p.adding {
		b.WriteString(p.addView())
		return b.String()
	}
	b.WriteString("\n")
	b.WriteString(p.details(p.Selected()))
	return b.String()
}

// addView is the "add a store" field with what is wrong with the URL typed.
func (p *Page) addView() string {
	if !p.adding {
		return ""
	}
	st := p.c.Styles
	out := "\n" + p.add.View(st, 10, p.w)
	if p.addErr != "" {
		for _, l := range common.Wrap("✗ "+p.addErr, p.w) {
			out += "\n" + st.Danger.Render(l)
		}
	} else {
		out += "\n" + st.Muted.Render("enter opens it · esc cancels")
	}
	return out
}

func (p *Page) row(src *common.Source, sel bool, urlW int) string {
	st := p.c.Styles
	mark := "  "
	if sel {
		mark = "▸ "
	}
	name := common.Pad(mark+common.TruncLeft(src.Shown(), urlW), urlW+2)
	var rest string
	switch {
	case src.Loading && src.Catalog == nil:
		rest = " " + p.c.Spinner() + st.Muted.Render(" loading…")
	case src.Err != nil:
		rest = " " + st.Danger.Render("✗ "+common.Reason(src.Err)+": see below")
	default:
		chains := len(src.Catalog.Chains)
		rev := "-"
		if r := src.Restorable(); r > 0 {
			rev = fmt.Sprint(r)
		}
		if src.HasGap() {
			rev = "⚠gap " + rev
		}
		if isFleet(src) { // revisions of different clusters are never compared: the Fleet screen shows each
			rev = "per cluster"
			if src.HasGap() {
				rev = "⚠gap"
			}
		}
		revS := common.PadLeft(rev, colRev)
		if src.HasGap() {
			revS = st.Danger.Render(revS)
		}
		layout := src.Layouts()
		if isFleet(src) {
			layout = fmt.Sprintf("%d clusters", len(src.Catalog.Clusters()))
		}
		rest = " " + common.Pad(layout, colLayout) + " " + common.PadLeft(fmt.Sprint(chains), colChains) + " " +
			revS + " " + common.PadLeft(common.Ago(src.LastBackup(), p.c.Now()), colAge)
	}
	if sel {
		return st.Selected.Render(name) + rest
	}
	return name + rest
}

// details is the box under the list about the selected store.
func (p *Page) details(src *common.Source) string {
	st := p.c.Styles
	w := min(p.w, 100)
	switch {
	case src.Loading && src.Catalog == nil:
		return panel.Box(st, w, "", []string{p.c.Spinner() + " Reading " + src.Shown() + " …", st.Muted.Render("esc/q leave at any time; the read stops after a timeout.")})
	case src.Err != nil:
		return panel.Error(st, w, "Cannot read "+src.Shown(), src.Err, append(common.Remedy(src.Err), "Press r to retry."))
	}
	cat := src.Catalog
	lines := []string{
		st.Label.Render("Layout      ") + src.Layouts() + fmt.Sprintf(" · %d chains · %d unused objects", len(cat.Chains), len(cat.Problems)),
	}
	if isFleet(src) {
		lines = append(lines, st.Label.Render("Clusters    ")+fmt.Sprintf("%d cluster folders, each restored on its own: enter opens the Fleet screen", len(cat.Clusters())))
	} else if n := newestRestorable(src); n != "" {
		lines = append(lines, st.Label.Render("Restorable  ")+n)
	} else {
		lines = append(lines, st.Danger.Render("No backups found: check that --store points at the folder that holds v1/ or v2/."))
	}
	if t := src.LastBackup(); !t.IsZero() {
		lines = append(lines, st.Label.Render("Last backup ")+common.Stamp(t)+" ("+common.Ago(t, p.c.Now())+")")
	}
	for _, ch := range cat.Chains {
		for _, g := range ch.Gaps {
			lines = append(lines, st.Danger.Render(fmt.Sprintf("✗ gap in chain %s: revisions %d-%d are in no object", common.BaseName(ch.Base.Key), g.From, g.To)))
		}
	}
	if len(cat.Problems) > 0 {
		lines = append(lines, st.Warn.Render(fmt.Sprintf("⚠ %d objects could not be used (see the catalog)", len(cat.Problems))))
	}
	read := common.Ago(src.Loaded, p.c.Now())
	if src.Loading {
		read = p.c.Spinner() + " reading again…"
	} else if p.c.Refresh > 0 {
		read += fmt.Sprintf(" · again every %s while shown", p.c.Refresh)
	}
	lines = append(lines, st.Label.Render("Read        ")+read)
	lines = append(lines, "", st.Muted.Render("enter catalog · p pick a restore point · m members · r reload all"))
	return panel.Box(st, w, "", lines)
}

func newestRestorable(src *common.Source) string {
	var best int64
	var key string
	for _, ch := range src.Catalog.Chains {
		if ch.RestorableRevision > best {
			best, key = ch.RestorableRevision, ch.Base.Key
		}
	}
	if best == 0 {
		return ""
	}
	return fmt.Sprintf("revision %d (chain %s)", best, common.BaseName(key))
}
