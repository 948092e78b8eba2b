package tui

import (
	"testing"

	tea "charm.land/bubbletea/v2"

	"github.com/etcd-dr/etcd-dr/tui/components/confirm"
	"github.com/etcd-dr/etcd-dr/tui/components/list"
	"github.com/etcd-dr/etcd-dr/tui/components/textfield"
	"github.com/etcd-dr/etcd-dr/tui/keymap"
)

func TestListCursor(t *testing.T) {
	k := keymap.Default()
	tests := []struct {
		name       string
		n, h       int
		keys       []string
		cursor     int
		from, to   int
		scrollHint string
	}{
		{"empty list stays at 0", 0, 5, []string{"down", "G"}, 0, 0, 0, ""},
		{"down moves", 10, 5, []string{"down", "j"}, 2, 0, 5, "1-5 of 10"},
		{"up at the top stays", 10, 5, []string{"up", "k"}, 0, 0, 5, "1-5 of 10"},
		{"bottom scrolls", 10, 5, []string{"G"}, 9, 5, 10, "6-10 of 10"},
		{"page down then up keeps the cursor on screen", 30, 5, []string{"pgdown", "pgdown", "pgup"}, 5, 5, 10, "6-10 of 30"},
		{"past the end clamps", 3, 5, []string{"pgdown", "pgdown"}, 2, 0, 3, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var l list.Model
			l.SetLen(tc.n)
			l.SetHeight(tc.h)
			for _, s := range tc.keys {
				l.Update(key(s), k)
			}
			from, to := l.Visible()
			if l.Cursor() != tc.cursor || from != tc.from || to != tc.to || l.Scrollbar() != tc.scrollHint {
				t.Fatalf("cursor %d [%d,%d) %q; want %d [%d,%d) %q", l.Cursor(), from, to, l.Scrollbar(), tc.cursor, tc.from, tc.to, tc.scrollHint)
			}
		})
	}
}

func TestTextField(t *testing.T) {
	tests := []struct {
		name string
		msgs []tea.Msg
		want string
	}{
		{"typing", typeText("3.6.4"), "3.6.4"},
		{"backspace", append(typeText("12345"), key("backspace")), "1234"},
		{"ctrl+u clears before the cursor", append(typeText("/tmp/x"), key("ctrl+u")), ""},
		{"insert in the middle", append(typeText("ac"), tea.KeyPressMsg{Code: tea.KeyLeft}, key("b")), "abc"},
		{"paste", []tea.Msg{tea.PasteMsg{Content: "/var/lib/etcd"}}, "/var/lib/etcd"},
		{"a pasted newline becomes a space", []tea.Msg{tea.PasteMsg{Content: "a\nb"}}, "a b"},
		{"backspace removes a character, not a byte", append(typeText("3.6é"), key("backspace")), "3.6"},
		{"ctrl keys are not text", []tea.Msg{tea.KeyPressMsg{Code: 'x', Mod: tea.ModCtrl}}, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := textfield.New("label", "placeholder")
			f.Focus()
			for _, m := range tc.msgs {
				f.Update(m)
			}
			if f.Value() != tc.want {
				t.Fatalf("value %q, want %q", f.Value(), tc.want)
			}
		})
	}
}

func TestConfirmNeedsTheWord(t *testing.T) {
	d := confirm.New("Restore", "restore", []string{"what will happen"})
	for _, k := range typeText("restor") {
		if d.Update(k.(tea.KeyPressMsg)) != confirm.Pending {
			t.Fatal("decided before the word was typed")
		}
	}
	if d.Update(key("enter")) != confirm.Pending {
		t.Fatal("enter confirmed a partial word")
	}
	d.Update(key("e"))
	d.Update(key("x"))
	if d.Update(key("enter")) != confirm.Pending {
		t.Fatal("enter confirmed a wrong word")
	}
	d.Update(key("backspace"))
	if d.Update(key("enter")) != confirm.Confirmed {
		t.Fatalf("typed %q: not confirmed", d.Typed())
	}
	d2 := confirm.New("x", "restore", nil)
	if d2.Update(key("esc")) != confirm.Cancelled {
		t.Fatal("esc did not cancel")
	}
}
