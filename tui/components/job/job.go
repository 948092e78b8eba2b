// Package job is the one lifecycle of long work in the console, embedded by every wizard: editing → (confirming,
// for dangerous work) → running (spinner, progress, cancel) → cancelling → finished or failed (an error panel
// that says what to do). The page owns its form and its result view; the job owns the states, the engine call
// off the UI goroutine, cancel-and-wait, and the running and failure views, so the wizards cannot drift apart.
package job

import (
	"context"
	"errors"
	"strings"

	"charm.land/bubbles/v2/spinner"
	tea "charm.land/bubbletea/v2"

	"github.com/etcd-dr/etcd-dr/engine/progress"
	"github.com/etcd-dr/etcd-dr/tui/common"
	"github.com/etcd-dr/etcd-dr/tui/components/confirm"
	"github.com/etcd-dr/etcd-dr/tui/components/panel"
	"github.com/etcd-dr/etcd-dr/tui/components/progressbar"
	"github.com/etcd-dr/etcd-dr/tui/components/textfield"
	"github.com/etcd-dr/etcd-dr/tui/keymap"
)

// State is where the job is in its lifecycle.
type State int

// The states, in the order a job goes through them.
const (
	Editing State = iota
	Confirming
	Running
	Cancelling
	Finished
	Failed
)

var stateNames = [...]string{"editing", "confirming", "running", "cancelling", "finished", "failed"}

func (s State) String() string { return stateNames[s] }

// Run is the engine call: it reports progress to r and stops when ctx ends.
type Run func(ctx context.Context, r progress.Reporter) (any, error)

// Model is one wizard's job.
type Model struct {
	c *common.Common
	// Noun names the work in the views ("download", "check", "restore").
	Noun string
	// Cleanup says what a cancel undoes while it is under way ("partial files are being removed").
	Cleanup string
	// Retry offers e on a failed job: back to the form, values kept, to edit and try again (UpdateForm, Footer).
	Retry bool
	// OnProgress, when set, sees every progress update (a page that keeps totals of its own); Last holds the
	// latest either way.
	OnProgress func(progress.Update)
	Last       progress.Update

	state  State
	job    *common.Job
	dialog confirm.Model
	run    Run
	spin   spinner.Model
	value  any
	err    error
	// cancelAsked: the user asked to stop; the engine may still finish first (then the result is whole).
	cancelAsked bool
}

// New is a job in the editing state.
func New(c *common.Common, noun, cleanup string) Model {
	return Model{c: c, Noun: noun, Cleanup: cleanup, spin: common.NewSpinner(c.Styles)}
}

// State is the current state.
func (m *Model) State() State { return m.state }

// Busy is true while engine work runs (ctrl+c then cancels it instead of quitting).
func (m *Model) Busy() bool { return m.state == Running || m.state == Cancelling }

// Value is the engine's result once Finished.
func (m *Model) Value() any { return m.value }

// Err is why the job Failed (the console's words for it: common.Worded).
func (m *Model) Err() error { return m.err }

// Cancelled reports whether the job ended because the user cancelled it.
func (m *Model) Cancelled() bool { return m.err != nil && errors.Is(m.err, context.Canceled) }

// CancelTooLate reports whether the user asked to cancel but the work had finished first.
func (m *Model) CancelTooLate() bool { return m.state == Finished && m.cancelAsked }

// Edit goes back to the form, forgetting the last outcome.
func (m *Model) Edit() {
	m.state, m.value, m.err, m.cancelAsked, m.Last = Editing, nil, nil, false, progress.Update{}
}

// Fail ends the job without running it: the page found the input unusable (no store read, no target given).
func (m *Model) Fail(err error) {
	m.state, m.value, m.err = Failed, nil, err
}

// Ask opens the typed confirmation; run starts once the word is typed, esc goes back to editing.
func (m *Model) Ask(title, word string, lines []string, run Run) {
	m.dialog, m.run, m.state = confirm.New(title, word, lines), run, Confirming
}

// Start runs run under the console's context.
func (m *Model) Start(run Run) tea.Cmd {
	m.state, m.value, m.err, m.cancelAsked, m.Last = Running, nil, nil, false, progress.Update{}
	var cmd tea.Cmd
	m.job, cmd = common.StartJob(m.c.Ctx, run)
	return cmd
}

// Cancel asks running work to stop; the job stays Cancelling until the engine has returned (and cleaned up).
func (m *Model) Cancel() {
	if m.state == Running {
		m.state, m.cancelAsked = Cancelling, true
		m.job.Cancel()
	}
}

// Update takes the job's messages and, while confirming or running, its keys. It reports whether msg was the
// job's; the page handles the rest (its form while editing, its result while finished).
func (m *Model) Update(msg tea.Msg) (bool, tea.Cmd) {
	k := m.c.Keys
	switch msg := msg.(type) {
	case common.JobProgressMsg:
		if !m.mine(msg.ID) {
			return false, nil
		}
		m.Last = msg.Update
		if m.OnProgress != nil {
			m.OnProgress(msg.Update)
		}
		return true, m.job.Next()
	case common.JobTickMsg:
		if !m.mine(msg.ID) {
			return false, nil
		}
		m.spin, _ = m.spin.Update(spinner.TickMsg{ID: m.spin.ID()}) // the next tick comes from the job, not a timer
		return true, m.job.Next()
	case common.JobDoneMsg:
		if !m.mine(msg.ID) {
			return false, nil
		}
		m.job, m.value, m.err = nil, msg.Value, msg.Err
		m.state = Finished
		if m.err != nil {
			m.state, m.err = Failed, common.Worded(m.err)
		}
		return true, nil
	case tea.KeyPressMsg:
		switch m.state {
		case Confirming:
			switch m.dialog.Update(msg) {
			case confirm.Cancelled:
				m.state = Editing
			case confirm.Confirmed:
				return true, m.Start(m.run)
			}
			return true, nil
		case Running:
			if k.Back.Matches(msg) || k.Cancel.Matches(msg) {
				m.Cancel()
			}
			return true, nil
		case Cancelling:
			return true, nil // stopping: keys would only start new work
		}
	case tea.PasteMsg:
		if m.state == Confirming {
			m.dialog.Update(msg)
			return true, nil
		}
	}
	return false, nil
}

func (m *Model) mine(id int64) bool { return m.job != nil && m.job.ID == id }

// Bindings are the keys of the states the job owns (nil while editing or done: the page's own).
func (m *Model) Bindings() []keymap.Binding {
	switch m.state {
	case Confirming:
		return []keymap.Binding{{Keys: m.c.Keys.Enter.Keys, Label: "type " + m.dialog.Word + ", enter", Desc: "start the " + m.Noun, Dangerous: true},
			{Keys: []string{"esc"}, Desc: "back to the form"}}
	case Running:
		return []keymap.Binding{{Keys: []string{"esc", "ctrl+c"}, Label: "esc/ctrl+c", Desc: "cancel the " + m.Noun}}
	case Cancelling:
		return []keymap.Binding{{Keys: []string{"ctrl+c"}, Desc: "wait: cancelling"}}
	}
	return nil
}

// UpdateForm is the key handling every wizard shares around its form: while editing, esc goes back, enter
// submits, next/previous field move the focus and other keys and pastes edit the focused field (edited says so:
// the page drops a stale complaint); once the job has ended, enter or esc goes back. The job's own messages
// go to Update first.
func (m *Model) UpdateForm(msg tea.Msg, form *textfield.Form, submit func() tea.Cmd) (cmd tea.Cmd, edited bool) {
	k := m.c.Keys
	switch msg := msg.(type) {
	case tea.PasteMsg:
		if m.state == Editing {
			return nil, form.Update(msg)
		}
	case tea.KeyPressMsg:
		switch m.state {
		case Editing:
			switch {
			case k.Back.Matches(msg):
				return m.c.Pop(), false
			case k.NextField.Matches(msg):
				form.Next()
			case k.PrevField.Matches(msg):
				form.Prev()
			case k.Enter.Matches(msg):
				return submit(), false
			default:
				return nil, form.Update(msg)
			}
		case Finished, Failed:
			switch {
			case k.Back.Matches(msg) || k.Enter.Matches(msg):
				return m.c.Pop(), false
			case m.Retry && m.state == Failed && msg.String() == "e":
				m.Edit()
				form.Focus(form.Focused())
			}
		}
	}
	return nil, false
}

// RetryKey is the key of a failed job whose page set Retry: back to the form to edit and try again.
var RetryKey = keymap.Binding{Keys: []string{"e"}, Desc: "edit and retry"}

// Back is the key of an ended job: enter or esc goes back.
var Back = keymap.Binding{Keys: []string{"enter", "esc"}, Label: "enter/esc", Desc: "back"}

// Footer is the keys for the job's state: its own while it asks, runs or cancels; the page's editing keys
// before it starts; done once it has ended (nil: Back).
func (m *Model) Footer(editing, done []keymap.Binding) []keymap.Binding {
	if bs := m.Bindings(); bs != nil {
		return bs
	}
	switch m.state {
	case Failed:
		if m.Retry && done == nil {
			return []keymap.Binding{RetryKey, Back}
		}
		fallthrough
	case Finished:
		if done == nil {
			return []keymap.Binding{Back}
		}
		return done
	}
	return editing
}

// Fraction is Last's share done (0 when the total is unknown).
func (m *Model) Fraction() float64 {
	if m.Last.Total <= 0 {
		return 0
	}
	return float64(m.Last.Done) / float64(m.Last.Total)
}

// Spinner is the running job's spinner frame, for a page that shows its progress on a line of its own.
func (m *Model) Spinner() string { return m.spin.View() }

// DialogView is the typed confirmation (Confirming).
func (m *Model) DialogView(width int) string { return m.dialog.View(m.c.Styles, width) }

// Typed is what was typed into the confirmation so far.
func (m *Model) Typed() string { return m.dialog.Typed() }

// RunningView is the spinner and what is being done, then (when fraction ≥ 0) the bar, then stats, then how
// to cancel or what the cancel is doing.
func (m *Model) RunningView(width int, item string, fraction float64, stats string) string {
	st := m.c.Styles
	lines := []string{m.spin.View() + " " + item}
	if fraction >= 0 {
		lines = append(lines, progressbar.Bar(st, fraction, min(width, 60)))
	}
	if stats != "" {
		lines = append(lines, stats)
	}
	if m.state == Cancelling {
		note := "cancelling…"
		if m.Cleanup != "" {
			note += " " + m.Cleanup
		}
		lines = append(lines, st.Warn.Render(note))
	} else {
		lines = append(lines, st.Muted.Render("esc or ctrl+c cancels"))
	}
	return strings.Join(lines, "\n")
}

// FailedView is the outcome of a failed job: a short line when the user cancelled it, else the error panel
// titled title with what to do.
func (m *Model) FailedView(width int, title, cancelled string, todo []string) string {
	st := m.c.Styles
	if m.Cancelled() {
		return st.Warn.Render(cancelled)
	}
	return panel.Error(st, width, title, m.err, todo)
}
