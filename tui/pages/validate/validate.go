// Package validate is the Validate wizard: check a backup chain (every object streamed and sha256-verified,
// continuity) or a data directory, and show the report.
package validate

import (
	"context"
	"errors"
	"fmt"
	"strings"

	tea "charm.land/bubbletea/v2"

	"github.com/etcd-dr/etcd-dr/engine"
	"github.com/etcd-dr/etcd-dr/engine/catalog"
	"github.com/etcd-dr/etcd-dr/engine/progress"
	"github.com/etcd-dr/etcd-dr/engine/validate"
	"github.com/etcd-dr/etcd-dr/tui/common"
	"github.com/etcd-dr/etcd-dr/tui/components/panel"
	"github.com/etcd-dr/etcd-dr/tui/components/progressbar"
	"github.com/etcd-dr/etcd-dr/tui/components/textfield"
	"github.com/etcd-dr/etcd-dr/tui/keymap"
)

type state int

const (
	editing state = iota
	running
	finished
)

// Page is the Validate wizard.
type Page struct {
	c       *common.Common
	src     *common.Source
	chain   *catalog.Chain
	dataDir textfield.Model
	// target: 0 = the chain, 1 = a data dir.
	target int
	state  state
	job    *common.Job
	last   progress.Update
	// One of the engine's two reports, shown as it is.
	backups *validate.StoreReport
	dir     *validate.DataDirReport
	err     error
	offset  int
	w, h    int
}

// New builds the wizard for chain (may be nil: then a data dir is asked for).
func New(c *common.Common, src *common.Source, chain *catalog.Chain) *Page {
	p := &Page{c: c, src: src, chain: chain}
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

func (p *Page) Init() tea.Cmd    { return nil }
func (p *Page) Title() string    { return "Validate" }
func (p *Page) Capturing() bool  { return p.state == editing && p.target == 1 }
func (p *Page) Busy() bool       { return p.state == running }
func (p *Page) SetSize(w, h int) { p.w, p.h = w, h }

func (p *Page) Bindings() []keymap.Binding {
	k := p.c.Keys
	switch p.state {
	case running:
		return []keymap.Binding{{Keys: []string{"esc", "ctrl+c"}, Label: "esc/ctrl+c", Desc: "cancel the check"}}
	case finished:
		return []keymap.Binding{k.Up, k.Down, {Keys: k.Enter.Keys, Desc: "check again"}, {Keys: []string{"esc"}, Desc: "back"}}
	}
	return []keymap.Binding{{Keys: k.Enter.Keys, Desc: "run the check"}, {Keys: k.NextField.Keys, Desc: "chain / data dir"}, {Keys: []string{"esc"}, Desc: "back"}}
}

func (p *Page) Update(msg tea.Msg) (common.Page, tea.Cmd) {
	k := p.c.Keys
	switch msg := msg.(type) {
	case common.JobProgressMsg:
		if p.job != nil && msg.ID == p.job.ID {
			p.last = msg.Update
			return p, p.job.Next()
		}
	case common.JobDoneMsg:
		if p.job != nil && msg.ID == p.job.ID {
			p.job, p.state, p.err = nil, finished, msg.Err
			if rep, ok := msg.Value.(*engine.BackupsReport); ok {
				p.backups = rep.StoreReport
			}
			p.dir, _ = msg.Value.(*validate.DataDirReport)
		}
	case tea.KeyPressMsg:
		switch p.state {
		case running:
			if k.Back.Matches(msg) || k.Cancel.Matches(msg) {
				p.job.Cancel()
			}
		case finished:
			switch {
			case k.Up.Matches(msg):
				p.offset = max(p.offset-1, 0)
			case k.Down.Matches(msg):
				p.offset++
			case k.Back.Matches(msg):
				return p, p.c.Pop()
			case k.Enter.Matches(msg):
				p.state, p.backups, p.dir, p.err = editing, nil, nil, nil
			}
		case editing:
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
			}
		}
	}
	return p, nil
}

func (p *Page) start() tea.Cmd {
	repo := p.src.Repo
	if repo == nil {
		p.err, p.state = errors.New("the store has not been read; go back and reload it (r)"), finished
		return nil
	}
	var run func(ctx context.Context, r progress.Reporter) (any, error)
	if p.target == 0 {
		chain := p.chain
		run = func(ctx context.Context, r progress.Reporter) (any, error) {
			return repo.ValidateBackups(ctx, engine.ValidateBackupsRequest{Chain: chain, Progress: r})
		}
	} else {
		dir := strings.TrimSpace(p.dataDir.Value())
		if dir == "" {
			p.err, p.state = errors.New("give the data directory to check"), finished
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
	p.state, p.offset, p.last = running, 0, progress.Update{}
	var cmd tea.Cmd
	p.job, cmd = common.StartJob(p.c.Ctx, run)
	return cmd
}

func (p *Page) View() string {
	st := p.c.Styles
	w := min(p.w, 100)
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
	lines = append(lines, radio(p.target == 1, "a data directory"), "    "+p.dataDir.View(st, 10, w-4), "")
	switch p.state {
	case editing:
		what := "Every object is streamed, decompressed and its sha256 checked; continuity (gaps) comes from the catalog."
		if p.target == 1 {
			what = "Layout, WAL, snap files and bbolt integrity, and the revision against the newest backup."
		}
		lines = append(lines, st.Muted.Render(what), st.Muted.Render("enter runs · tab switches · esc back"))
	case running:
		frac := 0.0
		if p.last.Total > 0 {
			frac = float64(p.last.Done) / float64(p.last.Total)
		}
		lines = append(lines, "checking "+p.last.Item, progressbar.Bar(st, frac, min(w, 60)), st.Muted.Render("esc or ctrl+c cancels"))
	case finished:
		body := p.reportLines(w)
		off := min(p.offset, max(len(body)-1, 0))
		lines = append(lines, body[off:]...)
	}
	return strings.Join(lines, "\n")
}

func (p *Page) reportLines(w int) []string {
	st := p.c.Styles
	if p.err != nil {
		if errors.Is(p.err, context.Canceled) {
			return []string{st.Warn.Render("Check cancelled."), st.Muted.Render("enter edit · esc back")}
		}
		return strings.Split(panel.Error(st, w, "Validation could not run", p.err, []string{"enter edits the inputs · esc goes back"}), "\n")
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
	return append(out, "", st.Muted.Render("↑/↓ scroll · enter check again · esc back"))
}

// lines reads the engine's report: its verdict, its problems, and one line per thing checked and passed.
func (p *Page) lines() (bool, []validate.Problem, []string) {
	var checked []string
	if r := p.dir; r != nil {
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
	r := p.backups
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
