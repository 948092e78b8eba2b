// Package progress carries progress of long engine work (downloads, restores, snapshots) to whoever shows it:
// a terminal line, JSON events, or TUI messages. A nil Reporter is valid and reports nothing.
package progress

import (
	"io"
	"time"
)

// Update is one progress report.
type Update struct {
	// Phase names the step ("download", "apply deltas", ...); Item the object or path being worked on.
	Phase string `json:"phase"`
	Item  string `json:"item,omitempty"`
	// Done and Total count Unit ("bytes" or "events"); Total 0 = unknown.
	Done  int64  `json:"done"`
	Total int64  `json:"total,omitempty"`
	Unit  string `json:"unit"`
	// Rate is Unit per second since the phase started; ETA is zero when unknown.
	Rate    float64       `json:"rate"`
	ETA     time.Duration `json:"etaNanos,omitempty"`
	Elapsed time.Duration `json:"elapsedNanos"`
	// Finished marks the last update of a phase.
	Finished bool `json:"finished,omitempty"`
}

// Reporter receives updates. Implementations must be safe for use from one goroutine at a time.
type Reporter interface {
	Report(Update)
}

// Func adapts a function to a Reporter.
type Func func(Update)

// Report calls f.
func (f Func) Report(u Update) { f(u) }

// Meter counts work in one phase and reports at most every Interval (and always at Finish).
type Meter struct {
	r        Reporter
	u        Update
	start    time.Time
	last     time.Time
	Interval time.Duration
}

// NewMeter starts a phase. r may be nil.
func NewMeter(r Reporter, phase, item, unit string, total int64) *Meter {
	now := time.Now()
	return &Meter{r: r, u: Update{Phase: phase, Item: item, Unit: unit, Total: total}, start: now, Interval: 200 * time.Millisecond}
}

// Add counts n more units.
func (m *Meter) Add(n int64) {
	if m == nil {
		return
	}
	m.u.Done += n
	if m.r == nil {
		return
	}
	if now := time.Now(); now.Sub(m.last) >= m.Interval {
		m.last = now
		m.r.Report(m.fill(now))
	}
}

// Done reports the units counted so far.
func (m *Meter) Done() int64 { return m.u.Done }

// Finish sends the final update.
func (m *Meter) Finish() {
	if m == nil || m.r == nil {
		return
	}
	u := m.fill(time.Now())
	u.Finished = true
	u.ETA = 0
	m.r.Report(u)
}

func (m *Meter) fill(now time.Time) Update {
	u := m.u
	u.Elapsed = now.Sub(m.start)
	if s := u.Elapsed.Seconds(); s > 0 {
		u.Rate = float64(u.Done) / s
	}
	if u.Total > 0 && u.Rate > 0 && u.Done < u.Total {
		u.ETA = time.Duration(float64(u.Total-u.Done) / u.Rate * float64(time.Second))
	}
	return u
}

// Writer counts bytes written through it into a Meter.
type Writer struct {
	W io.Writer
	M *Meter
}

func (w Writer) Write(p []byte) (int, error) {
	n, err := w.W.Write(p)
	w.M.Add(int64(n))
	return n, err
}
