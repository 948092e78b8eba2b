package filter

import (
	"testing"

	tea "charm.land/bubbletea/v2"
	"github.com/stretchr/testify/require"
)

type selection struct{ at int }

func (s *selection) Select(i int) { s.at = i }

func key(s string) tea.KeyPressMsg {
	switch s {
	case "esc":
		return tea.KeyPressMsg{Code: tea.KeyEscape}
	case "enter":
		return tea.KeyPressMsg{Code: tea.KeyEnter}
	}
	return tea.KeyPressMsg{Code: rune(s[0]), Text: s}
}

// Typing narrows and moves to the first row; enter keeps the text; esc on the list clears; esc while typing
// clears without moving the cursor.
func TestFilterLifecycle(t *testing.T) {
	f := New("filter")
	relayouts := 0
	sel := &selection{at: 7}
	refilter := func() { relayouts++ }

	f.Update(key("x"), refilter, sel)
	require.Equal(t, 0, relayouts, "keys before / are not the filter's")
	require.False(t, f.Shown())

	f.Start()
	require.True(t, f.Typing())
	f.Update(key("Z"), refilter, sel)
	require.Equal(t, 1, relayouts)
	require.Equal(t, 0, sel.at, "a change of text goes to the first match")
	require.Equal(t, "z", f.Query(), "the query is lower-cased")

	f.Update(key("enter"), refilter, sel)
	require.False(t, f.Typing())
	require.True(t, f.Shown(), "a kept filter still narrows the list")
	require.True(t, f.Clear())
	require.False(t, f.Clear(), "nothing left to clear")

	f.Start()
	f.Update(key("a"), refilter, sel)
	sel.at = 3
	f.Update(key("esc"), refilter, sel)
	require.Equal(t, 3, relayouts)
	require.Equal(t, 3, sel.at, "esc keeps the cursor on its row")
	require.False(t, f.Typing())
	require.Equal(t, "", f.Query())
}
