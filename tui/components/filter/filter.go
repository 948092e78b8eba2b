// Package filter is the "/" filter line of a list page: the filter key starts typing, each change narrows the
// list, enter or an arrow keeps the text and gives the keys back to the list, esc clears it. The rule lives here
// once; pages say only what a change means for their rows.
package filter

import (
	"strings"

	tea "charm.land/bubbletea/v2"

	"github.com/etcd-dr/etcd-dr/tui/components/textfield"
	"github.com/etcd-dr/etcd-dr/tui/styles"
)

// Model is a page's filter line.
type Model struct {
	field  textfield.Model
	typing bool
}

// New returns an empty filter that shows placeholder while nothing is typed.
func New(placeholder string) Model {
	return Model{field: textfield.New("/", placeholder)}
}

// Typing reports whether the filter has the keyboard (the page then captures every key).
func (m Model) Typing() bool { return m.typing }

// Shown reports whether the filter line replaces the page's summary: while typing, or while text narrows the list.
func (m Model) Shown() bool { return m.typing || m.field.Value() != "" }

// Query is what rows are matched against: the text, trimmed and lower-cased.
func (m Model) Query() string { return strings.ToLower(strings.TrimSpace(m.field.Value())) }

// Start gives the filter the keyboard.
func (m *Model) Start() {
	m.typing = true
	m.field.Focus()
}

// Clear empties a kept filter (esc on the list); it reports whether there was text to clear.
func (m *Model) Clear() bool {
	if m.field.Value() == "" {
		return false
	}
	m.field.SetValue("")
	return true
}

// Update takes a key or a paste while typing (the page gives it every message then): esc clears and leaves,
// enter or an arrow keeps the text and leaves, anything else edits. After a change it lays the page out again
// with refilter and, when the text changed, moves list to its first row (esc keeps the cursor on its row).
func (m *Model) Update(msg tea.Msg, refilter func(), list interface{ Select(int) }) {
	if !m.typing {
		return
	}
	if k, ok := msg.(tea.KeyPressMsg); ok {
		switch k.String() {
		case "esc":
			had := m.field.Value() != ""
			m.field.SetValue("")
			m.stop()
			if had {
				refilter()
			}
			return
		case "enter", "down", "up":
			m.stop()
			return
		}
	}
	before := m.field.Value()
	m.field.Update(msg)
	if m.field.Value() != before {
		refilter()
		list.Select(0)
	}
}

func (m *Model) stop() {
	m.field.Blur()
	m.typing = false
}

// View renders the filter line.
func (m Model) View(st styles.Styles, indent, width int) string {
	return m.field.View(st, indent, width)
}
