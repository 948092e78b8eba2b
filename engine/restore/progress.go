package restore

import (
	"fmt"
	"time"

	"github.com/etcd-dr/etcd-dr/engine/progress"
)

// applyMeter reports the replay: events applied and their rate, with an ETA from the revisions still to go (the
// number of events ahead is not known until each delta is read). It reports at most every 200ms, and at the end.
type applyMeter struct {
	r            progress.Reporter
	from, target int64
	start, last  time.Time
}

func newApplyMeter(r progress.Reporter, from, target int64) *applyMeter {
	return &applyMeter{r: r, from: from, target: target, start: time.Now()}
}

// update reports that revisions up to rev are applied, events in all.
func (m *applyMeter) update(rev, events int64, finished bool) {
	if m == nil || m.r == nil {
		return
	}
	now := time.Now()
	if !finished && now.Sub(m.last) < 200*time.Millisecond {
		return
	}
	m.last = now
	u := progress.Update{
		Phase:    "apply",
		Item:     fmt.Sprintf("revision %d of %d", rev, m.target),
		Done:     events,
		Unit:     "events",
		Elapsed:  now.Sub(m.start),
		Finished: finished,
	}
	if s := u.Elapsed.Seconds(); s > 0 {
		u.Rate = float64(events) / s
	}
	// An ETA from the first instants of the replay would be noise.
	if done := rev - m.from; !finished && done > 0 && rev < m.target && u.Elapsed >= time.Second {
		u.ETA = time.Duration(float64(u.Elapsed) * float64(m.target-rev) / float64(done))
	}
	m.r.Report(u)
}
