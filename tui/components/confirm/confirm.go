// Package confirm is the typed confirmation of dangerous actions: the dialog states exactly what will happen,
// and the action runs only after the user types the word shown (k9s style).
package confirm

import (
	"strings"

	tea "charm.land/bubbletea/v2"

	"github.com/etcd-dr/etcd-dr/tui/common"
	"github.com/etcd-dr/etcd-dr/tui/styles"
)

// Model is a confirmation dialog.
type Model struct {
	Title string
	// Lines say exactly what will happen.
	Lines []string
	// Word must be typed to confirm.
	Word  string
	typed string
}

// New builds a dialog that asks for word.
func New(title, word string, lines []string) Model {
	return Model{Title: title, Word: word, Lines: lines}
}

// Result of a key press in the dialog.
type Result int

// Results of Update.
const (
	Pending Result = iota
	Confirmed
	Cancelled
)

// Update takes a key; enter confirms only when the typed word matches, esc cancels.
func (m *Model) Update(msg tea.KeyPressMsg) Result {
	switch msg.String() {
	case "esc", "ctrl+c":
		return Cancelled
	case "enter":
		if m.typed == m.Word {
			return Confirmed
		}
		return Pending
	case "backspace":
		if m.typed != "" {
			m.typed = m.typed[:len(m.typed)-1]
		}
		return Pending
	}
	if msg.Text != "" && len(m.typed) < 64 {
		m.typed += msg.Text
	}
	return Pending
}

// Typed is what the user typed so far.
func (m Model) Typed() string { return m.typed }

// View renders the dialog at width.
func (m Model) View(st styles.Styles, width int) string {
	inner := max(width-4, 10)
	var lines []string
	lines = append(lines, st.Danger.Render("⚠ "+m.Title), "")
	for _, l := range m.Lines {
		lines = append(lines, common.Wrap(l, inner)...)
	}
	match := st.Muted.Render("(enter confirms when it matches · esc cancels)")
	if m.typed == m.Word {
		match = st.OK.Render("(matches: press enter)")
	}
	lines = append(lines, "", "Type "+st.Value.Render(m.Word)+" to confirm: "+st.InputOn.Render(m.typed+"█"), match)
	return st.Dialog.Width(width).Render(strings.Join(lines, "\n"))
}
