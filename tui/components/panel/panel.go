// Package panel renders boxed messages: the error panel (what failed and what to do) and info boxes.
package panel

import (
	"strings"

	"github.com/etcd-dr/etcd-dr/engine"
	"github.com/etcd-dr/etcd-dr/tui/common"
	"github.com/etcd-dr/etcd-dr/tui/styles"
)

// Error renders a danger box: a title, the error, and what to do, wrapped to width. Credentials in the error's
// text (a URL an SDK quoted, a secret parameter) are redacted as the CLI does: this is the last stop before
// the screen.
func Error(st styles.Styles, width int, title string, err error, todo []string) string {
	inner := max(width-4, 10)
	var lines []string
	lines = append(lines, st.Danger.Render("✗ "+common.Safe(engine.RedactText(title))))
	for _, l := range common.Wrap(common.Safe(engine.RedactText(err.Error())), inner) {
		lines = append(lines, l)
	}
	if len(todo) > 0 {
		lines = append(lines, "", st.Label.Render("What to do:"))
		for _, t := range todo {
			for _, l := range common.Wrap(t, inner) {
				lines = append(lines, l)
			}
		}
	}
	return st.Error.Width(width).Render(strings.Join(lines, "\n"))
}

// Box renders a titled box of lines.
func Box(st styles.Styles, width int, title string, lines []string) string {
	body := strings.Join(lines, "\n")
	if title != "" {
		body = st.Header.Render(title) + "\n" + body
	}
	return st.Panel.Width(width).Render(body)
}
