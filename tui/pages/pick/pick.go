// Package pick is the Pick wizard: etcd version and revision in, the chosen restore point out, with every
// backup that was refused and why.
package pick

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	tea "charm.land/bubbletea/v2"

	"github.com/etcd-dr/etcd-dr/engine"
	"github.com/etcd-dr/etcd-dr/engine/catalog"
	"github.com/etcd-dr/etcd-dr/engine/fault"
	"github.com/etcd-dr/etcd-dr/engine/pick"
	"github.com/etcd-dr/etcd-dr/engine/version"
	"github.com/etcd-dr/etcd-dr/tui/common"
	"github.com/etcd-dr/etcd-dr/tui/components/textfield"
	"github.com/etcd-dr/etcd-dr/tui/keymap"
)

const (
	fieldVersion = iota
	fieldRevision
	fieldResult
)

// Page is the Pick wizard.
type Page struct {
	c      *common.Common
	src    *common.Source
	open   common.Opener
	fields [2]textfield.Model
	focus  int
	res    *pick.Result
	err    error
	offset int // scroll of the result
	seq    int // number of the latest run
	w, h   int
}

// pickedMsg is the answer of run number seq; only the latest run's answer is shown.
type pickedMsg struct {
	seq int
	res *pick.Result
	err error
}

// New builds the wizard with the inputs pre-filled (from the command line, or empty).
func New(c *common.Common, src *common.Source, open common.Opener, etcdVersion, revision string) *Page {
	p := &Page{c: c, src: src, open: open}
	p.fields[fieldVersion] = textfield.New("etcd version", "any (e.g. 3.6.4: backups of 3.5 and 3.6 fit)")
	p.fields[fieldVersion].Check = checkVersion
	p.fields[fieldRevision] = textfield.New("revision", "newest restorable (or a decimal revision)")
	p.fields[fieldRevision].Check = checkRevision
	p.fields[fieldVersion].SetValue(etcdVersion)
	p.fields[fieldRevision].SetValue(revision)
	p.setFocus(fieldVersion)
	return p
}

func checkVersion(s string) string {
	if s == "" {
		return ""
	}
	if _, err := version.Parse(s); err != nil {
		return "want X.Y or X.Y.Z"
	}
	return ""
}

func checkRevision(s string) string {
	if s == "" {
		return ""
	}
	if r, err := strconv.ParseInt(s, 10, 64); err != nil || r <= 0 {
		return "want a positive decimal revision"
	}
	return ""
}

func (p *Page) Init() tea.Cmd   { return p.run() }
func (p *Page) Title() string   { return "Pick" }
func (p *Page) Capturing() bool { return p.focus != fieldResult }
func (p *Page) Busy() bool      { return false }

func (p *Page) Bindings() []keymap.Binding {
	k := p.c.Keys
	return []keymap.Binding{{Keys: k.Enter.Keys, Desc: "pick"}, k.NextField, k.Download, k.Restore}
}

func (p *Page) SetSize(w, h int) { p.w, p.h = w, h }

func (p *Page) setFocus(f int) {
	p.focus = f
	for i := range p.fields {
		if i == f {
			p.fields[i].Focus()
		} else {
			p.fields[i].Blur()
		}
	}
}

// run picks with the current inputs; pick works on the catalog in memory, so it is quick, but it still runs as
// a command so that Update stays a pure state change.
func (p *Page) run() tea.Cmd {
	repo := p.src.Repo
	ver := strings.TrimSpace(p.fields[fieldVersion].Value())
	revS := strings.TrimSpace(p.fields[fieldRevision].Value())
	p.seq++
	seq := p.seq
	ctx := p.c.Ctx // the pick reads the chosen full snapshot's db (a few ranged reads); quitting cancels it
	return func() tea.Msg {
		var rev int64
		if revS != "" {
			r, err := strconv.ParseInt(revS, 10, 64)
			if err != nil || r <= 0 {
				return pickedMsg{seq: seq, err: fault.Refused("revision %q: want a positive decimal revision, e.g. 123456", revS)}
			}
			rev = r
		}
		if repo == nil {
			return pickedMsg{seq: seq, err: errors.New("the store has not been read yet")}
		}
		res, err := repo.Pick(ctx, engine.PickRequest{EtcdVersion: ver, Revision: rev})
		return pickedMsg{seq: seq, res: res, err: err}
	}
}

func (p *Page) Update(msg tea.Msg) (common.Page, tea.Cmd) {
	k := p.c.Keys
	switch msg := msg.(type) {
	case pickedMsg:
		if msg.seq == p.seq {
			p.res, p.err, p.offset = msg.res, msg.err, 0
		}
	case tea.PasteMsg:
		if p.focus != fieldResult {
			p.fields[p.focus].Update(msg)
		}
	case tea.KeyPressMsg:
		switch {
		case k.Back.Matches(msg):
			return p, p.c.Pop()
		case k.NextField.Matches(msg):
			p.setFocus((p.focus + 1) % 3)
		case k.PrevField.Matches(msg):
			p.setFocus((p.focus + 2) % 3)
		case k.Enter.Matches(msg):
			if p.focus != fieldResult {
				p.setFocus(fieldResult)
				return p, p.run()
			}
		case p.focus != fieldResult:
			p.fields[p.focus].Update(msg)
		case k.Up.Matches(msg):
			p.offset = max(p.offset-1, 0)
		case k.Down.Matches(msg):
			p.offset++
		case k.Download.Matches(msg) && p.ok():
			return p, p.c.Push(p.open.Download(p.src, p.res))
		case k.Restore.Matches(msg) && p.ok():
			return p, p.c.Push(p.open.Restore(p.src, p.res))
		}
	}
	return p, nil
}

func (p *Page) ok() bool { return p.err == nil && p.res != nil }

func (p *Page) View() string {
	st := p.c.Styles
	var top []string
	top = append(top, st.Muted.Render("Which point can be restored? Leave both empty for the newest restorable revision."), "")
	for i := range p.fields {
		top = append(top, p.fields[i].View(st, 14, p.w))
	}
	hint := "enter picks · tab next field"
	if p.focus == fieldResult {
		hint = "↑/↓ scroll · tab edit inputs · d download this point · R restore it"
	}
	top = append(top, st.Muted.Render(hint), "")
	body := p.result()
	room := max(p.h-len(top), 1)
	off := min(p.offset, max(len(body)-room, 0))
	body = body[off:]
	return common.Fit(strings.Join(append(top, body...), "\n"), p.w, p.h)
}

// result is the answer, one line each: choice, objects in apply order, warnings, refusals.
func (p *Page) result() []string {
	st := p.c.Styles
	var out []string
	wrap := func(style func(...string) string, s string) {
		for _, l := range common.Wrap(s, max(p.w-2, 10)) {
			out = append(out, style(l))
		}
	}
	if p.err != nil {
		wrap(st.Danger.Render, "✗ "+common.Safe(common.Worded(p.err).Error()))
	}
	if r := p.res; r != nil && p.err == nil {
		ver := r.EtcdVersion
		if ver == "" {
			ver = "etcd version not recorded"
		} else {
			ver = "etcd " + ver
		}
		out = append(out, st.OK.Render("✓ restore point: revision ")+st.Value.Render(fmt.Sprint(r.Revision))+st.Muted.Render(" ("+ver+")"))
		out = append(out, fmt.Sprintf("  chain %s (%s), %s in apply order:", common.BaseName(r.Chain.Base.Key), r.Chain.Layout, common.Plural(len(r.Objects), "object", "objects")))
		for _, s := range r.Snapshots() {
			revs := fmt.Sprintf("%d-%d", s.StartRevision, s.EndRevision)
			if s.Kind == catalog.Full {
				revs = fmt.Sprintf("@%d", s.EndRevision)
			}
			out = append(out, fmt.Sprintf("    %-5s %-13s %9s  %s", s.Kind, revs, common.Bytes(s.Size), common.BaseName(s.Key)))
		}
	}
	if r := p.res; r != nil {
		for _, w := range r.Warnings {
			wrap(st.Warn.Render, "⚠ "+w)
		}
		if len(r.Refused) > 0 {
			out = append(out, "", st.Header.Render(fmt.Sprintf("Refused (%d):", len(r.Refused))))
			for _, f := range r.Refused {
				wrap(st.Danger.Render, "✗ "+common.BaseName(f.Key)+": "+common.Safe(f.Why))
			}
		}
	}
	return out
}
