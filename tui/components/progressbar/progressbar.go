// Package progressbar renders a progress line from engine progress updates: bar, amounts, rate and ETA.
// It is a pure render: the owner keeps the numbers.
package progressbar

import (
	"fmt"
	"strings"
	"time"

	"charm.land/lipgloss/v2"

	"github.com/etcd-dr/etcd-dr/engine/progress"
	"github.com/etcd-dr/etcd-dr/tui/styles"
)

// Bar draws fraction (0..1) as a bar of width cells with its percentage.
func Bar(st styles.Styles, fraction float64, width int) string {
	fraction = min(max(fraction, 0), 1)
	pct := fmt.Sprintf(" %3d%%", int(fraction*100))
	w := max(width-len(pct), 1)
	full := int(fraction * float64(w))
	fullS := strings.Repeat(string(st.BarFullCh), full)
	empS := strings.Repeat(string(st.BarEmpCh), w-full)
	if !st.NoColor {
		fullS = lipgloss.NewStyle().Foreground(st.BarFull).Render(fullS)
		empS = lipgloss.NewStyle().Foreground(st.BarEmpty).Render(empS)
	}
	return fullS + empS + pct
}

// Stats is "1.2 MiB of ~3.4 MiB · 20.1 MiB/s · ETA 3s" for an update, with total the expected amount (0 = unknown).
func Stats(u progress.Update, done, total int64, eta time.Duration) string {
	var b strings.Builder
	b.WriteString(progress.Amount(done, u.Unit))
	if total > 0 {
		b.WriteString(" of ~" + progress.Amount(total, u.Unit))
	}
	if u.Rate > 0 {
		b.WriteString(" · " + progress.Amount(int64(u.Rate), u.Unit) + "/s")
	}
	if eta > 0 {
		b.WriteString(" · ETA " + eta.Round(time.Second).String())
	}
	return b.String()
}
