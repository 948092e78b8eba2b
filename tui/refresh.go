package tui

import (
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/etcd-dr/etcd-dr/engine"
	"github.com/etcd-dr/etcd-dr/tui/common"
)

// Live data: while a screen that shows stores is on top (Stores, Fleet, Catalog, Members), the stores it shows
// are read again every Config.Refresh, so backups a daemon stores meanwhile appear without a key press.

// livePage is a page whose stores are read again on every refresh tick while it is on top.
type livePage interface {
	LiveSources() []*common.Source
}

// refreshMsg is the root's refresh tick (one loop, started by Init).
type refreshMsg struct{}

// refreshTick schedules the next refresh (none when Refresh is off).
func (m *Model) refreshTick() tea.Cmd {
	if m.c.Refresh <= 0 {
		return nil
	}
	return tea.Tick(m.c.Refresh, func(time.Time) tea.Msg { return refreshMsg{} })
}

// refresh reads again the stores the top page shows (those not being read already) and schedules the next tick.
func (m *Model) refresh() tea.Cmd {
	cmds := []tea.Cmd{m.refreshTick()}
	m.closeRetired()
	if lp, ok := m.top().(livePage); ok && !m.quitting {
		for _, s := range lp.LiveSources() {
			cmds = append(cmds, s.Reload(m.c.Ctx, m.c.Decrypt))
		}
	}
	return tea.Batch(cmds...)
}

// retired is a Repo replaced by a newer read. Work started on it (a download, a heartbeat read) may still be
// using it, so it is closed only once no page is busy and every command that could hold it has timed out.
type retired struct {
	repo *engine.Repo
	at   time.Time
}

// retire puts repo aside to be closed later (closeRetired, or at quit).
func (m *Model) retire(repo *engine.Repo) {
	if repo != nil {
		m.retired = append(m.retired, retired{repo: repo, at: time.Now()})
	}
}

// closeRetired closes the retired Repos that nothing can be using any more.
func (m *Model) closeRetired() {
	for _, p := range m.stack {
		if p.Busy() {
			return
		}
	}
	keep := m.retired[:0]
	for _, r := range m.retired {
		if time.Since(r.at) > common.LoadTimeout {
			r.repo.Close()
			continue
		}
		keep = append(keep, r)
	}
	m.retired = keep
}

// closeAll closes every Repo, current and retired (at quit).
func (m *Model) closeAll() {
	for _, s := range m.sources {
		if s.Repo != nil {
			s.Repo.Close()
		}
	}
	for _, r := range m.retired {
		r.repo.Close()
	}
	m.retired = nil
}
