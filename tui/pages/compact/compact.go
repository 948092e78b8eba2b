// Package compact is the Compact wizard: the picked chain and revision, what will be written, then a typed
// confirmation (the cluster's name) before the engine folds the chain into one new full snapshot in the same
// store, with progress on the job component. Nothing is written until the word is typed.
package compact

import (
	"context"
	"fmt"
	"path"
	"strings"

	tea "charm.land/bubbletea/v2"

	"github.com/etcd-dr/etcd-dr/engine"
	"github.com/etcd-dr/etcd-dr/engine/pick"
	"github.com/etcd-dr/etcd-dr/engine/progress"
	"github.com/etcd-dr/etcd-dr/tui/common"
	"github.com/etcd-dr/etcd-dr/tui/components/job"
	"github.com/etcd-dr/etcd-dr/tui/components/textfield"
	"github.com/etcd-dr/etcd-dr/tui/keymap"
)

// Page is the Compact wizard for one picked point of a chain.
type Page struct {
	c    *common.Common
	src  *common.Source
	res  *pick.Result
	job  job.Model
	w, h int
}

// New builds the wizard for res (a point picked inside one chain).
func New(c *common.Common, src *common.Source, res *pick.Result) *Page {
	p := &Page{c: c, src: src, res: res}
	p.job = job.New(c, "compaction", "the scratch folder is being removed; nothing is left in the store")
	return p
}

func (p *Page) Init() tea.Cmd    { return nil }
func (p *Page) Title() string    { return "Compact" }
func (p *Page) Capturing() bool  { return p.job.State() == job.Confirming }
func (p *Page) Busy() bool       { return p.job.Busy() }
func (p *Page) SetSize(w, h int) { p.w, p.h = w, h }

// Word is what must be typed to confirm: the cluster's name (its folder), else the store's last path element,
// so the SRE names the cluster whose store is about to be written to.
func (p *Page) Word() string {
	for _, s := range []string{p.src.Cluster, p.res.Chain.Cluster} {
		if s = strings.Trim(s, "/"); s != "" {
			return path.Base(s)
		}
	}
	if b := path.Base(strings.TrimRight(p.src.Shown(), "/")); b != "" && b != "." && b != "/" && !strings.Contains(b, ":") {
		return b
	}
	return "compact"
}

func (p *Page) Bindings() []keymap.Binding {
	return p.job.Footer([]keymap.Binding{{Keys: p.c.Keys.Enter.Keys, Desc: "review and confirm", Dangerous: true}, {Keys: []string{"esc"}, Desc: "back"}}, nil)
}

func (p *Page) Update(msg tea.Msg) (common.Page, tea.Cmd) {
	if used, cmd := p.job.Update(msg); used {
		return p, cmd
	}
	var noFields textfield.Form // the point comes from the catalog row; the review is the form
	cmd, _ := p.job.UpdateForm(msg, &noFields, func() tea.Cmd { p.ask(); return nil })
	return p, cmd
}

// plan says exactly what will be written.
func (p *Page) plan() []string {
	n := len(p.res.Snapshots())
	return []string{
		fmt.Sprintf("Fold chain %s (%s) up to revision %d", common.Safe(p.res.Chain.Base.Key), common.Plural(n, "object", "objects"), p.res.Revision),
		fmt.Sprintf("into one new full snapshot Full-00000000-%08d-<now> in %s.", p.res.Revision, p.src.Shown()),
		"The chain is restored in a scratch folder, compacted and defragmented, verified, then uploaded.",
		"The old chain stays; nothing is deleted.",
	}
}

func (p *Page) ask() {
	repo, rev := p.src.Repo, p.res.Revision
	if repo == nil {
		p.job.Fail(fmt.Errorf("the store %s has not been read; go back and reload it (r)", p.src.Shown()))
		return
	}
	p.job.Ask("Compact a chain (writes to the store)", p.Word(), p.plan(), func(ctx context.Context, r progress.Reporter) (any, error) {
		req := engine.CompactRequest{Revision: rev}
		req.Progress = r
		return repo.Compact(ctx, req)
	})
}

func (p *Page) View() string {
	st := p.c.Styles
	w := min(p.w, 100)
	var lines []string
	if p.job.State() == job.Confirming {
		return p.job.DialogView(w)
	}
	lines = append(lines, p.plan()...)
	lines = append(lines, "")
	switch p.job.State() {
	case job.Editing:
		lines = append(lines, st.Muted.Render("enter reviews and asks you to type "+p.Word()+" · esc back"))
	case job.Running, job.Cancelling:
		lines = append(lines, p.job.RunningView(w, "restoring, compacting and uploading…", p.fraction(), ""))
	case job.Failed:
		lines = append(lines, p.job.FailedView(w, "Compaction failed", "Compaction cancelled; nothing was written to the store.",
			[]string{"Nothing new is visible in the store. Fix the cause, then try again."}))
	case job.Finished:
		if r, ok := p.job.Value().(*engine.CompactResult); ok {
			lines = append(lines, st.OK.Render("✓ Wrote "+common.Safe(r.Key)),
				fmt.Sprintf("  revision %d, %s, %s folded, %s stored (db %s after defrag) in %.1fs",
					r.Revision, common.Plural(int(r.Keys), "key", "keys"), common.Plural(len(r.Folded), "object", "objects"),
					common.Bytes(r.Size), common.Bytes(r.DBBytes), r.Seconds),
				"", st.Muted.Render("enter/esc back"))
		}
	}
	return strings.Join(lines, "\n")
}

// fraction is the current phase's share done, or -1 (no bar) while the engine has not said how much there is.
func (p *Page) fraction() float64 {
	if p.job.Last.Total <= 0 {
		return -1
	}
	return p.job.Fraction()
}
