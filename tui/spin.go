package tui

import (
	"charm.land/bubbles/v2/spinner"
	tea "charm.land/bubbletea/v2"

	"github.com/etcd-dr/etcd-dr/tui/common"
)

// The shared spinner (common.Common.Spin) turns while a store is read or the top page waits for a read of its
// own, and stops on the message that ends the read: a tick finds nothing loading and does not renew itself. So
// the console is idle between reads, and tuitest.Settle, which runs every command at once, always ends (a load's
// message is queued before the tick that would renew).

// waiting reports whether anything the screens show is being read.
func (m *Model) waiting() bool {
	for _, s := range m.sources {
		if s.Loading {
			return true
		}
	}
	for _, p := range m.stack {
		if lp, ok := p.(livePage); ok {
			for _, s := range lp.LiveSources() {
				if s.Loading {
					return true // a cluster narrowed from a fleet root is a Source the root does not hold
				}
			}
		}
	}
	w, ok := m.top().(common.Waiter)
	return ok && w.Waiting()
}

// spin starts the spinner's ticks when something began to be read and none are under way. It goes last in the
// batch of the update that started the read, after the read's own command.
func (m *Model) spin() tea.Cmd {
	// Before Init the stores are marked loading but no read was issued: no message would stop the ticks.
	if m.spinning || !m.inited || !m.waiting() {
		return nil
	}
	m.spinning = true
	return m.c.Spin.Tick
}

// spinTick moves the spinner on while something is read; otherwise the ticks end here.
func (m *Model) spinTick(msg spinner.TickMsg) tea.Cmd {
	if !m.waiting() {
		m.spinning = false
		return nil
	}
	var cmd tea.Cmd
	m.c.Spin, cmd = m.c.Spin.Update(msg)
	return cmd
}
