// Package styles holds every lipgloss style the TUI uses; views take their looks from here and never pick colours.
package styles

import (
	"image/color"

	"charm.land/lipgloss/v2"
)

// Styles is the palette and text styles of the TUI.
type Styles struct {
	// NoColor is true when colours are off (NO_COLOR): meaning is then carried by text markers and reverse video only.
	NoColor bool

	App       lipgloss.Style
	Title     lipgloss.Style
	Crumb     lipgloss.Style
	Header    lipgloss.Style // column headers
	Selected  lipgloss.Style // the row under the cursor
	Muted     lipgloss.Style
	Label     lipgloss.Style
	Value     lipgloss.Style
	OK        lipgloss.Style
	Warn      lipgloss.Style
	Danger    lipgloss.Style // gaps, problems, errors: something is lost or refused
	Key       lipgloss.Style // a key in help and footer
	KeyDesc   lipgloss.Style
	Footer    lipgloss.Style
	Panel     lipgloss.Style // a bordered box
	Error     lipgloss.Style // the error panel's box
	Dialog    lipgloss.Style // a confirmation dialog
	InputOn   lipgloss.Style // a focused input's label
	InputOff  lipgloss.Style
	BarFull   color.Color
	BarEmpty  color.Color
	BarFullCh rune
	BarEmpCh  rune
	// CursorColor colours a text field's cursor cell (shown in reverse video; nil without colours).
	CursorColor color.Color
	// Spinner styles the spinner of running work.
	Spinner lipgloss.Style
}

var (
	accent = lipgloss.Color("#7D56F4")
	green  = lipgloss.Color("#3FB950")
	yellow = lipgloss.Color("#D29922")
	red    = lipgloss.Color("#F85149")
	grey   = lipgloss.Color("#8B949E")
	light  = lipgloss.Color("#E6EDF3")
	dimBg  = lipgloss.Color("#30363D")
)

// New returns the styles; noColor drops every colour (https://no-color.org) and keeps bold/reverse.
func New(noColor bool) Styles {
	if noColor {
		plain := lipgloss.NewStyle()
		return Styles{
			NoColor:   true,
			App:       plain,
			Title:     plain.Bold(true),
			Crumb:     plain,
			Header:    plain.Bold(true),
			Selected:  plain.Reverse(true),
			Muted:     plain,
			Label:     plain,
			Value:     plain.Bold(true),
			OK:        plain,
			Warn:      plain.Bold(true),
			Danger:    plain.Bold(true),
			Key:       plain.Bold(true),
			KeyDesc:   plain,
			Footer:    plain,
			Panel:     plain.Border(lipgloss.NormalBorder()).Padding(0, 1),
			Error:     plain.Border(lipgloss.DoubleBorder()).Padding(0, 1),
			Dialog:    plain.Border(lipgloss.DoubleBorder()).Padding(0, 1),
			InputOn:   plain.Bold(true),
			InputOff:  plain,
			BarFull:   nil,
			BarEmpty:  nil,
			BarFullCh: '#',
			BarEmpCh:  '.',
			Spinner:   plain,
		}
	}
	s := lipgloss.NewStyle()
	return Styles{
		App:         s,
		Title:       s.Bold(true).Foreground(light).Background(accent).Padding(0, 1),
		Crumb:       s.Foreground(grey),
		Header:      s.Bold(true).Foreground(grey),
		Selected:    s.Bold(true).Foreground(light).Background(dimBg),
		Muted:       s.Foreground(grey),
		Label:       s.Foreground(grey),
		Value:       s.Foreground(light),
		OK:          s.Foreground(green),
		Warn:        s.Foreground(yellow),
		Danger:      s.Bold(true).Foreground(red),
		Key:         s.Bold(true).Foreground(accent),
		KeyDesc:     s.Foreground(grey),
		Footer:      s.Foreground(grey),
		Panel:       s.Border(lipgloss.RoundedBorder()).BorderForeground(grey).Padding(0, 1),
		Error:       s.Border(lipgloss.RoundedBorder()).BorderForeground(red).Padding(0, 1),
		Dialog:      s.Border(lipgloss.ThickBorder()).BorderForeground(red).Padding(0, 1),
		InputOn:     s.Bold(true).Foreground(accent),
		InputOff:    s.Foreground(grey),
		BarFull:     accent,
		BarEmpty:    dimBg,
		BarFullCh:   '█',
		BarEmpCh:    '░',
		CursorColor: light,
		Spinner:     s.Foreground(accent),
	}
}
