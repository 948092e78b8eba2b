// Package copy is the Copy wizard: a target store URL and the limits of `etcd-dr copy` (max backups: the N
// newest chains of each cluster; max age: only chains whose newest object is at most that old), then a dry run
// that says what will be copied (chains, objects, bytes, what the target holds already), then the copy itself
// with progress on the job component and a summary. Copy deletes nothing at either end and skips what the target already holds, so it needs no typed
// confirmation; the dry run is the review step.
package copy

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/etcd-dr/etcd-dr/engine"
	"github.com/etcd-dr/etcd-dr/engine/progress"
	"github.com/etcd-dr/etcd-dr/tui/common"
	"github.com/etcd-dr/etcd-dr/tui/components/job"
	"github.com/etcd-dr/etcd-dr/tui/components/textfield"
	"github.com/etcd-dr/etcd-dr/tui/keymap"
)

// Page is the Copy wizard for one store (or one cluster of a fleet root).
type Page struct {
	c    *common.Common
	src  *common.Source
	form textfield.Form // the target URL, max backups, max age
	job  job.Model
	// plan is the dry run's answer for planned (the target and limits it was made for); the next enter copies.
	plan    *engine.CopyResult
	planned string
	refusal string
	w, h    int
}

// New builds the wizard with an empty target field.
func New(c *common.Common, src *common.Source) *Page {
	p := &Page{c: c, src: src}
	p.job = job.New(c, "copy", "objects being written are abandoned; whole ones stay, and a rerun resumes")
	p.job.Retry = true
	maxBackups := textfield.New("max backups", "all (or N: the N newest chains of each cluster)")
	maxBackups.Check = func(s string) string { _, why := parseMaxBackups(s); return why }
	maxAge := textfield.New("max age", "any (or e.g. 24h: chains whose newest backup is at most that old)")
	maxAge.Check = func(s string) string { _, why := parseMaxAge(s); return why }
	p.form = textfield.NewForm(0, textfield.New("to", "target store URL (file://, s3://, gs://, azblob://)"), maxBackups, maxAge)
	return p
}

// The form's fields.
func (p *Page) target() *textfield.Model     { return &p.form.Fields[0] }
func (p *Page) maxBackups() *textfield.Model { return &p.form.Fields[1] }
func (p *Page) maxAge() *textfield.Model     { return &p.form.Fields[2] }

// labelW is the width of the fields' labels.
const labelW = 13

// parseMaxBackups reads the max backups field: empty or 0 = all chains; a complaint when it is not a count.
func parseMaxBackups(s string) (int, string) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, ""
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 {
		return 0, "a whole number: 0 or empty for all"
	}
	return n, ""
}

// parseMaxAge reads the max age field as --max-age does (a Go duration: 90m, 24h): empty or 0 = any age.
func parseMaxAge(s string) (time.Duration, string) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, ""
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		return 0, "a duration such as 90m or 24h"
	}
	return d, ""
}

// limits is the request's max backups and max age as typed, or the first complaint.
func (p *Page) limits() (int, time.Duration, string) {
	n, why := parseMaxBackups(p.maxBackups().Value())
	if why != "" {
		return 0, 0, "max backups: " + why
	}
	d, why := parseMaxAge(p.maxAge().Value())
	if why != "" {
		return 0, 0, "max age: " + why
	}
	return n, d, ""
}

// planKey names what a dry run was made for: the target and the limits (editing any of them plans again).
func (p *Page) planKey() string {
	n, d, _ := p.limits()
	return fmt.Sprint(p.targetURL(), "|", n, "|", d)
}

func (p *Page) Init() tea.Cmd    { return nil }
func (p *Page) Title() string    { return "Copy" }
func (p *Page) Capturing() bool  { return p.job.State() == job.Editing }
func (p *Page) Busy() bool       { return p.job.Busy() }
func (p *Page) SetSize(w, h int) { p.w, p.h = w, h }

// copying reports whether the job is (or was) the copy itself rather than its dry run.
func (p *Page) copying() bool { return p.plan != nil && p.planned == p.planKey() }

func (p *Page) targetURL() string { return strings.TrimSpace(p.target().Value()) }

func (p *Page) Bindings() []keymap.Binding {
	enter := "plan (dry run)"
	if p.copying() {
		enter = "copy"
	}
	return p.job.Footer([]keymap.Binding{{Keys: p.c.Keys.Enter.Keys, Desc: enter}, {Keys: []string{"esc"}, Desc: "back"}}, nil)
}

func (p *Page) Update(msg tea.Msg) (common.Page, tea.Cmd) {
	if used, cmd := p.job.Update(msg); used {
		if p.job.State() == job.Finished {
			if r, ok := p.job.Value().(*engine.CopyResult); ok && r.DryRun {
				// The dry run is the review: show it under the form; enter now copies.
				p.plan, p.planned = r, p.planKey()
				p.job.Edit()
				p.form.Focus(0)
			}
		}
		return p, cmd
	}
	cmd, edited := p.job.UpdateForm(msg, &p.form, p.start)
	if edited {
		p.refusal = ""
	}
	return p, cmd
}

func (p *Page) start() tea.Cmd {
	to := p.targetURL()
	if to == "" {
		p.refusal = "give a target store URL"
		return nil
	}
	maxBackups, maxAge, why := p.limits()
	if why != "" {
		p.refusal = why
		return nil
	}
	repo := p.src.Repo
	if repo == nil {
		p.refusal = "the store has not been read; go back and reload it (r)"
		return nil
	}
	dry := !p.copying()
	p.refusal = ""
	if !dry {
		p.form.Blur()
	}
	return p.job.Start(func(ctx context.Context, r progress.Reporter) (any, error) {
		return repo.Copy(ctx, engine.CopyRequest{To: to, MaxBackups: maxBackups, MaxAge: maxAge, DryRun: dry, Progress: r})
	})
}

func (p *Page) View() string {
	st := p.c.Styles
	w := min(p.w, 100)
	lines := []string{
		"Copy whole chains from " + p.src.Name() + " to another store, newest first.",
		st.Muted.Render("Stored bytes unchanged, each object verified while it streams; nothing is deleted at either end."),
		"",
		p.target().View(st, labelW, w),
		p.maxBackups().View(st, labelW, w),
		p.maxAge().View(st, labelW, w),
		"",
	}
	switch p.job.State() {
	case job.Editing:
		if p.copying() {
			lines = append(lines, p.planView()...)
			lines = append(lines, "", st.Muted.Render("enter copies · edit a field to plan again · esc back"))
		} else {
			lines = append(lines, st.Muted.Render("enter plans (a dry run, nothing written) · tab next field · esc back"))
		}
		if p.refusal != "" {
			lines = append(lines, st.Danger.Render("✗ "+common.Safe(p.refusal)))
		}
	case job.Running, job.Cancelling:
		item := "planning…"
		frac := -1.0
		if p.copying() {
			item = "copying…"
			if p.job.Last.Total > 0 {
				frac = p.job.Fraction()
			}
		}
		lines = append(lines, p.job.RunningView(w, item, frac, ""))
	case job.Failed:
		lines = append(lines, p.job.FailedView(w, "Copy failed", "Copy cancelled; objects already whole at the target stay, a rerun resumes.",
			[]string{"Objects already committed at the target are whole and verified; run the copy again to resume."}))
	case job.Finished:
		if r, ok := p.job.Value().(*engine.CopyResult); ok {
			lines = append(lines, st.OK.Render(fmt.Sprintf("✓ Copied %s to %s", common.Plural(r.Chains, "chain", "chains"), common.Safe(engine.Redact(r.To)))+p.limitsNote()),
				fmt.Sprintf("  %d copied, %d already there, %d failed · %s in %.1fs", r.Copied, r.Skipped, r.Failed, common.Bytes(r.Bytes), r.Seconds),
				"", st.Muted.Render("enter/esc back"))
		}
	}
	return strings.Join(lines, "\n")
}

// planView is the dry run's answer: what will be copied and what the target holds already.
func (p *Page) planView() []string {
	r, st := p.plan, p.c.Styles
	var size int64
	for _, o := range r.Objects {
		if o.Result == "planned" {
			size += o.Size
		}
	}
	return []string{
		st.Header.Render("Will copy:") + p.limitsNote(),
		fmt.Sprintf("  %s: %s to copy (%s), %d already at the target", common.Plural(r.Chains, "chain", "chains"),
			common.Plural(r.Planned, "object", "objects"), common.Bytes(size), r.Skipped),
	}
}

// limitsNote says which chains the limits let through, after "Will copy:" and "Copied": "" without limits.
func (p *Page) limitsNote() string {
	n, d, _ := p.limits()
	var parts []string
	if n > 0 {
		parts = append(parts, fmt.Sprintf("the %s of each cluster", common.Plural(n, "newest chain", "newest chains")))
	}
	if d > 0 {
		parts = append(parts, "newest backup at most "+strings.TrimSpace(p.maxAge().Value())+" old") // as typed: 24h, not 24h0m0s
	}
	if len(parts) == 0 {
		return ""
	}
	return " (" + strings.Join(parts, ", ") + ")"
}
