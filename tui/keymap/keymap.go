// Package keymap holds every key of the TUI as data: which keys, what they do, whether they are dangerous.
// The footer and the help overlay are built from the same bindings, so help can never drift from behaviour.
package keymap

import (
	"strings"

	tea "charm.land/bubbletea/v2"
)

// Binding is one action and the keys that trigger it.
type Binding struct {
	// Keys are matched against tea.KeyPressMsg.String() ("up", "k", "ctrl+c", "space", "?").
	Keys []string
	// Label is how the keys are shown ("↑/k"); empty means the first key.
	Label string
	// Desc says what the action does, in a few words.
	Desc string
	// Short is the description in the footer, where room is scarce (default Desc).
	Short string
	// Dangerous actions change things outside etcd-dr (a restore) and always go through a typed confirmation.
	Dangerous bool
}

// Matches reports whether msg presses one of b's keys.
func (b Binding) Matches(msg tea.KeyPressMsg) bool {
	s := msg.String()
	for _, k := range b.Keys {
		if k == s {
			return true
		}
	}
	return false
}

// FooterDesc is the footer's description of b.
func (b Binding) FooterDesc() string {
	if b.Short != "" {
		return b.Short
	}
	return b.Desc
}

// Help returns the label shown for b.
func (b Binding) Help() string {
	if b.Label != "" {
		return b.Label
	}
	if len(b.Keys) == 0 {
		return ""
	}
	return b.Keys[0]
}

// KeyMap is every binding of the TUI. Pages pick the page-specific ones they offer.
type KeyMap struct {
	Up, Down, PageUp, PageDown, Top, Bottom Binding
	Enter, Back, Filter, Help, Quit, Cancel Binding
	NextField, PrevField                    Binding

	Toggle, Pick, Download, Validate, Restore, Verify, Reload, Members Binding
}

// Default is the key map of etcd-dr.
func Default() KeyMap {
	return KeyMap{
		Up:        Binding{Keys: []string{"up", "k"}, Label: "↑/k", Desc: "up"},
		Down:      Binding{Keys: []string{"down", "j"}, Label: "↓/j", Desc: "down"},
		PageUp:    Binding{Keys: []string{"pgup", "ctrl+u"}, Label: "pgup", Desc: "page up"},
		PageDown:  Binding{Keys: []string{"pgdown", "ctrl+d"}, Label: "pgdn", Desc: "page down"},
		Top:       Binding{Keys: []string{"home", "g"}, Label: "g/home", Desc: "first"},
		Bottom:    Binding{Keys: []string{"end", "G"}, Label: "G/end", Desc: "last"},
		Enter:     Binding{Keys: []string{"enter"}, Desc: "open / run"},
		Back:      Binding{Keys: []string{"esc"}, Desc: "back"},
		Filter:    Binding{Keys: []string{"/"}, Desc: "filter"},
		Help:      Binding{Keys: []string{"?", "f1"}, Label: "?/f1", Desc: "help"},
		Quit:      Binding{Keys: []string{"q"}, Desc: "quit"},
		Cancel:    Binding{Keys: []string{"ctrl+c"}, Desc: "cancel work, else quit"},
		NextField: Binding{Keys: []string{"tab"}, Desc: "next field"},
		PrevField: Binding{Keys: []string{"shift+tab"}, Desc: "previous field"},
		Toggle:    Binding{Keys: []string{"space"}, Desc: "fold/unfold chain", Short: "fold"},
		Pick:      Binding{Keys: []string{"p"}, Desc: "pick a restore point", Short: "pick"},
		Download:  Binding{Keys: []string{"d"}, Desc: "download"},
		Validate:  Binding{Keys: []string{"v"}, Desc: "validate"},
		Restore:   Binding{Keys: []string{"R"}, Desc: "restore (new data dir)", Short: "restore", Dangerous: true},
		Verify:    Binding{Keys: []string{"c"}, Desc: "check the checksum", Short: "check sha256"},
		Members:   Binding{Keys: []string{"m"}, Desc: "members and etcd status", Short: "members"},
		Reload:    Binding{Keys: []string{"r"}, Desc: "reload from the store", Short: "reload"},
	}
}

// Navigation returns the bindings every list shares.
func (k KeyMap) Navigation() []Binding {
	return []Binding{k.Up, k.Down, k.PageUp, k.PageDown, k.Top, k.Bottom}
}

// Global returns the bindings that work on every screen.
func (k KeyMap) Global() []Binding {
	return []Binding{k.Enter, k.Back, k.Help, k.Quit, k.Cancel}
}

// Short renders bindings as a one-line hint: "enter open · / filter · ? help".
func Short(bs []Binding, key, desc func(...string) string) string {
	parts := make([]string, 0, len(bs))
	for _, b := range bs {
		parts = append(parts, key(b.Help())+" "+desc(b.FooterDesc()))
	}
	return strings.Join(parts, desc(" · "))
}
