// Package textfield is a one-line text input: a label, a value with a cursor, a placeholder, an optional check.
// It is small on purpose (no clipboard, no suggestions): wizards need paths, versions and revisions.
package textfield

import (
	"unicode/utf8"

	tea "charm.land/bubbletea/v2"

	"github.com/etcd-dr/etcd-dr/tui/common"
	"github.com/etcd-dr/etcd-dr/tui/styles"
)

// Model is one input field.
type Model struct {
	Label       string
	Placeholder string
	Prompt      string
	value       []rune
	pos         int
	focused     bool
	// Check validates the value for display; "" means fine.
	Check func(string) string
}

// New returns a field with a label.
func New(label, placeholder string) Model {
	return Model{Label: label, Placeholder: placeholder}
}

// Value is the text.
func (m Model) Value() string { return string(m.value) }

// SetValue replaces the text and puts the cursor at its end.
func (m *Model) SetValue(s string) {
	m.value = []rune(s)
	m.pos = len(m.value)
}

// Focus gives the field the keyboard.
func (m *Model) Focus() { m.focused = true }

// Blur takes the keyboard away.
func (m *Model) Blur() { m.focused = false }

// Focused reports whether the field has the keyboard.
func (m Model) Focused() bool { return m.focused }

// Update edits the value for a key; it reports whether the key was used.
func (m *Model) Update(msg tea.Msg) bool {
	switch msg := msg.(type) {
	case tea.PasteMsg:
		m.insert(msg.Content)
		return true
	case tea.KeyPressMsg:
		switch msg.String() {
		case "backspace", "ctrl+h":
			if m.pos > 0 {
				m.value = append(m.value[:m.pos-1], m.value[m.pos:]...)
				m.pos--
			}
		case "delete", "ctrl+d":
			if m.pos < len(m.value) {
				m.value = append(m.value[:m.pos], m.value[m.pos+1:]...)
			}
		case "left", "ctrl+b":
			m.pos = max(m.pos-1, 0)
		case "right", "ctrl+f":
			m.pos = min(m.pos+1, len(m.value))
		case "home", "ctrl+a":
			m.pos = 0
		case "end", "ctrl+e":
			m.pos = len(m.value)
		case "ctrl+u":
			m.value, m.pos = m.value[m.pos:], 0
		case "ctrl+k":
			m.value = m.value[:m.pos]
		default:
			if msg.Text == "" || msg.Mod&(tea.ModCtrl|tea.ModAlt) != 0 {
				return false
			}
			m.insert(msg.Text)
		}
		return true
	}
	return false
}

func (m *Model) insert(s string) {
	if !utf8.ValidString(s) {
		return
	}
	rs := []rune(s)
	for _, r := range rs {
		if r < ' ' {
			return // no control characters (newlines from a paste)
		}
	}
	v := make([]rune, 0, len(m.value)+len(rs))
	v = append(v, m.value[:m.pos]...)
	v = append(v, rs...)
	v = append(v, m.value[m.pos:]...)
	m.value = v
	m.pos += len(rs)
}

// View renders "label  value" in width cells, with a block cursor when focused and the check's complaint after.
func (m Model) View(st styles.Styles, labelW, width int) string {
	label := common.Pad(m.Label, labelW)
	if m.focused {
		label = st.InputOn.Render(label)
	} else {
		label = st.InputOff.Render(label)
	}
	prompt := m.Prompt
	var val string
	switch {
	case len(m.value) == 0 && !m.focused:
		val = st.Muted.Render(m.Placeholder)
	case m.focused:
		before, at, after := string(m.value[:m.pos]), " ", ""
		if m.pos < len(m.value) {
			at, after = string(m.value[m.pos]), string(m.value[m.pos+1:])
		}
		val = before + st.Selected.Reverse(true).Render(at) + after
		if len(m.value) == 0 && m.Placeholder != "" {
			val += st.Muted.Render(" " + m.Placeholder)
		}
	default:
		val = st.Value.Render(string(m.value))
	}
	out := label + prompt + val
	if m.Check != nil {
		if why := m.Check(string(m.value)); why != "" {
			out += "  " + st.Danger.Render("✗ "+why)
		}
	}
	return common.Trunc(out, width)
}
