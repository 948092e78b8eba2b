// Package progressbar is the TUI's progress bar: bubbles' progress in the TUI's looks, plus the line of amounts,
// rate and ETA under it. The owner keeps the numbers; a bar is drawn with ViewAs, never animated, so a frame
// shows exactly the progress the engine reported.
package progressbar

import (
	"strings"
	"time"

	"charm.land/bubbles/v2/progress"

	engprogress "github.com/etcd-dr/etcd-dr/engine/progress"
	"github.com/etcd-dr/etcd-dr/tui/styles"
)

// New is a bar of width cells (percentage included) in st's looks.
func New(st styles.Styles, width int) progress.Model {
	m := progress.New(progress.WithWidth(max(width, 8)), progress.WithFillCharacters(st.BarFullCh, st.BarEmpCh))
	m.FullColor, m.EmptyColor = st.BarFull, st.BarEmpty
	return m
}

// Bar draws fraction (0..1) as a bar of width cells with its percentage.
func Bar(st styles.Styles, fraction float64, width int) string {
	return New(st, width).ViewAs(min(max(fraction, 0), 1))
}

// Stats is "1.2 MiB of ~3.4 MiB · 20.1 MiB/s · ETA 3s" for an update, with total the expected amount (0 = unknown).
func Stats(u engprogress.Update, done, total int64, eta time.Duration) string {
	var b strings.Builder
	b.WriteString(engprogress.Amount(done, u.Unit))
	if total > 0 {
		b.WriteString(" of ~" + engprogress.Amount(total, u.Unit))
	}
	if u.Rate > 0 {
		b.WriteString(" · " + engprogress.Amount(int64(u.Rate), u.Unit) + "/s")
	}
	if eta > 0 {
		b.WriteString(" · ETA " + eta.Round(time.Second).String())
	}
	return b.String()
}
