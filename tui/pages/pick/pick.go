// Package pick is the Pick wizard: etcd version and revision in, the chosen restore point out, with every
// backup that was refused and why.
package pick

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"charm.land/bubbles/v2/viewport"
	tea "charm.land/bubbletea/v2"

	"github.com/etcd-dr/etcd-dr/engine"
	"github.com/etcd-dr/etcd-dr/engine/catalog"
	"github.com/etcd-dr/etcd-dr/engine/fault"
	"github.com/etcd-dr/etcd-dr/engine/pick"
	"github.com/etcd-dr/etcd-dr/engine/progress"
	"github.com/etcd-dr/etcd-dr/engine/version"
	"github.com/etcd-dr/etcd-dr/tui/common"
	"github.com/etcd-dr/etcd-dr/tui/components/job"
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
	c    *common.Common
	src  *common.Source
	open common.Opener
	// form holds the two fields; its extra focus stop is the answer below them.
	form textfield.Form
	// job runs the pick (it reads the chosen full snapshot's db: a few ranged reads, cancellable).
	job job.Model
	// answer scrolls the result (bubbles' viewport).
	answer viewport.Model
	w, h   int
}

// New builds the wizard with the inputs pre-filled (from the command line, or empty).
func New(c *common.Common, src *common.Source, open common.Opener, etcdVersion, revision string) *Page {
	p := &Page{c: c, src: src, open: open, job: job.New(c, "pick", ""), answer: viewport.New()}
	p.answer.KeyMap = viewport.KeyMap{Up: c.Keys.Up.Key(), Down: c.Keys.Down.Key(), PageUp: c.Keys.PageUp.Key(), PageDown: c.Keys.PageDown.Key()}
	version := textfield.New("etcd version", "any (e.g. 3.6.4: backups of 3.5 and 3.6 fit)")
	version.Check = checkVersion
	version.SetValue(etcdVersion)
	rev := textfield.New("revision", "newest restorable (or a decimal revision)")
	rev.Check = checkRevision
	rev.SetValue(revision)
	p.form = textfield.NewForm(1, version, rev)
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
func (p *Page) Capturing() bool { return p.form.OnField() && !p.job.Busy() }
func (p *Page) Busy() bool      { return p.job.Busy() }

func (p *Page) Bindings() []keymap.Binding {
	k := p.c.Keys
	keys := []keymap.Binding{{Keys: k.Enter.Keys, Desc: "pick"}, k.NextField, k.Download, k.Restore}
	return p.job.Footer(keys, keys)
}

func (p *Page) SetSize(w, h int) {
	p.w, p.h = w, h
	p.fill()
}

// run picks with the current inputs as a job: quick on a catalog in memory, but it may read a full
// snapshot's db, so it shows a spinner and esc cancels it.
func (p *Page) run() tea.Cmd {
	repo := p.src.Repo
	ver := strings.TrimSpace(p.form.Fields[fieldVersion].Value())
	revS := strings.TrimSpace(p.form.Fields[fieldRevision].Value())
	p.job.Cancel() // a pick still running is superseded: its messages are no longer this job's
	return p.job.Start(func(ctx context.Context, _ progress.Reporter) (any, error) {
		var rev int64
		if revS != "" {
			r, err := strconv.ParseInt(revS, 10, 64)
			if err != nil || r <= 0 {
				return nil, fault.Refused("revision %q: want a positive decimal revision, e.g. 123456", revS)
			}
			rev = r
		}
		if repo == nil {
			return nil, errors.New("the store has not been read yet")
		}
		return repo.Pick(ctx, engine.PickRequest{EtcdVersion: ver, Revision: rev})
	})
}

func (p *Page) Update(msg tea.Msg) (common.Page, tea.Cmd) {
	k := p.c.Keys
	// The job takes its own messages; keys stay with the form even while a pick runs (it is quick, and keys
	// typed ahead must land in the fields), except esc and ctrl+c, which cancel it.
	if km, isKey := msg.(tea.KeyPressMsg); !isKey || (p.job.Busy() && (k.Back.Matches(km) || k.Cancel.Matches(km))) {
		if used, cmd := p.job.Update(msg); used {
			p.fill()
			return p, cmd
		}
	}
	switch msg := msg.(type) {
	case tea.PasteMsg:
		p.form.Update(msg)
	case tea.KeyPressMsg:
		switch {
		case k.Back.Matches(msg):
			return p, p.c.Pop()
		case k.NextField.Matches(msg):
			p.form.Next()
		case k.PrevField.Matches(msg):
			p.form.Prev()
		case k.Enter.Matches(msg):
			if p.form.OnField() {
				p.form.Focus(fieldResult)
				return p, p.run()
			}
		case p.form.OnField():
			p.form.Update(msg)
		case k.Download.Matches(msg) && p.ok():
			return p, p.c.Push(p.open.Download(p.src, p.result()))
		case k.Restore.Matches(msg) && p.ok():
			return p, p.c.Push(p.open.Restore(p.src, p.result()))
		default:
			p.answer, _ = p.answer.Update(msg)
		}
	}
	return p, nil
}

// result is the engine's answer (also on a refusal, which still lists what was refused and why).
func (p *Page) result() *pick.Result {
	r, _ := p.job.Value().(*pick.Result)
	return r
}

func (p *Page) ok() bool { return p.job.State() == job.Finished && p.result() != nil }

func (p *Page) View() string {
	st := p.c.Styles
	var top []string
	top = append(top, st.Muted.Render("Which point can be restored? Leave both empty for the newest restorable revision."), "")
	for i := range p.form.Fields {
		top = append(top, p.form.Fields[i].View(st, 14, p.w))
	}
	hint := "enter picks · tab next field"
	if !p.form.OnField() {
		hint = "↑/↓ scroll · tab edit inputs · d download this point · R restore it"
	}
	top = append(top, st.Muted.Render(hint), "")
	if p.job.Busy() {
		top = append(top, p.job.RunningView(p.w, "picking…", -1, ""))
		return common.Fit(strings.Join(top, "\n"), p.w, p.h)
	}
	return common.Fit(strings.Join(top, "\n")+"\n"+common.TrimLines(p.answer.View()), p.w, p.h)
}

// topLines is the number of lines above the answer: intro, blank, two fields, hint, blank.
const topLines = 6

// fill puts the answer into its viewport.
func (p *Page) fill() {
	p.answer.SetWidth(max(p.w, 10))
	p.answer.SetHeight(max(p.h-topLines, 1))
	lines := p.lines()
	for i, l := range lines {
		lines[i] = common.Trunc(l, max(p.w, 10)) // cut with an ellipsis, not mid-word by the viewport
	}
	p.answer.SetContentLines(lines)
}

// lines is the answer, one line each: choice, objects in apply order, warnings, refusals.
func (p *Page) lines() []string {
	st := p.c.Styles
	var out []string
	wrap := func(style func(...string) string, s string) {
		for _, l := range common.Wrap(s, max(p.w-2, 10)) {
			out = append(out, style(l))
		}
	}
	if p.job.State() == job.Failed {
		out = append(out, strings.Split(p.job.FailedView(min(p.w, 100), "No restore point", "Pick cancelled; press enter to pick again.",
			[]string{"Change the etcd version or the revision above (tab) and press enter."}), "\n")...)
	}
	if r := p.result(); r != nil && p.ok() {
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
	if r := p.result(); r != nil {
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
