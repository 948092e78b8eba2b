package common

import (
	"charm.land/bubbles/v2/spinner"

	"github.com/etcd-dr/etcd-dr/tui/styles"
)

// NewSpinner is the console's spinner: dots in colour, an ASCII line without (NO_COLOR terminals are often
// plain ones).
func NewSpinner(st styles.Styles) spinner.Model {
	sp := spinner.Line
	if !st.NoColor {
		sp = spinner.Dot
	}
	return spinner.New(spinner.WithSpinner(sp), spinner.WithStyle(st.Spinner))
}

// Waiter is a page that waits for a read of its own (a check before a wizard opens, heartbeats): the root
// spins the shared spinner while it waits, as it does while a store is read.
type Waiter interface {
	Waiting() bool
}

// Spinner is the shared spinner's frame, for a row or a line that is being read. The root advances it only
// while something is read (a store, or the top page's Waiting), so the console is idle otherwise.
func (c *Common) Spinner() string {
	if len(c.Spin.Spinner.Frames) == 0 {
		return "…" // a Common built without New's spinner (a page's own tests)
	}
	return c.Spin.View()
}
