package textfield

import (
	"testing"

	tea "charm.land/bubbletea/v2"
	"github.com/stretchr/testify/require"
)

// The focus goes round the fields and the extra stop; keys edit only the focused field.
func TestFormFocus(t *testing.T) {
	f := NewForm(1, New("a", ""), New("b", ""))
	require.Equal(t, 0, f.Focused())
	require.True(t, f.Update(tea.KeyPressMsg{Code: 'x', Text: "x"}))
	f.Next()
	require.True(t, f.Update(tea.KeyPressMsg{Code: 'y', Text: "y"}))
	f.Next()
	require.False(t, f.OnField(), "the extra stop is not a field")
	require.False(t, f.Update(tea.KeyPressMsg{Code: 'z', Text: "z"}))
	f.Next()
	require.Equal(t, 0, f.Focused(), "from the last stop back to the first")
	f.Prev()
	require.Equal(t, 2, f.Focused())
	require.Equal(t, "x", f.Fields[0].Value())
	require.Equal(t, "y", f.Fields[1].Value())
	f.Blur()
	require.False(t, f.Fields[0].Focused() || f.Fields[1].Focused())
}
