// Package catalog is the Catalog screen: a store's chains as a tree (full snapshot, then its deltas with revision
// ranges, sizes, times and compression), gaps and problems in the danger style, the restorable end of each chain,
// and a live / filter.
package catalog

import (
	"fmt"
	"path"
	"strings"

	tea "charm.land/bubbletea/v2"

	"github.com/etcd-dr/etcd-dr/engine/catalog"
	"github.com/etcd-dr/etcd-dr/engine/pick"
	"github.com/etcd-dr/etcd-dr/tui/common"
	"github.com/etcd-dr/etcd-dr/tui/components/filter"
	"github.com/etcd-dr/etcd-dr/tui/components/list"
	"github.com/etcd-dr/etcd-dr/tui/keymap"
)

// Page is the Catalog screen of one store.
type Page struct {
	c          *common.Common
	src        *common.Source
	open       common.Opener
	cat        *catalog.Catalog // the catalog the rows were built from
	chains     []int
	folded     map[int]bool
	rows       []row
	list       list.Model
	filter     filter.Model
	flash      string // one-line message (e.g. why a download cannot start)
	picking    bool   // a pickAt check is running (on the chain of pickingKey)
	pickingKey string
	// read holds the revisions of on-demand snapshots (another tool's compressed ones) a pick has read, by key:
	// until then their rows say "on demand"; objects never change under a key, so it outlives reloads.
	read map[string]int64
	// lowered caches the lower-case text the filter searches, per catalog (typing must stay fast at 10 000 rows).
	lowered map[string]string
	w, h    int
}

// New builds the Catalog page of src.
func New(c *common.Common, src *common.Source, open common.Opener) *Page {
	p := &Page{c: c, src: src, open: open, folded: map[int]bool{}, read: map[string]int64{}}
	p.filter = filter.New("filter by name, revision or problem")
	p.rebuild()
	return p
}

// Init lists the store afresh: the catalog read when the console started (or a refresh ago) may miss the
// backups a daemon stored since. A catalog read this very moment (by the shared clock) is not read twice.
func (p *Page) Init() tea.Cmd {
	if p.src.Repo != nil && !p.c.Now().After(p.src.Loaded) {
		return nil
	}
	return p.src.Reload(p.c.Ctx, p.c.Decrypt)
}

// LiveSources is the store shown: the root reads it again every --refresh while this page is on top.
func (p *Page) LiveSources() []*common.Source { return []*common.Source{p.src} }

func (p *Page) Title() string   { return "Catalog" }
func (p *Page) Capturing() bool { return p.filter.Typing() }
func (p *Page) Busy() bool      { return false }

// Waiting is true while a pick checks the chain under the cursor (the root spins the spinner).
func (p *Page) Waiting() bool { return p.picking }

func (p *Page) Bindings() []keymap.Binding {
	k := p.c.Keys
	return []keymap.Binding{{Keys: k.Enter.Keys, Desc: "details / fold", Short: "open"}, k.Filter, k.Pick, k.Download, k.Validate, k.Restore, k.Compact, k.Copy, k.Toggle, k.Members, k.Reload}
}

func (p *Page) SetSize(w, h int) {
	p.w, p.h = w, h
	p.list.SetHeight(max(h-3, 1))
}

// rebuild lays out the rows again (after a load, a fold, or a filter change), keeping the cursor on its row.
// A new catalog (a reload, a refresh) keeps the folds and the cursor by object key, so rows that arrive
// meanwhile do not move the SRE's place.
func (p *Page) rebuild() {
	var keep *row
	if len(p.rows) > 0 {
		r := p.rows[p.list.Cursor()]
		keep = &r
	}
	if p.cat != p.src.Catalog {
		keepID, foldedKeys := "", map[string]bool{}
		if keep != nil {
			keepID = p.rowID(keep)
		}
		for ci, f := range p.folded {
			if f && p.cat != nil && ci < len(p.cat.Chains) {
				foldedKeys[p.cat.Chains[ci].Base.Key] = true
			}
		}
		p.cat = p.src.Catalog
		p.folded = map[int]bool{}
		p.lowered = map[string]string{}
		keep = nil
		if p.cat != nil {
			p.chains = order(p.cat)
			for ci := range p.cat.Chains {
				if foldedKeys[p.cat.Chains[ci].Base.Key] {
					p.folded[ci] = true
				}
			}
		}
		defer func() { p.selectID(keepID) }()
	}
	if p.cat == nil {
		p.rows = nil
		p.list.SetLen(0)
		return
	}
	p.rows = buildRows(p.cat, p.chains, p.folded, p.filter.Query(), p.lower)
	p.list.SetLen(len(p.rows))
	if keep != nil {
		for i, r := range p.rows {
			if r.kind == keep.kind && r.chain == keep.chain && r.snap == keep.snap && r.gap == keep.gap && r.text == keep.text {
				p.list.Select(i)
				break
			}
		}
	}
}

// rowID names a row across catalogs: its kind, its chain's full snapshot and its object, gap or text.
func (p *Page) rowID(r *row) string {
	id := fmt.Sprint(r.kind, "|", r.text, "|", r.gap.From, "-", r.gap.To)
	if r.chain >= 0 && p.cat != nil && r.chain < len(p.cat.Chains) {
		id += "|" + p.cat.Chains[r.chain].Base.Key
	}
	if r.snap != nil {
		id += "|" + r.snap.Key
	}
	return id
}

// selectID puts the cursor on the row named id, if the new catalog still has it.
func (p *Page) selectID(id string) {
	if id == "" {
		return
	}
	for i := range p.rows {
		if p.rowID(&p.rows[i]) == id {
			p.list.Select(i)
			return
		}
	}
}

func (p *Page) selected() *row {
	if len(p.rows) == 0 {
		return nil
	}
	return &p.rows[p.list.Cursor()]
}

func (p *Page) Update(msg tea.Msg) (common.Page, tea.Cmd) {
	switch msg := msg.(type) {
	case common.SourceLoadedMsg:
		if msg.Index == p.src.Index {
			p.rebuild()
		}
		return p, nil
	case pickedMsg:
		p.picking = false
		if msg.err != nil {
			p.flash = common.Safe(common.Worded(msg.err).Error())
			return p, nil
		}
		p.flash = ""
		if b := msg.res.Chain.Base; msg.onDemand != "" && b.Key == msg.onDemand {
			p.read[b.Key] = b.EndRevision
		}
		switch msg.next {
		case nextDownload:
			return p, p.c.Push(p.open.Download(p.src, msg.res))
		case nextCompact:
			return p, p.c.Push(p.open.Compact(p.src, msg.res))
		}
		return p, p.c.Push(p.open.Restore(p.src, msg.res))
	case tea.KeyPressMsg:
		if !p.filter.Typing() {
			return p, p.updateKeys(msg)
		}
	}
	p.filter.Update(msg, p.rebuild, &p.list)
	return p, nil
}

func (p *Page) updateKeys(msg tea.KeyPressMsg) tea.Cmd {
	k := p.c.Keys
	p.flash = ""
	if p.list.Update(msg, k) {
		return nil
	}
	r := p.selected()
	switch {
	case k.Back.Matches(msg):
		if p.filter.Clear() {
			p.rebuild()
			return nil
		}
		return p.c.Pop()
	case k.Filter.Matches(msg):
		p.filter.Start()
		return nil
	case k.Reload.Matches(msg):
		return p.src.Reload(p.c.Ctx, p.c.Decrypt)
	case k.Pick.Matches(msg):
		return p.c.Push(p.open.Pick(p.src))
	case k.Members.Matches(msg):
		return p.c.Push(p.open.Members(p.src))
	case k.Copy.Matches(msg):
		return p.c.Push(p.open.Copy(p.src))
	case r == nil:
		return nil
	case k.Enter.Matches(msg), k.Toggle.Matches(msg):
		switch {
		case r.kind == chainRow:
			p.folded[r.chain] = !p.folded[r.chain]
			p.rebuild()
		case r.kind == objectRow && k.Enter.Matches(msg):
			return p.c.Push(p.open.Object(p.src, p.known(*r.snap)))
		}
	case k.Download.Matches(msg), k.Restore.Matches(msg), k.Compact.Matches(msg):
		if p.picking {
			return nil
		}
		next := nextRestore
		switch {
		case k.Download.Matches(msg):
			next = nextDownload
		case k.Compact.Matches(msg):
			next = nextCompact
		}
		return p.pickAt(r, next)
	case k.Validate.Matches(msg):
		if r.chain >= 0 {
			return p.c.Push(p.open.Validate(p.src, &p.cat.Chains[r.chain]))
		}
	}
	return nil
}

// nextWizard is the wizard a pick from the catalog opens.
type nextWizard int

const (
	nextRestore nextWizard = iota
	nextDownload
	nextCompact
)

// pickedMsg ends pickAt's check: the restore point, or why there is none.
type pickedMsg struct {
	next nextWizard
	res  *pick.Result
	err  error
	// onDemand is the key of the chain's base when its revision was to be read by this pick.
	onDemand string
}

// pickAt picks the restore point a row stands for: an object = up to its end (at most the chain's restorable
// end), a chain = its restorable end. It picks from the selected chain alone, so that another chain holding the
// same revision is never used instead of the one the SRE chose. The engine reads the base snapshot's revision
// (a few ranged reads) before it answers, so the pick runs as a command, not in Update.
func (p *Page) pickAt(r *row, next nextWizard) tea.Cmd {
	if r.chain < 0 {
		p.flash = "this object belongs to no chain; nothing to restore from it"
		return nil
	}
	if p.src.Repo == nil {
		p.flash = "the store has not been read; reload it (r)"
		return nil
	}
	ch := p.cat.Chains[r.chain]
	rev := ch.RestorableRevision
	if r.kind == objectRow && r.snap.EndRevision < rev {
		rev = r.snap.EndRevision
	}
	p.picking, p.pickingKey = true, ch.Base.Key
	repo, ctx := p.src.Repo, p.c.Ctx
	onDemand := ""
	if ch.Base.RevisionOnDemand {
		onDemand = ch.Base.Key
	}
	return func() tea.Msg {
		res, err := repo.PickInChain(ctx, ch, rev)
		return pickedMsg{next: next, res: res, err: err, onDemand: onDemand}
	}
}

// Column widths of object rows.
const (
	colTree = 5
	colKind = 5
	colRevs = 13
	colSize = 9
	colTime = 17
	colComp = 5
)

func (p *Page) View() string {
	st := p.c.Styles
	var b strings.Builder
	b.WriteString(common.Trunc(p.summary(), p.w))
	b.WriteByte('\n')
	if p.wide() && len(p.rows) > 0 {
		b.WriteString(p.tableView())
		b.WriteByte('\n')
		b.WriteString(p.status())
		return b.String()
	}
	hdr := strings.Repeat(" ", colTree) + common.Pad("KIND", colKind) + " " + common.Pad("REVISIONS", colRevs) + " " +
		common.PadLeft("SIZE", colSize) + "  " + common.Pad("TAKEN (UTC)", colTime) + "  " + common.Pad("COMP", colComp) + "  NAME"
	b.WriteString(st.Header.Render(common.Trunc(hdr, p.w)))
	b.WriteByte('\n')
	if len(p.rows) == 0 {
		msg := "No backups in this store."
		if p.src.Loading && p.src.Err == nil {
			msg = p.c.Spinner() + " Reading the store…"
		} else if p.filter.Query() != "" {
			msg = "Nothing matches the filter (esc clears it)."
		} else if p.src.Err != nil {
			msg = "The store could not be read: " + p.src.Err.Error()
		}
		b.WriteString(common.Fit(st.Muted.Render(msg), p.w, p.list.Height()))
	} else {
		b.WriteString(p.list.View(func(i int, sel bool) string { return p.renderRow(&p.rows[i], sel) }))
	}
	b.WriteByte('\n')
	b.WriteString(p.status())
	return b.String()
}

func (p *Page) summary() string {
	st := p.c.Styles
	if p.filter.Shown() {
		found := 0
		for _, r := range p.rows {
			if r.kind != chainRow && r.kind != strayHead {
				found++
			}
		}
		return p.filter.View(st, 2, max(p.w-12, 10)) + st.Muted.Render(fmt.Sprintf("  %d found", found))
	}
	if p.cat == nil {
		return st.Muted.Render(p.src.Name())
	}
	s := st.Value.Render(p.src.Name()) + st.Muted.Render(" · "+p.src.Layouts()+fmt.Sprintf(" · %d chains", len(p.cat.Chains)))
	if n := p.cat.Newest(); n != nil {
		rev := fmt.Sprint(n.RestorableRevision)
		if n.RestorableRevision == 0 && n.Base.RevisionOnDemand {
			rev = "read on demand"
		}
		s += st.Muted.Render(" · newest restorable ") + st.Value.Render(rev)
	}
	if len(p.cat.Problems) > 0 {
		s += st.Warn.Render(fmt.Sprintf(" · %d unused", len(p.cat.Problems)))
	}
	if p.src.Loading {
		s += st.Muted.Render(" · ") + p.c.Spinner() + st.Muted.Render(" reloading…")
	}
	return s
}

// status is the line under the list: a flash message, else the selected object's full key and the position.
func (p *Page) status() string {
	st := p.c.Styles
	if p.picking {
		// The pick reads the base snapshot's revision first (ranged reads): the wizard opens when it answers.
		return common.Trunc(p.c.Spinner()+st.Muted.Render(" checking "+common.Safe(p.pickingKey)+" …"), p.w)
	}
	if p.flash != "" {
		return st.Danger.Render(common.Trunc("✗ "+p.flash, p.w))
	}
	pos := p.list.Scrollbar()
	var what string
	if r := p.selected(); r != nil {
		switch r.kind {
		case objectRow:
			what = common.Safe(r.snap.Key)
		case chainRow:
			what = "chain of " + common.Safe(p.cat.Chains[r.chain].Base.Key)
		case strayRow, problemRow, noteRow, warnRow, companionRow:
			what = r.text
		}
	}
	if pos != "" {
		what = common.Pad(what, max(p.w-len(pos)-1, 0)) + " " + pos
	}
	return st.Muted.Render(common.Trunc(what, p.w))
}

func (p *Page) renderRow(r *row, sel bool) string {
	st := p.c.Styles
	var line string
	danger := false
	switch r.kind {
	case chainRow:
		line, danger = p.chainLine(&p.cat.Chains[r.chain], p.folded[r.chain])
	case objectRow:
		line = tree(r) + p.objectLine(r.snap)
	case gapRow:
		line, danger = tree(r)+"✗ "+gapText(r.gap, &p.cat.Chains[r.chain]), true
	case problemRow:
		line, danger = tree(r)+"✗ "+r.text, true
	case noteRow:
		line = tree(r) + "i " + r.text
	case warnRow:
		line = tree(r) + "⚠ " + r.text
	case companionRow:
		line = tree(r) + "+ " + common.Pad("with", colKind) + " " + companionName(r.text, p.cat.Chains[r.chain].Base.Key) + "  (its tool's companion file: downloaded and copied with it)"
	case strayHead:
		line, danger = "✗ "+r.text+" (not part of any chain)", true
	case strayRow:
		line, danger = tree(r)+r.text, true
	}
	line = common.Pad(line, p.w)
	switch {
	case sel:
		return st.Selected.Render(line)
	case danger:
		return st.Danger.Render(line)
	case r.kind == noteRow, r.kind == companionRow:
		return st.Muted.Render(line)
	case r.kind == warnRow:
		return st.Warn.Render(line)
	case r.kind == chainRow:
		return st.Value.Render(line)
	}
	return line
}

func tree(r *row) string {
	if r.last {
		return "  └─ "
	}
	return "  ├─ "
}

func (p *Page) chainLine(ch *catalog.Chain, folded bool) (string, bool) {
	fold := "▾ "
	if folded {
		fold = "▸ "
	}
	var size int64
	for _, s := range ch.Objects() {
		size += s.Size
	}
	s := fmt.Sprintf("%s%d-%d restorable to %d", fold, ch.Base.EndRevision, ch.EndRevision, ch.RestorableRevision)
	if ch.Base.RevisionOnDemand {
		s = fold + "revision on demand (read when picked)"
		if rev, ok := p.read[ch.Base.Key]; ok {
			s = fmt.Sprintf("%s@%d (read at pick) restorable to %d", fold, rev, rev)
		}
	}
	danger := len(ch.Gaps) > 0 || len(ch.Problems) > 0
	if len(ch.Gaps) > 0 {
		s += " ✗ GAP"
	}
	s += fmt.Sprintf(" · %d obj · %s", 1+len(ch.Deltas), common.Bytes(size))
	if ch.Base.EtcdVersion != "" {
		s += " · etcd " + ch.Base.EtcdVersion
	}
	s += " · " + string(ch.Layout)
	if ch.Base.Node != "" {
		s += " node " + common.Safe(ch.Base.Node)
	}
	if ch.Base.Encrypted {
		s += " · " + p.encrypted()
	}
	if n := len(ch.Base.Companions); n > 0 {
		s += " · " + common.Plural(n, "companion", "companions")
	}
	if ch.Base.Warning != "" {
		s += " · ⚠"
	}
	return s + " · " + common.BaseName(ch.Base.Key), danger
}

// encrypted is an encrypted chain's state: readable with the identity the console was given, or what to do.
func (p *Page) encrypted() string {
	if p.c.Decrypt != nil {
		return "encrypted (age), identity given"
	}
	return "encrypted (age): needs --identity"
}

// known is snap with what a pick has read of it since the catalog was listed (an on-demand revision).
func (p *Page) known(snap catalog.Snapshot) catalog.Snapshot {
	if rev, ok := p.read[snap.Key]; ok && snap.RevisionOnDemand {
		snap.StartRevision, snap.EndRevision, snap.RevisionOnDemand = rev, rev, false
	}
	return snap
}

func (p *Page) objectLine(s *catalog.Snapshot) string {
	revs, comp := p.objectTexts(s)
	return common.Pad(string(s.Kind), colKind) + " " + common.Pad(revs, colRevs) + " " + common.PadLeft(common.Bytes(s.Size), colSize) +
		"  " + common.Pad(common.Stamp(s.Time), colTime) + "  " + common.Pad(comp, colComp) + "  " + common.BaseName(s.Key)
}

// objectTexts are an object's revisions (a full snapshot's "@rev", "on demand" until a pick reads it) and its
// compression ("-" for none, "+age" when encrypted), as the tree and the table show them.
func (p *Page) objectTexts(s *catalog.Snapshot) (revs, comp string) {
	revs = fmt.Sprintf("%d-%d", s.StartRevision, s.EndRevision)
	if s.Kind == catalog.Full {
		revs = fmt.Sprintf("@%d", s.EndRevision)
	}
	if s.RevisionOnDemand {
		revs = "on demand"
		if rev, ok := p.read[s.Key]; ok {
			revs = fmt.Sprintf("@%d read", rev)
		}
	}
	comp = s.Compression
	if comp == "" || comp == "none" {
		comp = "-"
	}
	if s.Encrypted {
		comp += "+age"
	}
	return revs, comp
}

// lower returns s in lower case, computed once per catalog.
func (p *Page) lower(s string) string {
	if l, ok := p.lowered[s]; ok {
		return l
	}
	l := strings.ToLower(s)
	p.lowered[s] = l
	return l
}

// companionName is a companion's key from the snapshot's folder on (".metadata/<name>" for k3s).
func companionName(key, base string) string {
	if dir := path.Dir(base); dir != "." {
		return strings.TrimPrefix(key, dir+"/")
	}
	return key
}
