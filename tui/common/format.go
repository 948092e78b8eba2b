package common

import (
	"fmt"
	"path"
	"strings"
	"time"

	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/etcd-dr/etcd-dr/engine/progress"
	"github.com/etcd-dr/etcd-dr/engine/textsafe"
)

// Ago says how long ago t was, compactly ("just now", "42m ago", "5h ago", "3d ago"); "-" for a zero time.
func Ago(t, now time.Time) string {
	if t.IsZero() {
		return "-"
	}
	d := now.Sub(t)
	switch {
	case d < 0:
		return "in the future"
	case d < 5*time.Second:
		return "just now"
	case d < time.Minute:
		return fmt.Sprintf("%ds ago", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%dm ago", int(d.Minutes()))
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh ago", int(d.Hours()))
	}
	return fmt.Sprintf("%dd ago", int(d.Hours()/24))
}

// Stamp prints t as a short UTC time ("2025-11-23 12:14Z"), or "-".
func Stamp(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format("2006-01-02 15:04Z")
}

// Bytes prints a byte count in IEC units.
func Bytes(n int64) string { return progress.Bytes(n) }

// Trunc cuts s (which may hold ANSI styles) to w cells, with an ellipsis when cut.
func Trunc(s string, w int) string {
	if w <= 0 {
		return ""
	}
	if lipgloss.Width(s) <= w {
		return s
	}
	return ansi.Truncate(s, w, "…")
}

// Pad cuts or pads s to exactly w cells.
func Pad(s string, w int) string {
	s = Trunc(s, w)
	if n := lipgloss.Width(s); n < w {
		s += strings.Repeat(" ", w-n)
	}
	return s
}

// PadLeft right-aligns s in w cells.
func PadLeft(s string, w int) string {
	s = Trunc(s, w)
	if n := lipgloss.Width(s); n < w {
		s = strings.Repeat(" ", w-n) + s
	}
	return s
}

// Fit makes body exactly h lines of at most w cells (cut or padded with empty lines).
func Fit(body string, w, h int) string {
	lines := strings.Split(body, "\n")
	if len(lines) > h {
		lines = lines[:h]
	}
	for i, l := range lines {
		lines[i] = Trunc(l, w)
	}
	for len(lines) < h {
		lines = append(lines, "")
	}
	return strings.Join(lines, "\n")
}

// Wrap breaks s into lines of at most w cells.
func Wrap(s string, w int) []string {
	if w <= 0 {
		return []string{s}
	}
	return strings.Split(ansi.Wrap(s, w, " /-"), "\n")
}

// TruncLeft cuts plain text s to w cells from the left ("…stores/etcdbr-v2"): for URLs and paths, whose end
// tells them apart.
func TruncLeft(s string, w int) string {
	if w <= 0 {
		return ""
	}
	if lipgloss.Width(s) <= w {
		return s
	}
	return ansi.TruncateLeft(s, lipgloss.Width(s)-w+1, "…")
}

// Plural is "1 delta" / "3 deltas".
func Plural(n int, one, many string) string {
	if n == 1 {
		return fmt.Sprintf("%d %s", n, one)
	}
	return fmt.Sprintf("%d %s", n, many)
}

// Safe escapes control characters in text that came from a store or an error (object names, problems): data,
// never terminal sequences. Styling is applied after it.
func Safe(s string) string { return textsafe.Text(s) }

// BaseName is the last element of an object key, escaped for the screen.
func BaseName(key string) string { return textsafe.Name(path.Base(key)) }

// TrimLines drops the spaces a widget (bubbles' viewport, textinput) pads its lines with, so that a frame's
// text reads as written (copied from the terminal, compared in tests).
func TrimLines(s string) string {
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = strings.TrimRight(l, " ")
	}
	return strings.Join(lines, "\n")
}
