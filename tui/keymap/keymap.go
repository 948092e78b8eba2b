// Package keymap holds every key of the TUI as data: which keys, what they do, whether they are dangerous.
// Each binding is matched and shown as a bubbles key.Binding: the footer and the help overlay are bubbles' help
// views over the same bindings, so help can never drift from behaviour.
package keymap

import (
	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"github.com/etcd-dr/etcd-dr/tui/styles"
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

// Key is b as bubbles' key.Binding, with its footer description as help.
func (b Binding) Key() key.Binding {
	return key.NewBinding(key.WithKeys(b.Keys...), key.WithHelp(b.Help(), b.FooterDesc()))
}

// FullKey is b as the help overlay lists it, with its whole description.
func (b Binding) FullKey() key.Binding {
	return key.NewBinding(key.WithKeys(b.Keys...), key.WithHelp(b.Help(), b.Desc))
}

// dangerNote is the help overlay's row under a dangerous action.
var dangerNote = key.NewBinding(key.WithKeys(""), key.WithHelp("", "⚠ asks you to type a word"))

// Matches reports whether msg presses one of b's keys.
func (b Binding) Matches(msg tea.KeyPressMsg) bool {
	return key.Matches(msg, b.Key())
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

	Toggle, Pick, Download, Validate, Restore, Copy, Compact, Verify, Reload, Members Binding
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
		Copy:      Binding{Keys: []string{"y"}, Desc: "copy chains to another store", Short: "copy"},
		Compact:   Binding{Keys: []string{"C"}, Desc: "compact chain into a new full snapshot", Short: "compact", Dangerous: true},
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

// Help is bubbles' help view in the TUI's looks, width cells wide (0: no limit).
func Help(st styles.Styles, width int) help.Model {
	h := help.New()
	h.ShortSeparator, h.FullSeparator, h.Ellipsis = " · ", "  ", "…"
	h.Styles = help.Styles{
		Ellipsis: st.KeyDesc, ShortKey: st.Key, ShortDesc: st.KeyDesc, ShortSeparator: st.KeyDesc,
		FullKey: st.Key, FullDesc: st.KeyDesc, FullSeparator: st.KeyDesc,
	}
	h.SetWidth(width)
	return h
}

// Short renders bindings as a one-line hint, "enter open · / filter · ? help", cut (with …) to width cells.
func Short(st styles.Styles, width int, bs []Binding) string {
	ks := make([]key.Binding, 0, len(bs))
	for _, b := range bs {
		ks = append(ks, b.Key())
	}
	return Help(st, width).ShortHelpView(ks)
}

// Full renders bindings as the help overlay's column: one line per binding, keys then what they do.
func Full(st styles.Styles, bs []Binding) string {
	ks := make([]key.Binding, 0, len(bs))
	for _, b := range bs {
		ks = append(ks, b.FullKey())
		if b.Dangerous {
			ks = append(ks, dangerNote)
		}
	}
	return Help(st, 0).FullHelpView([][]key.Binding{ks})
}
