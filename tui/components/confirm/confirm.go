// Package confirm is the typed confirmation of dangerous actions: the dialog states exactly what will happen,
// and the action runs only after the user types the word shown (k9s style) into a text field (bubbles'
// textinput, so backspace takes away characters, not bytes).
package confirm

import (
	"strings"

	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"

	"github.com/etcd-dr/etcd-dr/tui/common"
	"github.com/etcd-dr/etcd-dr/tui/components/textfield"
	"github.com/etcd-dr/etcd-dr/tui/styles"
)

// Model is a confirmation dialog.
type Model struct {
	Title string
	// Lines say exactly what will happen.
	Lines []string
	// Word must be typed to confirm.
	Word  string
	typed textfield.Model
}

// New builds a dialog that asks for word.
func New(title, word string, lines []string) Model {
	m := Model{Title: title, Word: word, Lines: lines, typed: textfield.New("", "")}
	m.typed.Focus()
	return m
}

// Result of a key press in the dialog.
type Result int

// Results of Update.
const (
	Pending Result = iota
	Confirmed
	Cancelled
)

// Update takes a key or a paste; enter confirms only when the typed word matches, esc cancels.
func (m *Model) Update(msg tea.Msg) Result {
	if k, ok := msg.(tea.KeyPressMsg); ok {
		switch k.String() {
		case "esc", "ctrl+c":
			return Cancelled
		case "enter":
			if m.Typed() == m.Word {
				return Confirmed
			}
			return Pending
		}
	}
	m.typed.Update(msg)
	return Pending
}

// Typed is what the user typed so far.
func (m Model) Typed() string { return m.typed.Value() }

// View renders the dialog at width.
func (m Model) View(st styles.Styles, width int) string {
	inner := max(width-4, 10)
	var lines []string
	lines = append(lines, st.Danger.Render("⚠ "+m.Title), "")
	for _, l := range m.Lines {
		lines = append(lines, common.Wrap(l, inner)...)
	}
	match := st.Muted.Render("(enter confirms when it matches · esc cancels)")
	if m.Typed() == m.Word {
		match = st.OK.Render("(matches: press enter)")
	}
	ask := "Type " + st.Value.Render(m.Word) + " to confirm: "
	field := m.typed.View(st, 0, max(inner-lipgloss.Width(ask), 8))
	lines = append(lines, "", ask+field, match)
	return st.Dialog.Width(width).Render(strings.Join(lines, "\n"))
}
