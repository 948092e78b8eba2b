package tui

import (
	"strings"
	"testing"

	"charm.land/bubbles/v2/spinner"
	tea "charm.land/bubbletea/v2"

	"github.com/etcd-dr/etcd-dr/tui/pages/catalog"
	restorepage "github.com/etcd-dr/etcd-dr/tui/pages/restore"
)

// splitTick takes the spinner's tick out of msgs (the messages of one update's commands).
func splitTick(t *testing.T, msgs []tea.Msg) (tick spinner.TickMsg, rest []tea.Msg) {
	t.Helper()
	found := false
	for _, msg := range msgs {
		if tm, ok := msg.(spinner.TickMsg); ok {
			tick, found = tm, true
			continue
		}
		rest = append(rest, msg)
	}
	if !found {
		t.Fatalf("no spinner tick among %#v", msgs)
	}
	return tick, rest
}

// A store row being read shows the spinner, which turns on its ticks while the read is under way and stops
// ticking on the message that ends the read (so an idle console does nothing, and Settle ends).
func TestSpinnerWhileStoreLoads(t *testing.T) {
	m := newModel(t, false, memStore(t, "etcdbr-v2", "spin-v2"))
	drive(m, tea.WindowSizeMsg{Width: 80, Height: 24})
	tick, rest := splitTick(t, run(m.Init()))
	mustContain(t, m, "| loading…", "| Reading mem://spin-v2")
	// The read is still under way: the tick moves the spinner on and asks for the next one.
	_, next := m.Update(tick)
	if next == nil {
		t.Fatal("the spinner stopped while the store was still being read")
	}
	mustContain(t, m, "/ loading…")
	drive(m, rest...) // the store's answer
	mustContain(t, m, "etcdbr-v2", "Restorable")
	if s := screen(m); strings.Contains(s, "loading…") {
		t.Fatalf("still loading after the answer:\n%s", s)
	}
	if _, next := m.Update(tick); next != nil || m.spinning {
		t.Fatal("the spinner kept ticking after the read ended")
	}
	// r reads every store again: the spinner turns again, beside "reading again…", until the answer.
	_, cmd := m.Update(key("r"))
	mustContain(t, m, "/ reading again…")
	tick, rest = splitTick(t, run(cmd))
	drive(m, rest...)
	if _, next := m.Update(tick); next != nil || m.spinning {
		t.Fatal("the spinner kept ticking after the reload ended")
	}
}

// The check a wizard waits for (the pick reads the base snapshot's revision before Restore opens) shows the
// spinner on the catalog's status line until it answers.
func TestSpinnerWhilePickChecks(t *testing.T) {
	m := newModel(t, false, memStore(t, "etcdbr-v2", "spin-pick"))
	start(m, 80, 24)
	drive(m, keys("enter", "down", "down")...)
	topIs[*catalog.Page](t, m)
	_, cmd := m.Update(key("R"))
	mustContain(t, m, "| checking v2/Full-")
	tick, rest := splitTick(t, run(cmd))
	drive(m, rest...)
	topIs[*restorepage.Page](t, m)
	if _, next := m.Update(tick); next != nil || m.spinning {
		t.Fatal("the spinner kept ticking after the check answered")
	}
}

// The object screen's checksum check shows the job's spinner on its Checksum line while it streams.
func TestSpinnerWhileObjectChecks(t *testing.T) {
	m := newModel(t, false, memStore(t, "etcdbr-v2", "spin-check"))
	start(m, 80, 24)
	drive(m, keys("enter", "down", "down", "enter")...)
	_, cmd := m.Update(key("c"))
	mustContain(t, m, "Checksum      | checking…")
	drive(m, run(cmd)...)
	mustContain(t, m, "✓ verified")
}
