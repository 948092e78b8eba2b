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
	"github.com/etcd-dr/etcd-dr/tui/components/job"
	"github.com/etcd-dr/etcd-dr/tui/components/panel"
	"github.com/etcd-dr/etcd-dr/tui/components/progressbar"
	"github.com/etcd-dr/etcd-dr/tui/keymap"
)

// Page shows one object.
type Page struct {
	c    *common.Common
	src  *common.Source
	snap catalog.Snapshot
	// job is the checksum check (c): idle, running, then finished (verified) or failed.
	job  job.Model
	w, h int
}

// New builds the page for snap of src.
func New(c *common.Common, src *common.Source, snap catalog.Snapshot) *Page {
	return &Page{c: c, src: src, snap: snap, job: job.New(c, "check", "")}
}

func (p *Page) Init() tea.Cmd    { return nil }
func (p *Page) Title() string    { return "Object" }
func (p *Page) Capturing() bool  { return false }
func (p *Page) Busy() bool       { return p.job.Busy() }
func (p *Page) SetSize(w, h int) { p.w, p.h = w, h }

func (p *Page) Bindings() []keymap.Binding {
	return []keymap.Binding{p.c.Keys.Verify, {Keys: []string{"esc"}, Desc: "back (cancels a check)"}}
}

func (p *Page) Update(msg tea.Msg) (common.Page, tea.Cmd) {
	if used, cmd := p.job.Update(msg); used {
		return p, cmd
	}
	if msg, ok := msg.(tea.KeyPressMsg); ok {
		k := p.c.Keys
		switch {
		case k.Back.Matches(msg):
			return p, p.c.Pop()
		case k.Verify.Matches(msg) && p.src.Repo != nil:
			repo, snap := p.src.Repo, p.snap
			return p, p.job.Start(func(ctx context.Context, r progress.Reporter) (any, error) {
				return repo.VerifyObject(ctx, snap, r)
			})
		}
	}
	return p, nil
}

// outcome is the last check's: what it verified, or why it failed (nil, nil when none ran).
func (p *Page) outcome() (*download.Verified, error) {
	switch p.job.State() {
	case job.Finished:
		if v, ok := p.job.Value().(download.Verified); ok {
			return &v, nil
		}
	case job.Failed:
		return nil, p.job.Err()
	}
	return nil, nil
}

func (p *Page) View() string {
	st := p.c.Styles
	s := p.snap
	kv := func(k, v string) string { return st.Label.Render(common.Pad(k, 14)) + v }
	revs := fmt.Sprintf("%d-%d", s.StartRevision, s.EndRevision)
	if s.Kind == catalog.Full {
		revs = fmt.Sprintf("%d (full snapshot: the whole keyspace at this revision)", s.EndRevision)
	}
	if s.RevisionOnDemand {
		revs = st.Warn.Render("on demand") + st.Muted.Render(": not in its name; read from it when picked")
	}
	ver := s.EtcdVersion
	switch {
	case ver != "":
	case s.Layout == catalog.EtcdBRv1 || s.Layout == catalog.EtcdBRv2:
		ver = st.Muted.Render("not recorded (etcd-backup-restore does not record it)")
	default:
		ver = st.Muted.Render("not recorded by " + string(s.Layout) + " (read from the db when restored)")
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
		kv("Encrypted", p.encrypted()),
	}
	if s.Kind == catalog.Delta {
		lines = append(lines, kv("Final delta", yes[s.Final]))
	}
	lines = append(lines, kv("Stored sha256", sha), kv("Checksum", p.checksum()))
	// What other tools' layouts add: the node that took it, the cluster id, the files kept beside it, warnings.
	if s.Node != "" {
		lines = append(lines, kv("Node", common.Safe(s.Node)+st.Muted.Render(" (the node that took it)")))
	}
	if s.ClusterID != "" {
		lines = append(lines, kv("Cluster id", common.Safe(s.ClusterID)))
	}
	for i, c := range s.Companions {
		label := ""
		if i == 0 {
			label = "Kept beside"
		}
		lines = append(lines, kv(label, common.Safe(c)+st.Muted.Render(" (copied with it)")))
	}
	for _, w := range []string{s.Warning, s.Excluded} {
		for i, l := range common.Wrap("⚠ "+common.Safe(w), max(min(p.w, 100)-4, 20)) {
			if w == "" {
				break
			}
			label := ""
			if i == 0 {
				label = "Warning"
			}
			lines = append(lines, kv(label, st.Warn.Render(l)))
		}
	}
	w := min(p.w, 100)
	out := panel.Box(st, w, common.BaseName(s.Key), lines)
	_, verr := p.outcome()
	switch {
	case verr == nil || p.job.Cancelled():
	case errors.Is(verr, fault.ErrRefused):
		out += "\n" + p.job.FailedView(w, "Cannot read this object", "", []string{"Nothing is known about its checksum yet; give what the message asks for and check again."})
	case errors.Is(verr, fault.ErrProblems):
		out += "\n" + p.job.FailedView(w, "Checksum check failed", "", []string{"Do not restore from this object; pick an older point (p) or check the other chains."})
	default:
		out += "\n" + p.job.FailedView(w, "The store could not be read", "", []string{"Check the network path to the store and press c to check again."})
	}
	return out
}

func (p *Page) checksum() string {
	st := p.c.Styles
	verified, verr := p.outcome()
	switch {
	case p.job.State() == job.Cancelling:
		return st.Warn.Render("cancelling the check…")
	case p.job.Busy():
		last := p.job.Last
		return p.job.Spinner() + " checking… " + progressbar.Stats(last, last.Done, p.snap.Size, 0) + st.Muted.Render("  (esc cancels)")
	case verified != nil:
		return st.OK.Render("✓ verified") + fmt.Sprintf(": %s of content, sha256 %s…", common.Bytes(verified.Bytes), verified.SHA256[:min(16, len(verified.SHA256))])
	case verr != nil:
		if p.job.Cancelled() {
			return st.Warn.Render("check cancelled") + st.Muted.Render(" (press c to check again)")
		}
		if errors.Is(verr, fault.ErrProblems) {
			return st.Danger.Render("✗ failed (see below)")
		}
		return st.Warn.Render("not checked: see below")
	}
	return st.Muted.Render("not checked: press c to verify the sha256")
}

// encrypted is the encryption state, with what reading an encrypted object takes.
func (p *Page) encrypted() string {
	st := p.c.Styles
	switch {
	case !p.snap.Encrypted:
		return "no"
	case p.c.Decrypt != nil:
		return "yes (age)" + st.Muted.Render(" · read with the console's identity")
	}
	return "yes (age)" + st.Warn.Render(" · no identity: quit, start with --identity FILE")
}
