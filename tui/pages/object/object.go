// Package object is the Object details screen: everything known about one backup object, and its checksum
// state, which c proves by streaming the object through the engine's verifier.
package object

import (
	"context"
	"errors"
	"fmt"

	tea "charm.land/bubbletea/v2"

	"github.com/etcd-dr/etcd-dr/engine/catalog"
	"github.com/etcd-dr/etcd-dr/engine/download"
	"github.com/etcd-dr/etcd-dr/engine/fault"
	"github.com/etcd-dr/etcd-dr/engine/progress"
	"github.com/etcd-dr/etcd-dr/tui/common"
	"github.com/etcd-dr/etcd-dr/tui/components/panel"
	"github.com/etcd-dr/etcd-dr/tui/components/progressbar"
	"github.com/etcd-dr/etcd-dr/tui/keymap"
)

// Page shows one object.
type Page struct {
	c    *common.Common
	src  *common.Source
	snap catalog.Snapshot
	job  *common.Job
	last progress.Update
	// verified / verr hold the outcome of the last check.
	verified *download.Verified
	verr     error
	w, h     int
}

// New builds the page for snap of src.
func New(c *common.Common, src *common.Source, snap catalog.Snapshot) *Page {
	return &Page{c: c, src: src, snap: snap}
}

func (p *Page) Init() tea.Cmd    { return nil }
func (p *Page) Title() string    { return "Object" }
func (p *Page) Capturing() bool  { return false }
func (p *Page) Busy() bool       { return p.job != nil }
func (p *Page) SetSize(w, h int) { p.w, p.h = w, h }

func (p *Page) Bindings() []keymap.Binding {
	return []keymap.Binding{p.c.Keys.Verify, {Keys: []string{"esc"}, Desc: "back (cancels a check)"}}
}

func (p *Page) Update(msg tea.Msg) (common.Page, tea.Cmd) {
	switch msg := msg.(type) {
	case common.JobProgressMsg:
		if p.job != nil && msg.ID == p.job.ID {
			p.last = msg.Update
			return p, p.job.Next()
		}
	case common.JobDoneMsg:
		if p.job != nil && msg.ID == p.job.ID {
			p.job = nil
			p.verr = msg.Err
			if p.verr != nil {
				p.verr = common.Worded(p.verr)
			}
			if v, ok := msg.Value.(download.Verified); ok && msg.Err == nil {
				p.verified = &v
			}
		}
	case tea.KeyPressMsg:
		k := p.c.Keys
		switch {
		case p.job != nil && (k.Back.Matches(msg) || k.Cancel.Matches(msg)):
			p.job.Cancel()
		case k.Back.Matches(msg):
			return p, p.c.Pop()
		case k.Verify.Matches(msg) && p.job == nil && p.src.Repo != nil:
			p.verified, p.verr, p.last = nil, nil, progress.Update{}
			repo, snap := p.src.Repo, p.snap
			var cmd tea.Cmd
			p.job, cmd = common.StartJob(p.c.Ctx, func(ctx context.Context, r progress.Reporter) (any, error) {
				return repo.VerifyObject(ctx, snap, r)
			})
			return p, cmd
		}
	}
	return p, nil
}

func (p *Page) View() string {
	st := p.c.Styles
	s := p.snap
	kv := func(k, v string) string { return st.Label.Render(common.Pad(k, 14)) + v }
	revs := fmt.Sprintf("%d-%d", s.StartRevision, s.EndRevision)
	if s.Kind == catalog.Full {
		revs = fmt.Sprintf("%d (full snapshot: the whole keyspace at this revision)", s.EndRevision)
	}
	ver := s.EtcdVersion
	if ver == "" {
		ver = st.Muted.Render("not recorded (etcd-backup-restore does not record it)")
	}
	sha := s.SHA256
	if sha == "" {
		sha = st.Muted.Render("none in metadata; the content carries its own sha256 trailer")
	}
	yes := map[bool]string{true: "yes", false: "no"}
	lines := []string{
		kv("Key", common.Safe(s.Key)),
		kv("Kind", string(s.Kind)),
		kv("Layout", string(s.Layout)),
		kv("Revisions", revs),
		kv("etcd version", ver),
		kv("Size", fmt.Sprintf("%s (%d bytes stored)", common.Bytes(s.Size), s.Size)),
		kv("Taken", common.Stamp(s.Time)+" ("+common.Ago(s.Time, p.c.Now())+")"),
		kv("Compression", s.Compression),
		kv("Encrypted", yes[s.Encrypted]),
		kv("Final delta", yes[s.Final]),
		kv("Stored sha256", sha),
		kv("Checksum", p.checksum()),
	}
	w := min(p.w, 100)
	out := panel.Box(st, w, common.BaseName(s.Key), lines)
	switch {
	case p.verr == nil || errors.Is(p.verr, context.Canceled):
	case errors.Is(p.verr, fault.ErrRefused):
		out += "\n" + panel.Error(st, w, "Cannot read this object", p.verr, []string{"Nothing is known about its checksum yet; give what the message asks for and check again."})
	case errors.Is(p.verr, fault.ErrProblems):
		out += "\n" + panel.Error(st, w, "Checksum check failed", p.verr, []string{"Do not restore from this object; pick an older point (p) or check the other chains."})
	default:
		out += "\n" + panel.Error(st, w, "The store could not be read", p.verr, []string{"Check the network path to the store and press c to check again."})
	}
	return out
}

func (p *Page) checksum() string {
	st := p.c.Styles
	switch {
	case p.job != nil:
		return "checking… " + progressbar.Stats(p.last, p.last.Done, p.snap.Size, 0) + st.Muted.Render("  (esc cancels)")
	case p.verified != nil:
		return st.OK.Render("✓ verified") + fmt.Sprintf(": %s of content, sha256 %s…", common.Bytes(p.verified.Bytes), p.verified.SHA256[:min(16, len(p.verified.SHA256))])
	case p.verr != nil:
		if errors.Is(p.verr, context.Canceled) {
			return st.Warn.Render("check cancelled") + st.Muted.Render(" (press c to check again)")
		}
		if errors.Is(p.verr, fault.ErrProblems) {
			return st.Danger.Render("✗ failed (see below)")
		}
		return st.Warn.Render("not checked: see below")
	}
	return st.Muted.Render("not checked: press c to verify the sha256")
}
