// Package list is a cursor over n rows that shows only the rows that fit: pages render rows on demand, so a
// list of 10 000 objects costs one screenful per frame.
package list

import (
	"strings"

	tea "charm.land/bubbletea/v2"

	"github.com/etcd-dr/etcd-dr/tui/keymap"
)

// Model is the cursor and scroll position of a list.
type Model struct {
	n, cursor, offset int
	height            int
}

// SetLen sets the number of rows, keeping the cursor inside.
func (m *Model) SetLen(n int) {
	m.n = n
	m.clamp()
}

// Len is the number of rows.
func (m Model) Len() int { return m.n }

// SetHeight sets how many rows are visible.
func (m *Model) SetHeight(h int) {
	m.height = max(h, 1)
	m.clamp()
}

// Cursor is the selected row (0 when empty).
func (m Model) Cursor() int { return m.cursor }

// Select moves the cursor to row i.
func (m *Model) Select(i int) {
	m.cursor = i
	m.clamp()
}

// Update moves the cursor for navigation keys; it reports whether msg was one.
func (m *Model) Update(msg tea.KeyPressMsg, k keymap.KeyMap) bool {
	switch {
	case k.Up.Matches(msg):
		m.cursor--
	case k.Down.Matches(msg):
		m.cursor++
	case k.PageUp.Matches(msg):
		m.cursor -= m.height
	case k.PageDown.Matches(msg):
		m.cursor += m.height
	case k.Top.Matches(msg):
		m.cursor = 0
	case k.Bottom.Matches(msg):
		m.cursor = m.n - 1
	default:
		return false
	}
	m.clamp()
	return true
}

func (m *Model) clamp() {
	if m.height < 1 {
		m.height = 1
	}
	m.cursor = min(max(m.cursor, 0), max(m.n-1, 0))
	if m.cursor < m.offset {
		m.offset = m.cursor
	}
	if m.cursor >= m.offset+m.height {
		m.offset = m.cursor - m.height + 1
	}
	m.offset = min(max(m.offset, 0), max(m.n-m.height, 0))
}

// Visible returns the range [from, to) of rows on screen.
func (m Model) Visible() (from, to int) {
	return m.offset, min(m.offset+m.height, m.n)
}

// View renders the visible rows with render(i, selected), one line each, padded to the list height.
func (m Model) View(render func(i int, selected bool) string) string {
	from, to := m.Visible()
	var b strings.Builder
	for i := from; i < to; i++ {
		if i > from {
			b.WriteByte('\n')
		}
		b.WriteString(render(i, i == m.cursor))
	}
	for i := to - from; i < m.height; i++ {
		b.WriteByte('\n')
	}
	return b.String()
}

// Scrollbar returns a one-line position hint ("12-31 of 240") or "" when everything fits.
func (m Model) Scrollbar() string {
	if m.n <= m.height {
		return ""
	}
	from, to := m.Visible()
	return itoa(from+1) + "-" + itoa(to) + " of " + itoa(m.n)
}

func itoa(i int) string {
	if i == 0 {
		return "0"
	}
	var b [20]byte
	p := len(b)
	for i > 0 {
		p--
		b[p] = byte('0' + i%10)
		i /= 10
	}
	return string(b[p:])
}

// Height is the number of visible rows.
func (m Model) Height() int { return m.height }
