// Package members is the Members screen: the backup members' heartbeats from the store (role, last snapshot,
// staleness) and, with --endpoints, the live etcd cluster (leader, raft term and index, revision, db size, alarms,
// health), refreshed every few seconds.
package members

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/etcd-dr/etcd-dr/engine/catalog"
	"github.com/etcd-dr/etcd-dr/engine/heartbeat"
	"github.com/etcd-dr/etcd-dr/engine/status"
	"github.com/etcd-dr/etcd-dr/tui/common"
	"github.com/etcd-dr/etcd-dr/tui/keymap"
)

// Page is the Members screen of one store.
type Page struct {
	c   *common.Common
	src *common.Source
	id  int64
	// from the store
	beats    []heartbeat.Seen
	problems []catalog.Problem
	beatsErr error
	// from etcd
	cluster    *status.Cluster
	clusterErr error
	loading    int
	refreshed  time.Time
	w, h       int
}

var ids atomic.Int64

type beatsMsg struct {
	id       int64
	beats    []heartbeat.Seen
	problems []catalog.Problem
	err      error
}

type clusterMsg struct {
	id      int64
	cluster *status.Cluster
	err     error
}

type tickMsg struct{ id int64 }

// New builds the page for src.
func New(c *common.Common, src *common.Source) *Page {
	return &Page{c: c, src: src, id: ids.Add(1)}
}

// LiveSources is the store whose heartbeats are shown: the root lists it again every --refresh while this
// page is on top, so that a daemon that starts writing heartbeats meanwhile appears (the page's own loop reads
// the heartbeats of the daemons listed, and the etcd cluster, every --refresh).
func (p *Page) LiveSources() []*common.Source { return []*common.Source{p.src} }

func (p *Page) Title() string   { return "Members" }
func (p *Page) Capturing() bool { return false }
func (p *Page) Busy() bool      { return false }

// Waiting is true while heartbeats or the cluster are being read (the root spins the spinner).
func (p *Page) Waiting() bool    { return p.loading > 0 }
func (p *Page) SetSize(w, h int) { p.w, p.h = w, h }

func (p *Page) Bindings() []keymap.Binding {
	return []keymap.Binding{p.c.Keys.Reload, {Keys: []string{"esc"}, Desc: "back"}}
}

func (p *Page) Init() tea.Cmd { return p.refresh() }

// refresh reads heartbeats and the cluster in commands of their own; each answer comes back as a message.
func (p *Page) refresh() tea.Cmd {
	if p.loading > 0 {
		return nil
	}
	id, ctx, now := p.id, p.c.Ctx, p.c.Now()
	var cmds []tea.Cmd
	if repo := p.src.Repo; repo != nil {
		p.loading++
		cmds = append(cmds, func() tea.Msg {
			ctx, cancel := context.WithTimeout(ctx, common.LoadTimeout)
			defer cancel()
			beats, problems := repo.Heartbeats(ctx, now)
			return beatsMsg{id: id, beats: beats, problems: problems, err: ctx.Err()}
		})
	}
	if cs := p.c.Cluster; cs != nil {
		p.loading++
		cmds = append(cmds, func() tea.Msg {
			ctx, cancel := context.WithTimeout(ctx, common.LoadTimeout)
			defer cancel()
			cl, err := cs.Status(ctx)
			return clusterMsg{id: id, cluster: cl, err: err}
		})
	}
	return tea.Batch(cmds...)
}

func (p *Page) Update(msg tea.Msg) (common.Page, tea.Cmd) {
	switch msg := msg.(type) {
	case beatsMsg:
		if msg.id == p.id {
			p.beats, p.problems, p.beatsErr = msg.beats, msg.problems, msg.err
			return p, p.answered()
		}
	case clusterMsg:
		if msg.id == p.id {
			p.cluster, p.clusterErr = msg.cluster, msg.err
			return p, p.answered()
		}
	case tickMsg:
		if msg.id == p.id {
			return p, p.refresh()
		}
	case tea.KeyPressMsg:
		k := p.c.Keys
		switch {
		case k.Back.Matches(msg):
			p.id = ids.Add(1) // stops this page's refresh loop
			return p, p.c.Pop()
		case k.Reload.Matches(msg):
			return p, p.refresh()
		}
	}
	return p, nil
}

// answered counts an answer in; after the last one of a round it schedules the next round.
func (p *Page) answered() tea.Cmd {
	p.loading = max(p.loading-1, 0)
	if p.loading > 0 {
		return nil
	}
	p.refreshed = p.c.Now()
	if p.c.Refresh <= 0 {
		return nil
	}
	id := p.id
	return tea.Tick(p.c.Refresh, func(time.Time) tea.Msg { return tickMsg{id: id} })
}

func (p *Page) View() string {
	st := p.c.Styles
	now := p.c.Now()
	var b []string
	title := "Backup members · heartbeats in "
	title += common.TruncLeft(p.src.Shown()+"/"+catalog.MembersDir+"/", max(p.w-len(title), 10))
	b = append(b, st.Header.Render(title))
	switch {
	case p.beatsErr != nil:
		b = append(b, st.Danger.Render("✗ cannot read heartbeats: "+common.Safe(p.beatsErr.Error())))
	case p.beats == nil && p.loading > 0:
		b = append(b, p.c.Spinner()+st.Muted.Render(" reading…"))
	case len(p.beats) == 0:
		b = append(b, st.Muted.Render("none: no etcd-dr daemon writes heartbeats to this store (etcd-dr --daemon does)"))
	default:
		b = append(b, st.Label.Render(fmt.Sprintf("%-14s %-9s %-24s %s", "NAME", "ROLE", "LAST SNAPSHOT", "HEARTBEAT")))
		for _, s := range p.beats {
			snap := "-"
			if s.LastSnapshotRevision > 0 {
				snap = fmt.Sprintf("rev %d · %s", s.LastSnapshotRevision, common.Ago(s.LastSnapshotTime, now))
			}
			line := fmt.Sprintf("%-14s %-9s %-24s %s", common.Trunc(s.Name, 14), s.Role, snap, common.Ago(s.Time, now))
			switch {
			case s.Stale:
				b = append(b, st.Danger.Render(common.Trunc(line+"  ✗ STALE", p.w)))
			case s.Role == heartbeat.Unknown:
				b = append(b, st.Warn.Render(common.Trunc(line+"  ⚠", p.w)))
			default:
				b = append(b, common.Trunc(line, p.w))
			}
			if s.Why != "" || s.Stale {
				why := s.Why
				if s.Stale {
					why = strings.TrimPrefix(why+"; ", "; ") + "stale: the daemon stopped writing heartbeats"
				}
				b = append(b, st.Muted.Render(common.Trunc("    "+why, p.w)))
			}
		}
	}
	for _, pr := range p.problems {
		b = append(b, st.Danger.Render(common.Trunc(common.Safe("✗ "+pr.Object+": "+pr.What), p.w)))
	}
	b = append(b, "")
	b = append(b, p.clusterView()...)
	if !p.refreshed.IsZero() {
		every := "r reads again"
		if p.c.Refresh > 0 {
			every = fmt.Sprintf("every %s · r now", p.c.Refresh)
		}
		b = append(b, "", st.Muted.Render(fmt.Sprintf("refreshed %s · %s", p.refreshed.UTC().Format("15:04:05Z"), every)))
	}
	return strings.Join(b, "\n")
}

func (p *Page) clusterView() []string {
	st := p.c.Styles
	if p.c.Cluster == nil {
		out := []string{st.Header.Render("etcd cluster")}
		for _, l := range common.Wrap("not asked: start etcd-dr with --endpoints https://host:2379 (and --cacert, --cert, --key) to see the leader, raft term and index, revision, db size, alarms and health here.", p.w) {
			out = append(out, st.Muted.Render(l))
		}
		return out
	}
	head := "etcd cluster"
	asked := st.Muted.Render(common.Trunc("asked: "+strings.Join(p.c.Cluster.Endpoints(), ","), p.w))
	switch {
	case p.clusterErr != nil:
		return []string{st.Header.Render(head), asked, st.Danger.Render(common.Trunc("✗ "+p.clusterErr.Error(), p.w)),
			st.Muted.Render("Check --endpoints and the TLS flags; r retries.")}
	case p.cluster == nil:
		return []string{st.Header.Render(head), asked, st.Muted.Render("asking…")}
	}
	cl := p.cluster
	leader := "no leader"
	if l := cl.LeaderMember(); l != nil {
		leader = "leader " + l.Name
	}
	head += fmt.Sprintf(" · %s · %d/%d answered", leader, cl.Answered(), len(cl.Members))
	hs := st.Header
	if cl.LeaderMember() == nil || cl.Answered()*2 <= len(cl.Members) {
		hs = st.Danger
	}
	out := []string{hs.Render(common.Trunc(head, p.w)), asked,
		st.Label.Render(fmt.Sprintf("%-12s %-8s %5s %9s %9s %-17s %-7s %s", "NAME", "STATE", "TERM", "INDEX", "REV", "DB (IN USE)", "VERSION", "ALARMS"))}
	for _, m := range cl.Members {
		name := m.Name
		if m.Leader {
			name += " ★"
		}
		if !m.Up {
			out = append(out, st.Danger.Render(common.Trunc(fmt.Sprintf("%-12s down: %s", common.Trunc(name, 12), m.Error), p.w)))
			continue
		}
		state := "healthy"
		if !m.Healthy {
			state = "UNHEALTHY"
		}
		alarms := "-"
		if len(m.Alarms) > 0 {
			alarms = strings.Join(m.Alarms, ",")
		}
		db := fmt.Sprintf("%s (%s)", common.Bytes(m.DBSize), common.Bytes(m.DBSizeInUse))
		line := fmt.Sprintf("%-12s %-8s %5d %9d %9d %-17s %-7s %s", common.Trunc(name, 12), state, m.RaftTerm, m.RaftIndex, m.Revision, db, m.Version, alarms)
		if !m.Healthy || len(m.Alarms) > 0 {
			line = st.Danger.Render(common.Trunc(line, p.w))
			if m.Error != "" {
				line += "\n" + st.Danger.Render(common.Trunc("  "+m.Error, p.w))
			}
			out = append(out, line)
			continue
		}
		out = append(out, common.Trunc(line, p.w))
	}
	for _, pr := range cl.Problems {
		out = append(out, st.Danger.Render(common.Trunc("✗ "+pr, p.w)))
	}
	return out
}
