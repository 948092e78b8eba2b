package job

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/etcd-dr/etcd-dr/engine/progress"
	"github.com/etcd-dr/etcd-dr/tui/common"
	"github.com/etcd-dr/etcd-dr/tui/keymap"
	"github.com/etcd-dr/etcd-dr/tui/styles"
)

func newJob(t *testing.T) Model {
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	return New(&common.Common{Styles: styles.New(true), Keys: keymap.Default(), Now: time.Now, Ctx: ctx}, "restore", "the temporary directory is being removed")
}

// settle runs the job's commands until it is no longer busy.
func settle(t *testing.T, m *Model, cmd tea.Cmd) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for cmd != nil && time.Now().Before(deadline) {
		_, cmd = m.Update(cmd())
	}
	if m.Busy() {
		t.Fatalf("still %v", m.State())
	}
}

func press(s string) tea.KeyPressMsg {
	switch s {
	case "enter":
		return tea.KeyPressMsg{Code: tea.KeyEnter}
	case "esc":
		return tea.KeyPressMsg{Code: tea.KeyEscape}
	}
	return tea.KeyPressMsg{Code: []rune(s)[0], Text: s}
}

func TestStates(t *testing.T) {
	t.Run("confirm, run, progress, finish", func(t *testing.T) {
		m := newJob(t)
		if m.State() != Editing {
			t.Fatalf("starts %v", m.State())
		}
		m.Ask("Restore", "restore", []string{"what happens"}, func(ctx context.Context, r progress.Reporter) (any, error) {
			r.Report(progress.Update{Phase: "replay", Done: 5, Total: 10})
			return 42, nil
		})
		if m.State() != Confirming {
			t.Fatalf("after Ask: %v", m.State())
		}
		var cmd tea.Cmd
		for _, k := range []string{"r", "e", "s", "t", "enter"} { // the wrong word: enter does nothing
			_, cmd = m.Update(press(k))
		}
		if m.State() != Confirming || cmd != nil {
			t.Fatalf("a partial word started the job: %v", m.State())
		}
		for _, k := range []string{"o", "r", "e", "enter"} {
			_, cmd = m.Update(press(k))
		}
		if m.State() != Running || !m.Busy() {
			t.Fatalf("typed word: %v", m.State())
		}
		if v := ansi.Strip(m.RunningView(80, "replaying", m.Fraction(), "")); !strings.Contains(v, "esc or ctrl+c cancels") {
			t.Fatalf("running view:\n%s", v)
		}
		settle(t, &m, cmd)
		if m.State() != Finished || m.Value() != 42 || m.Last.Done != 5 || m.Fraction() != 0.5 {
			t.Fatalf("finished %v value %v last %+v", m.State(), m.Value(), m.Last)
		}
	})
	t.Run("esc in the confirmation goes back to editing", func(t *testing.T) {
		m := newJob(t)
		m.Ask("Restore", "restore", nil, func(context.Context, progress.Reporter) (any, error) { return nil, nil })
		m.Update(press("esc"))
		if m.State() != Editing {
			t.Fatalf("%v", m.State())
		}
	})
	t.Run("a failure ends in the error panel with what to do", func(t *testing.T) {
		m := newJob(t)
		cmd := m.Start(func(context.Context, progress.Reporter) (any, error) { return nil, errors.New("disk full at /x") })
		settle(t, &m, cmd)
		v := ansi.Strip(m.FailedView(80, "Restore did not run", "cancelled", []string{"free some space"}))
		if m.State() != Failed || m.Cancelled() || !strings.Contains(v, "disk full at /x") || !strings.Contains(v, "free some space") {
			t.Fatalf("%v:\n%s", m.State(), v)
		}
		m.Edit()
		if m.State() != Editing || m.Err() != nil {
			t.Fatalf("edit: %v %v", m.State(), m.Err())
		}
	})
}

// Cancel waits for the engine: the job stays Cancelling (keys do nothing) until the work has returned.
func TestCancelWaitsForTheWork(t *testing.T) {
	m := newJob(t)
	cleaned := make(chan struct{})
	release := make(chan struct{})
	cmd := m.Start(func(ctx context.Context, _ progress.Reporter) (any, error) {
		<-ctx.Done()
		<-release // cleaning up takes a while
		close(cleaned)
		return nil, ctx.Err()
	})
	m.Update(press("esc"))
	if m.State() != Cancelling || !m.Busy() {
		t.Fatalf("esc: %v", m.State())
	}
	if used, next := m.Update(press("enter")); !used || next != nil {
		t.Fatal("a key while cancelling was not swallowed")
	}
	if v := ansi.Strip(m.RunningView(80, "x", -1, "")); !strings.Contains(v, "cancelling… the temporary directory is being removed") {
		t.Fatalf("cancelling view:\n%s", v)
	}
	// Ticks keep coming while the work cleans up; the job is still Cancelling.
	for range 3 {
		_, cmd = m.Update(cmd())
		if m.State() != Cancelling {
			t.Fatalf("ended before the work returned: %v", m.State())
		}
	}
	close(release)
	settle(t, &m, cmd)
	<-cleaned
	if m.State() != Failed || !m.Cancelled() || m.CancelTooLate() {
		t.Fatalf("%v cancelled=%v", m.State(), m.Cancelled())
	}
	if v := ansi.Strip(m.FailedView(80, "t", "Restore cancelled.", nil)); v != "Restore cancelled." {
		t.Fatalf("cancelled view %q", v)
	}
}

// Work that finishes before the cancel reaches it is whole: Finished, and the page can say so.
func TestCancelTooLate(t *testing.T) {
	m := newJob(t)
	done := make(chan struct{})
	cmd := m.Start(func(context.Context, progress.Reporter) (any, error) {
		close(done)
		return "whole", nil
	})
	<-done
	m.Cancel()
	settle(t, &m, cmd)
	if m.State() != Finished || !m.CancelTooLate() || m.Value() != "whole" {
		t.Fatalf("%v too late=%v", m.State(), m.CancelTooLate())
	}
}

// Messages of another job are not this one's.
func TestOtherJobsMessages(t *testing.T) {
	m := newJob(t)
	release := make(chan struct{})
	cmd := m.Start(func(ctx context.Context, _ progress.Reporter) (any, error) { <-release; return nil, nil })
	if used, _ := m.Update(common.JobDoneMsg{ID: -1}); used || m.State() != Running {
		t.Fatal("another job's end was taken")
	}
	close(release)
	settle(t, &m, cmd)
}
