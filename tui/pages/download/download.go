// Package download is the Download wizard: a target path, then the engine's download with a progress bar, rate
// and ETA fed by progress events; esc or ctrl+c cancels through the context and nothing is left at the target.
package download

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/etcd-dr/etcd-dr/engine"
	"github.com/etcd-dr/etcd-dr/engine/catalog"
	"github.com/etcd-dr/etcd-dr/engine/download"
	"github.com/etcd-dr/etcd-dr/engine/pick"
	"github.com/etcd-dr/etcd-dr/engine/progress"
	"github.com/etcd-dr/etcd-dr/tui/common"
	"github.com/etcd-dr/etcd-dr/tui/components/job"
	"github.com/etcd-dr/etcd-dr/tui/components/progressbar"
	"github.com/etcd-dr/etcd-dr/tui/components/textfield"
	"github.com/etcd-dr/etcd-dr/tui/keymap"
)

// Page is the Download wizard for one picked restore point.
type Page struct {
	c     *common.Common
	src   *common.Source
	res   *pick.Result
	snaps []catalog.Snapshot
	form  textfield.Form // the target path
	job   job.Model
	// progress of the running download
	doneObjs int
	doneSize int64 // stored bytes of the objects finished
	total    int64 // stored bytes of all objects
	// refusal is why the form cannot start (shown under it).
	refusal string
	w, h    int
}

// New builds the wizard; target pre-fills the path (empty = a name in the current directory).
func New(c *common.Common, src *common.Source, res *pick.Result, target string) *Page {
	p := &Page{c: c, src: src, res: res, snaps: res.Snapshots()}
	p.job = job.New(c, "download", "partial files are being removed")
	p.job.Retry = true
	p.job.OnProgress = p.progressed
	for _, s := range p.snaps {
		p.total += s.Size
	}
	if target == "" {
		target = fmt.Sprintf("etcd-dr-revision-%d", res.Revision)
		if len(p.snaps) == 1 {
			target += ".db"
		}
	}
	to := textfield.New("target", "a file for one snapshot, a new folder for a chain")
	to.SetValue(target)
	p.form = textfield.NewForm(0, to)
	return p
}

// target is the form's one field.
func (p *Page) target() *textfield.Model { return &p.form.Fields[0] }

func (p *Page) Init() tea.Cmd    { return nil }
func (p *Page) Title() string    { return "Download" }
func (p *Page) Capturing() bool  { return p.job.State() == job.Editing }
func (p *Page) Busy() bool       { return p.job.Busy() }
func (p *Page) SetSize(w, h int) { p.w, p.h = w, h }

func (p *Page) Bindings() []keymap.Binding {
	return p.job.Footer([]keymap.Binding{{Keys: p.c.Keys.Enter.Keys, Desc: "start download"}, {Keys: []string{"esc"}, Desc: "back"}}, nil)
}

// progressed counts whole objects: the engine's Finished ends one, and the next starts from zero.
func (p *Page) progressed(u progress.Update) {
	if u.Finished && p.doneObjs < len(p.snaps) {
		p.doneSize += p.snaps[p.doneObjs].Size
		p.doneObjs++
		p.job.Last = progress.Update{Unit: "bytes", Rate: u.Rate}
	}
}

func (p *Page) Update(msg tea.Msg) (common.Page, tea.Cmd) {
	if used, cmd := p.job.Update(msg); used {
		return p, cmd
	}
	cmd, edited := p.job.UpdateForm(msg, &p.form, p.start)
	if edited {
		p.refusal = ""
	}
	return p, cmd
}

func (p *Page) start() tea.Cmd {
	to := strings.TrimSpace(p.target().Value())
	if to == "" {
		p.refusal = "give a target path"
		return nil
	}
	repo, res := p.src.Repo, p.res
	if repo == nil {
		p.refusal = "the store has not been read; go back and reload it (r)"
		return nil
	}
	p.doneObjs, p.doneSize, p.refusal = 0, 0, ""
	p.form.Blur()
	return p.job.Start(func(ctx context.Context, r progress.Reporter) (any, error) {
		return repo.Download(ctx, engine.DownloadRequest{Point: res, To: to, Progress: r})
	})
}

// fraction estimates overall progress from stored sizes: objects done, plus the current object's bytes
// (content bytes, clamped, since the engine counts bytes after decompression).
func (p *Page) fraction() float64 {
	if p.total <= 0 {
		return 0
	}
	cur := int64(0)
	if p.doneObjs < len(p.snaps) {
		cur = min(p.job.Last.Done, p.snaps[p.doneObjs].Size)
	}
	return float64(p.doneSize+cur) / float64(p.total)
}

func (p *Page) eta() time.Duration {
	if p.job.Last.Rate <= 0 {
		return 0
	}
	left := float64(p.total) * (1 - p.fraction())
	return time.Duration(left / p.job.Last.Rate * float64(time.Second))
}

func (p *Page) View() string {
	st := p.c.Styles
	w := min(p.w, 100)
	var lines []string
	kind := "the full snapshot"
	if len(p.snaps) > 1 {
		kind = fmt.Sprintf("a chain of %d objects (full + %s)", len(p.snaps), common.Plural(len(p.snaps)-1, "delta", "deltas"))
	}
	lines = append(lines,
		fmt.Sprintf("Restore point %s: %s, %s stored.", st.Value.Render(fmt.Sprint(p.res.Revision)), kind, common.Bytes(p.total)),
		st.Muted.Render("Objects are streamed, decompressed and sha256-verified; a file appears only when whole."),
		"",
		p.target().View(st, 8, w),
	)
	if len(p.snaps) > 1 {
		lines = append(lines, st.Muted.Render("        a folder: it can itself be opened as a store (--store file://<folder>)"))
	}
	lines = append(lines, "")
	switch p.job.State() {
	case job.Editing:
		lines = append(lines, st.Muted.Render("enter starts · esc back"))
		if p.refusal != "" {
			lines = append(lines, st.Danger.Render("✗ "+common.Safe(p.refusal)))
		}
	case job.Running, job.Cancelling:
		item := "starting…"
		if p.doneObjs < len(p.snaps) {
			item = fmt.Sprintf("object %d of %d: %s", p.doneObjs+1, len(p.snaps), common.BaseName(p.snaps[p.doneObjs].Key))
		}
		last := p.job.Last
		lines = append(lines, p.job.RunningView(w, item, p.fraction(), progressbar.Stats(last, p.doneSize+min(last.Done, p.total-p.doneSize), p.total, p.eta())))
	case job.Failed:
		lines = append(lines, p.job.FailedView(w, "Download failed", "Download cancelled; nothing was left at the target.",
			[]string{"Nothing was left at the target. Fix the cause, then press e to edit and retry."}))
		if p.job.Cancelled() {
			lines = append(lines, st.Muted.Render("e edit and retry · esc back"))
		}
	case job.Finished:
		lines = append(lines, p.finishedView(w)...)
	}
	return strings.Join(lines, "\n")
}

func (p *Page) finishedView(w int) []string {
	st := p.c.Styles
	r, ok := p.job.Value().(*download.Result)
	if !ok {
		return nil
	}
	lines := []string{st.OK.Render(fmt.Sprintf("✓ Downloaded revision %d to %s", r.Revision, r.Path)),
		fmt.Sprintf("  %s, %s in %.1fs, every sha256 verified", common.Plural(len(r.Files), "file", "files"), common.Bytes(r.Bytes), r.Seconds)}
	if p.job.CancelTooLate() {
		lines = append(lines, st.Warn.Render("  The download finished before the cancel took effect; the files above are whole and verified."))
	}
	abs, err := filepath.Abs(r.Path)
	if err != nil {
		abs = r.Path
	}
	lines = append(lines, "", st.Header.Render("Next:"))
	if len(r.Files) == 1 {
		lines = append(lines, "  etcdutl snapshot restore "+common.ShellQuote(abs)+" --data-dir <new data dir>")
	} else {
		lines = append(lines, "  etcd-dr restore --store "+common.ShellQuote("file://"+abs)+" --data-dir <new data dir>")
	}
	lines = append(lines, "", st.Muted.Render("enter/esc back"))
	return lines
}
