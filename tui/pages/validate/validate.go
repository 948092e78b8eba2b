// Package validate is the Validate wizard: check a backup chain (every object streamed and sha256-verified,
// continuity) or a data directory, and show the report.
package validate

import (
	"context"
	"fmt"
	"strings"

	"charm.land/bubbles/v2/viewport"
	tea "charm.land/bubbletea/v2"

	"github.com/etcd-dr/etcd-dr/engine"
	"github.com/etcd-dr/etcd-dr/engine/catalog"
	"github.com/etcd-dr/etcd-dr/engine/progress"
	"github.com/etcd-dr/etcd-dr/engine/validate"
	"github.com/etcd-dr/etcd-dr/tui/common"
	"github.com/etcd-dr/etcd-dr/tui/components/job"
	"github.com/etcd-dr/etcd-dr/tui/components/textfield"
	"github.com/etcd-dr/etcd-dr/tui/keymap"
)

// Page is the Validate wizard.
type Page struct {
	c       *common.Common
	src     *common.Source
	chain   *catalog.Chain
	dataDir textfield.Model
	// target: 0 = the chain, 1 = a data dir.
	target int
	job    job.Model
	// report scrolls the outcome (bubbles' viewport): a chain of hundreds of objects is longer than a screen.
	report  viewport.Model
	refusal string
	w, h    int
}

// New builds the wizard for chain (may be nil: then a data dir is asked for).
func New(c *common.Common, src *common.Source, chain *catalog.Chain) *Page {
	p := &Page{c: c, src: src, chain: chain, job: job.New(c, "check", ""), report: viewport.New()}
	p.report.KeyMap = reportKeys(c)
	p.dataDir = textfield.New("data dir", "/var/lib/etcd (member/snap, member/wal)")
	if chain == nil {
		p.target = 1
		p.dataDir.Focus()
	}
	return p
}

// SetDataDir selects the data dir check with dir filled in (the wizard of `etcd-dr validate --data-dir`).
func (p *Page) SetDataDir(dir string) {
	p.dataDir.SetValue(dir)
	p.target = 1
	p.dataDir.Focus()
}

func (p *Page) Init() tea.Cmd   { return nil }
func (p *Page) Title() string   { return "Validate" }
func (p *Page) Capturing() bool { return p.job.State() == job.Editing && p.target == 1 }
func (p *Page) Busy() bool      { return p.job.Busy() }

func (p *Page) SetSize(w, h int) {
	p.w, p.h = w, h
	p.fill()
}

// reportKeys scrolls the report with the console's navigation keys.
func reportKeys(c *common.Common) viewport.KeyMap {
	k := viewport.DefaultKeyMap()
	k.Up, k.Down = c.Keys.Up.Key(), c.Keys.Down.Key()
	k.PageUp, k.PageDown = c.Keys.PageUp.Key(), c.Keys.PageDown.Key()
	k.HalfPageUp.SetEnabled(false)
	k.HalfPageDown.SetEnabled(false)
	k.Left.SetEnabled(false)
	k.Right.SetEnabled(false)
	return k
}

func (p *Page) Bindings() []keymap.Binding {
	k := p.c.Keys
	return p.job.Footer([]keymap.Binding{{Keys: k.Enter.Keys, Desc: "run the check"}, {Keys: k.NextField.Keys, Desc: "chain / data dir"}, {Keys: []string{"esc"}, Desc: "back"}},
		[]keymap.Binding{k.Up, k.Down, {Keys: k.Enter.Keys, Desc: "check again"}, {Keys: []string{"esc"}, Desc: "back"}})
}

func (p *Page) Update(msg tea.Msg) (common.Page, tea.Cmd) {
	k := p.c.Keys
	if used, cmd := p.job.Update(msg); used {
		p.fill()
		return p, cmd
	}
	switch msg := msg.(type) {
	case tea.PasteMsg:
		if p.job.State() == job.Editing && p.target == 1 {
			p.dataDir.Update(msg)
		}
	case tea.KeyPressMsg:
		switch p.job.State() {
		case job.Finished, job.Failed:
			switch {
			case k.Back.Matches(msg):
				return p, p.c.Pop()
			case k.Enter.Matches(msg):
				p.job.Edit()
			default:
				p.report, _ = p.report.Update(msg)
			}
		case job.Editing:
			switch {
			case k.Back.Matches(msg):
				return p, p.c.Pop()
			case k.NextField.Matches(msg), k.PrevField.Matches(msg):
				if p.chain != nil {
					p.target = 1 - p.target
				}
				if p.target == 1 {
					p.dataDir.Focus()
				} else {
					p.dataDir.Blur()
				}
			case k.Enter.Matches(msg):
				return p, p.start()
			case p.target == 1:
				p.dataDir.Update(msg)
				p.refusal = ""
			}
		}
	}
	return p, nil
}

func (p *Page) start() tea.Cmd {
	repo := p.src.Repo
	if repo == nil {
		p.refusal = "the store has not been read; go back and reload it (r)"
		return nil
	}
	var run job.Run
	if p.target == 0 {
		chain := p.chain
		run = func(ctx context.Context, r progress.Reporter) (any, error) {
			return repo.ValidateBackups(ctx, engine.ValidateBackupsRequest{Chain: chain, Progress: r})
		}
	} else {
		dir := strings.TrimSpace(p.dataDir.Value())
		if dir == "" {
			p.refusal = "give the data directory to check"
			return nil
		}
		run = func(ctx context.Context, r progress.Reporter) (any, error) {
			rep, err := repo.ValidateDataDir(dir)
			if err != nil {
				return nil, err
			}
			return rep, ctx.Err()
		}
	}
	p.refusal = ""
	return p.job.Start(run)
}

// head is the form part above the outcome: the choice of chain or data dir.
func (p *Page) head(w int) []string {
	st := p.c.Styles
	var lines []string
	radio := func(on bool, s string) string {
		if on {
			return st.InputOn.Render("(•) " + s)
		}
		return st.InputOff.Render("( ) " + s)
	}
	if p.chain != nil {
		lines = append(lines, radio(p.target == 0, fmt.Sprintf("chain %s: %d objects, revisions %d-%d", common.BaseName(p.chain.Base.Key), 1+len(p.chain.Deltas), p.chain.Base.EndRevision, p.chain.EndRevision)))
	}
	return append(lines, radio(p.target == 1, "a data directory"), "    "+p.dataDir.View(st, 10, w-4), "")
}

// fill puts the outcome into the report viewport, sized to the room under the form.
func (p *Page) fill() {
	w := min(p.w, 100)
	p.report.SetWidth(max(w, 10))
	p.report.SetHeight(max(p.h-len(p.head(w))-1, 3))
	switch p.job.State() {
	case job.Finished, job.Failed:
		p.report.SetContentLines(p.reportLines(w))
	}
}

func (p *Page) View() string {
	st := p.c.Styles
	w := min(p.w, 100)
	lines := p.head(w)
	switch p.job.State() {
	case job.Editing:
		what := "Every object is streamed, decompressed and its sha256 checked; continuity (gaps) comes from the catalog."
		if p.target == 1 {
			what = "Layout, WAL, snap files and bbolt integrity, and the revision against the newest backup."
		}
		lines = append(lines, st.Muted.Render(what), st.Muted.Render("enter runs · tab switches · esc back"))
		if p.refusal != "" {
			lines = append(lines, st.Danger.Render("✗ "+common.Safe(p.refusal)))
		}
	case job.Running, job.Cancelling:
		item := "checking " + common.Safe(p.job.Last.Item)
		if p.job.Last.Item == "" {
			item = "checking…"
		}
		lines = append(lines, p.job.RunningView(w, item, p.job.Fraction(), ""))
	case job.Finished, job.Failed:
		lines = append(lines, common.TrimLines(p.report.View()))
		if !p.report.AtTop() || !p.report.AtBottom() {
			lines = append(lines, st.Muted.Render(fmt.Sprintf("%3.0f%% · ↑/↓ pgup/pgdn scroll · enter check again · esc back", p.report.ScrollPercent()*100)))
		} else {
			lines = append(lines, st.Muted.Render("enter check again · esc back"))
		}
	}
	return strings.Join(lines, "\n")
}

// reportLines is the outcome, one line each.
func (p *Page) reportLines(w int) []string {
	st := p.c.Styles
	if p.job.State() == job.Failed {
		return strings.Split(p.job.FailedView(w, "Validation could not run", "Check cancelled.", []string{"enter edits the inputs · esc goes back"}), "\n")
	}
	ok, problems, checked := p.lines()
	var out []string
	if ok {
		out = append(out, st.OK.Render("✓ no problems found"))
	} else {
		out = append(out, st.Danger.Render("✗ "+common.Plural(len(problems), "problem", "problems")+" found"))
	}
	for _, pr := range problems {
		where := pr.Object
		if where == "" {
			where = pr.Path
		}
		for _, l := range common.Wrap("✗ "+common.BaseName(where)+": "+common.Safe(pr.What), w-2) {
			out = append(out, st.Danger.Render(l))
		}
	}
	for _, c := range checked {
		out = append(out, st.OK.Render("✓ ")+c)
	}
	return out
}

// lines reads the engine's report: its verdict, its problems, and one line per thing checked and passed.
func (p *Page) lines() (bool, []validate.Problem, []string) {
	var checked []string
	var backups *validate.StoreReport
	if rep, ok := p.job.Value().(*engine.BackupsReport); ok {
		backups = rep.StoreReport
	}
	if r, _ := p.job.Value().(*validate.DataDirReport); r != nil {
		problems := r.Problems
		if r.Missing {
			problems = append(problems, validate.Problem{Path: r.Path, What: "no data dir here (absent or empty): a restore is needed before etcd can start with data"})
		} else {
			checked = append(checked, fmt.Sprintf("revision %d (compacted at %d), %s db, %d WAL files, members %s",
				r.Revision, r.CompactRevision, common.Bytes(r.DBSize), r.WALFiles, strings.Join(r.Members, ",")))
		}
		for _, w := range r.Warnings {
			checked = append(checked, "note: "+w)
		}
		return r.OK, problems, checked
	}
	r := backups
	if r == nil {
		return false, nil, nil
	}
	for _, o := range r.Objects {
		if !o.OK {
			continue
		}
		line := fmt.Sprintf("%s: %s", common.BaseName(o.Object), common.Bytes(o.Bytes))
		if o.Events > 0 {
			line += fmt.Sprintf(", %d events", o.Events)
		}
		if len(o.SHA256) >= 12 {
			line += ", sha256 " + o.SHA256[:12] + "…"
		}
		checked = append(checked, line)
	}
	for _, w := range r.Warnings {
		checked = append(checked, "note: "+w)
	}
	return r.OK, r.Problems, checked
}
