// Package download is the Download wizard: a target path, then the engine's download with a progress bar, rate
// and ETA fed by progress events; esc or ctrl+c cancels through the context and nothing is left at the target.
package download

import (
	"context"
	"errors"
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
	"github.com/etcd-dr/etcd-dr/tui/components/panel"
	"github.com/etcd-dr/etcd-dr/tui/components/progressbar"
	"github.com/etcd-dr/etcd-dr/tui/components/textfield"
	"github.com/etcd-dr/etcd-dr/tui/keymap"
)

type state int

const (
	editing state = iota
	running
	cancelling
	finished
)

// Page is the Download wizard for one picked restore point.
type Page struct {
	c      *common.Common
	src    *common.Source
	res    *pick.Result
	snaps  []catalog.Snapshot
	target textfield.Model
	state  state
	job    *common.Job
	// progress of the running download
	last     progress.Update
	doneObjs int
	doneSize int64 // stored bytes of the objects finished
	total    int64 // stored bytes of all objects
	out      *download.Result
	err      error
	// cancelled is set when the user asked to stop; the engine may still finish first (then it says so).
	cancelled bool
	w, h      int
}

// New builds the wizard; target pre-fills the path (empty = a name in the current directory).
func New(c *common.Common, src *common.Source, res *pick.Result, target string) *Page {
	p := &Page{c: c, src: src, res: res, snaps: res.Snapshots()}
	for _, s := range p.snaps {
		p.total += s.Size
	}
	if target == "" {
		target = fmt.Sprintf("etcd-dr-revision-%d", res.Revision)
		if len(p.snaps) == 1 {
			target += ".db"
		}
	}
	p.target = textfield.New("target", "a file for one snapshot, a new folder for a chain")
	p.target.SetValue(target)
	p.target.Focus()
	return p
}

func (p *Page) Init() tea.Cmd    { return nil }
func (p *Page) Title() string    { return "Download" }
func (p *Page) Capturing() bool  { return p.state == editing }
func (p *Page) Busy() bool       { return p.state == running || p.state == cancelling }
func (p *Page) SetSize(w, h int) { p.w, p.h = w, h }

func (p *Page) Bindings() []keymap.Binding {
	k := p.c.Keys
	switch p.state {
	case running, cancelling:
		return []keymap.Binding{{Keys: []string{"esc", "ctrl+c"}, Label: "esc/ctrl+c", Desc: "cancel the download"}}
	case finished:
		if p.err != nil {
			return []keymap.Binding{{Keys: []string{"e"}, Desc: "edit and retry"}, {Keys: []string{"enter", "esc"}, Label: "enter/esc", Desc: "back"}}
		}
		return []keymap.Binding{{Keys: []string{"enter", "esc"}, Label: "enter/esc", Desc: "back"}}
	}
	return []keymap.Binding{{Keys: k.Enter.Keys, Desc: "start download"}, {Keys: []string{"esc"}, Desc: "back"}}
}

func (p *Page) Update(msg tea.Msg) (common.Page, tea.Cmd) {
	k := p.c.Keys
	switch msg := msg.(type) {
	case common.JobProgressMsg:
		if p.job == nil || msg.ID != p.job.ID {
			return p, nil
		}
		p.last = msg.Update
		if msg.Update.Finished && p.doneObjs < len(p.snaps) {
			p.doneSize += p.snaps[p.doneObjs].Size
			p.doneObjs++
			p.last = progress.Update{Unit: "bytes", Rate: msg.Update.Rate}
		}
		return p, p.job.Next()
	case common.JobDoneMsg:
		if p.job == nil || msg.ID != p.job.ID {
			return p, nil
		}
		p.job, p.state, p.err = nil, finished, msg.Err
		if p.err != nil {
			p.err = common.Worded(p.err)
		}
		if r, ok := msg.Value.(*download.Result); ok {
			p.out = r
		}
	case tea.PasteMsg:
		if p.state == editing {
			p.target.Update(msg)
		}
	case tea.KeyPressMsg:
		switch p.state {
		case editing:
			switch {
			case k.Back.Matches(msg):
				return p, p.c.Pop()
			case k.Enter.Matches(msg):
				return p, p.start()
			default:
				p.target.Update(msg)
			}
		case running:
			if k.Back.Matches(msg) || k.Cancel.Matches(msg) {
				p.state, p.cancelled = cancelling, true
				p.job.Cancel()
			}
		case finished:
			switch {
			case k.Back.Matches(msg), k.Enter.Matches(msg):
				return p, p.c.Pop()
			case msg.String() == "e" && p.err != nil:
				p.state, p.err = editing, nil
				p.target.Focus()
			}
		}
	}
	return p, nil
}

func (p *Page) start() tea.Cmd {
	to := strings.TrimSpace(p.target.Value())
	if to == "" {
		p.err = errors.New("give a target path")
		return nil
	}
	p.err, p.out, p.doneObjs, p.doneSize, p.last, p.cancelled = nil, nil, 0, 0, progress.Update{}, false
	p.state = running
	p.target.Blur()
	repo, res := p.src.Repo, p.res
	if repo == nil {
		p.state, p.err = editing, errors.New("the store has not been read; go back and reload it (r)")
		return nil
	}
	var cmd tea.Cmd
	p.job, cmd = common.StartJob(p.c.Ctx, func(ctx context.Context, r progress.Reporter) (any, error) {
		return repo.Download(ctx, engine.DownloadRequest{Point: res, To: to, Progress: r})
	})
	return cmd
}

// fraction estimates overall progress from stored sizes: objects done, plus the current object's bytes
// (content bytes, clamped, since the engine counts bytes after decompression).
func (p *Page) fraction() float64 {
	if p.total <= 0 {
		return 0
	}
	cur := int64(0)
	if p.doneObjs < len(p.snaps) {
		cur = min(p.last.Done, p.snaps[p.doneObjs].Size)
	}
	return float64(p.doneSize+cur) / float64(p.total)
}

func (p *Page) eta() time.Duration {
	if p.last.Rate <= 0 {
		return 0
	}
	left := float64(p.total) * (1 - p.fraction())
	return time.Duration(left / p.last.Rate * float64(time.Second))
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
		p.target.View(st, 8, w),
	)
	if len(p.snaps) > 1 {
		lines = append(lines, st.Muted.Render("        a folder: it can itself be opened as a store (--store file://<folder>)"))
	}
	lines = append(lines, "")
	switch p.state {
	case editing:
		lines = append(lines, st.Muted.Render("enter starts · esc back"))
		if p.err != nil {
			lines = append(lines, st.Danger.Render("✗ "+common.Safe(p.err.Error())))
		}
	case running, cancelling:
		item := "starting…"
		if p.doneObjs < len(p.snaps) {
			item = fmt.Sprintf("object %d of %d: %s", p.doneObjs+1, len(p.snaps), common.BaseName(p.snaps[p.doneObjs].Key))
		}
		lines = append(lines, item, progressbar.Bar(st, p.fraction(), min(w, 60)),
			progressbar.Stats(p.last, p.doneSize+min(p.last.Done, p.total-p.doneSize), p.total, p.eta()))
		if p.state == cancelling {
			lines = append(lines, st.Warn.Render("cancelling… partial files are being removed"))
		} else {
			lines = append(lines, st.Muted.Render("esc or ctrl+c cancels"))
		}
	case finished:
		lines = append(lines, p.finishedView(w)...)
	}
	return strings.Join(lines, "\n")
}

func (p *Page) finishedView(w int) []string {
	st := p.c.Styles
	if p.err != nil {
		if errors.Is(p.err, context.Canceled) {
			return []string{st.Warn.Render("Download cancelled; nothing was left at the target."), st.Muted.Render("e edit and retry · esc back")}
		}
		return []string{panel.Error(st, w, "Download failed", p.err, []string{"Nothing was left at the target. Fix the cause, then press e to edit and retry."})}
	}
	r := p.out
	lines := []string{st.OK.Render(fmt.Sprintf("✓ Downloaded revision %d to %s", r.Revision, r.Path)),
		fmt.Sprintf("  %s, %s in %.1fs, every sha256 verified", common.Plural(len(r.Files), "file", "files"), common.Bytes(r.Bytes), r.Seconds)}
	if p.cancelled {
		lines = append(lines, st.Warn.Render("  The download finished before the cancel took effect; the files above are whole and verified."))
	}
	abs, err := filepath.Abs(r.Path)
	if err != nil {
		abs = r.Path
	}
	lines = append(lines, "", st.Header.Render("Next:"))
	if len(r.Files) == 1 {
		lines = append(lines, "  etcdutl snapshot restore "+abs+" --data-dir <new data dir>")
	} else {
		lines = append(lines, "  etcd-dr restore --store file://"+abs+" --data-dir <new data dir>")
	}
	lines = append(lines, "", st.Muted.Render("enter/esc back"))
	return lines
}
