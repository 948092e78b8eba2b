// Package textfield is a labelled one-line input on bubbles' textinput: the label, the optional check and its
// complaint are ours; editing, the cursor and horizontal scrolling (in cells, so a long S3 URL keeps the cursor
// in view) are textinput's.
package textfield

import (
	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"

	"github.com/etcd-dr/etcd-dr/tui/common"
	"github.com/etcd-dr/etcd-dr/tui/styles"
)

// Model is one input field.
type Model struct {
	Label       string
	Placeholder string
	Prompt      string
	// Check validates the value for display; "" means fine.
	Check func(string) string
	in    textinput.Model
	// width is the input's width as last rendered: View has a value receiver, so it is shared through a
	// pointer, and Update scrolls with the width the screen really has.
	width *int
}

// New returns a field with a label.
func New(label, placeholder string) Model {
	in := textinput.New()
	in.Prompt = ""
	in.Placeholder = placeholder
	// A static cursor: a blinking one would keep the program busy with ticks for nothing.
	s := in.Styles()
	s.Cursor.Blink = false
	in.SetStyles(s)
	// Pastes arrive as the terminal's bracketed paste (tea.PasteMsg); ctrl+v would read a clipboard the
	// console on a remote shell does not have.
	in.KeyMap.Paste.SetEnabled(false)
	return Model{Label: label, Placeholder: placeholder, in: in, width: new(int)}
}

// Value is the text.
func (m Model) Value() string { return m.in.Value() }

// SetValue replaces the text and puts the cursor at its end.
func (m *Model) SetValue(s string) {
	m.in.SetValue(s)
	m.in.CursorEnd()
}

// Focus gives the field the keyboard.
func (m *Model) Focus() { m.in.Focus() }

// Blur takes the keyboard away.
func (m *Model) Blur() { m.in.Blur() }

// Focused reports whether the field has the keyboard.
func (m Model) Focused() bool { return m.in.Focused() }

// Position is the cursor's place in the value, in characters.
func (m Model) Position() int { return m.in.Position() }

// Update edits the value for a key or a paste; it reports whether the message was for the field. Keys with
// ctrl or alt that textinput does not bind stay with the page.
func (m *Model) Update(msg tea.Msg) bool {
	if !m.in.Focused() {
		return false
	}
	switch msg := msg.(type) {
	case tea.PasteMsg:
	case tea.KeyPressMsg:
		if !m.bound(msg) && (msg.Text == "" || msg.Mod&(tea.ModCtrl|tea.ModAlt) != 0) {
			return false
		}
	default:
		return false
	}
	if m.width != nil && *m.width > 0 {
		m.in.SetWidth(*m.width)
	}
	m.in, _ = m.in.Update(msg)
	return true
}

// bound reports whether msg is one of textinput's editing keys.
func (m *Model) bound(msg tea.KeyPressMsg) bool {
	k := m.in.KeyMap
	return key.Matches(msg, k.CharacterForward, k.CharacterBackward, k.WordForward, k.WordBackward,
		k.DeleteWordBackward, k.DeleteWordForward, k.DeleteAfterCursor, k.DeleteBeforeCursor, k.DeleteCharacterBackward,
		k.DeleteCharacterForward, k.LineStart, k.LineEnd)
}

// View renders "label  value" in width cells and the check's complaint after it; the value scrolls inside
// the room left so that the cursor stays visible.
func (m Model) View(st styles.Styles, labelW, width int) string {
	label := common.Pad(m.Label, labelW)
	if m.in.Focused() {
		label = st.InputOn.Render(label)
	} else {
		label = st.InputOff.Render(label)
	}
	complaint := ""
	if m.Check != nil {
		if why := m.Check(m.in.Value()); why != "" {
			complaint = "  " + st.Danger.Render("✗ "+why)
		}
	}
	// One cell stays for the cursor after the last character.
	room := max(width-labelW-lipgloss.Width(m.Prompt)-lipgloss.Width(complaint)-1, 4)
	if m.width != nil {
		*m.width = room
	}
	in := m.in
	in.SetStyles(inputStyles(st, in.Styles()))
	if in.Width() != room {
		in.SetWidth(room)
		in.SetCursor(in.Position())
	}
	val := in.View()
	if !in.Focused() && in.Value() != "" {
		val = st.Value.Render(in.Value())
	}
	return common.TrimLines(common.Trunc(label+m.Prompt+val+complaint, width))
}

// inputStyles takes the input's looks from the TUI's styles.
func inputStyles(st styles.Styles, s textinput.Styles) textinput.Styles {
	s.Focused.Placeholder, s.Blurred.Placeholder = st.Muted, st.Muted
	s.Focused.Text, s.Blurred.Text = lipgloss.NewStyle(), st.Value
	s.Focused.Prompt, s.Blurred.Prompt = lipgloss.NewStyle(), lipgloss.NewStyle()
	s.Cursor.Color = st.CursorColor
	s.Cursor.Blink = false
	return s
}
