// Package tuitest drives a console model the way a patient user would, for the tests of tui and of cmd (which
// compares the console with the CLI): every message, then every command it causes, until the screen settles.
package tuitest

import tea "charm.land/bubbletea/v2"

// Settle sends msgs to m one by one; after each it runs the commands it caused, synchronously, until none is
// left. Commands that wait for a job's next message run too: jobs always end.
func Settle(m tea.Model, msgs ...tea.Msg) {
	for _, msg := range msgs {
		queue := []tea.Msg{msg}
		for len(queue) > 0 {
			next := queue[0]
			queue = queue[1:]
			_, cmd := m.Update(next)
			queue = append(Run(cmd), queue...)
		}
	}
}

// Run runs cmd and returns the messages it produced (a batch flattened; quitting produces none).
func Run(cmd tea.Cmd) []tea.Msg {
	if cmd == nil {
		return nil
	}
	switch msg := cmd().(type) {
	case nil, tea.QuitMsg:
		return nil
	case tea.BatchMsg:
		var out []tea.Msg
		for _, c := range msg {
			out = append(out, Run(c)...)
		}
		return out
	default:
		return []tea.Msg{msg}
	}
}
