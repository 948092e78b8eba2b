package tui

import (
	"strings"

	"charm.land/lipgloss/v2"

	"github.com/etcd-dr/etcd-dr/tui/common"
	"github.com/etcd-dr/etcd-dr/tui/keymap"
)

type helpGroup struct {
	title string
	bs    []keymap.Binding
}

// helpView is the help overlay, built from the key map data with bubbles' help view: this screen's actions,
// navigation, global keys. Two columns when the screen is wide enough.
func (m *Model) helpView(w int) string {
	st := m.c.Styles
	k := m.c.Keys
	left := []helpGroup{{"On this screen (" + m.top().Title() + ")", m.top().Bindings()}, {"Everywhere", k.Global()}}
	right := []helpGroup{{"Moving around", append(k.Navigation(), k.Filter, k.NextField, k.PrevField)}}
	var body string
	if w >= 76 {
		cw := w / 2
		body = lipgloss.JoinHorizontal(lipgloss.Top, m.helpColumn(left, cw-1)+" ", m.helpColumn(right, cw))
	} else {
		body = m.helpColumn(append(left, right...), w)
	}
	return st.Header.Render("Keys") + "\n" + body + "\n" + st.Muted.Render("Text fields take letters while focused: tab moves on, esc goes back.")
}

func (m *Model) helpColumn(groups []helpGroup, w int) string {
	st := m.c.Styles
	var lines []string
	for _, g := range groups {
		lines = append(lines, "", st.Value.Render(g.title))
		for _, l := range strings.Split(keymap.Full(st, g.bs), "\n") {
			lines = append(lines, common.Pad(" "+l, w))
		}
	}
	return strings.Join(lines, "\n")
}
