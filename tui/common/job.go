package common

import (
	"context"
	"sync/atomic"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/etcd-dr/etcd-dr/engine/progress"
)

// Job is long engine work (download, verify, validate, restore) running off the UI goroutine. Its progress
// arrives as JobProgressMsg and its end as JobDoneMsg, through a channel read by one tea.Cmd at a time, so
// Update never blocks and the engine never waits on the screen for long.
type Job struct {
	ID     int64
	ch     chan tea.Msg
	cancel context.CancelFunc
}

// JobProgressMsg is one progress update of job ID.
type JobProgressMsg struct {
	ID     int64
	Update progress.Update
}

// JobTickMsg says job ID is still running and has been quiet for a while: its spinner moves on. It comes from
// the same command as the job's messages, so a job has one command pending at a time and its ticks end with it.
type JobTickMsg struct{ ID int64 }

// JobTick is how long a job may be quiet before a JobTickMsg (the spinner's pace).
var JobTick = 120 * time.Millisecond

// JobDoneMsg ends job ID with fn's result.
type JobDoneMsg struct {
	ID    int64
	Value any
	Err   error
}

var jobIDs atomic.Int64

// StartJob runs fn in a goroutine under a context derived from ctx and returns the job and the command that
// delivers its first message. After each JobProgressMsg the owner returns job.Next() to get the following one.
func StartJob(ctx context.Context, fn func(ctx context.Context, r progress.Reporter) (any, error)) (*Job, tea.Cmd) {
	ctx, cancel := context.WithCancel(ctx)
	j := &Job{ID: jobIDs.Add(1), ch: make(chan tea.Msg, 64), cancel: cancel}
	go func() {
		defer cancel()
		rep := progress.Func(func(u progress.Update) {
			select {
			case j.ch <- JobProgressMsg{ID: j.ID, Update: u}:
			case <-ctx.Done():
			}
		})
		v, err := fn(ctx, rep)
		j.ch <- JobDoneMsg{ID: j.ID, Value: v, Err: err} // buffered reader keeps draining until this one
	}()
	return j, j.Next()
}

// Next waits for the job's next message, or JobTick (then it returns a JobTickMsg).
func (j *Job) Next() tea.Cmd {
	return func() tea.Msg {
		t := time.NewTimer(JobTick)
		defer t.Stop()
		select {
		case msg := <-j.ch:
			return msg
		case <-t.C:
			return JobTickMsg{ID: j.ID}
		}
	}
}

// Cancel asks the job to stop; its JobDoneMsg still arrives (with the context error).
func (j *Job) Cancel() {
	if j != nil && j.cancel != nil {
		j.cancel()
	}
}
