// Package schedule is the daemon's clock: cron specs, with one parser and one check for full snapshots, GC and
// defragmentation. Whether this member may do the work at all is package leadership's question.
package schedule

import (
	"github.com/robfig/cron/v3"

	"github.com/etcd-dr/etcd-dr/engine/fault"
)

// Parse reads a 5-field cron spec (or @every/@hourly...), evaluated in UTC. what names the job in the error
// ("full snapshot schedule"); a bad spec is refused before anything starts.
func Parse(what, spec string) (cron.Schedule, error) {
	s, err := cron.ParseStandard(spec)
	if err != nil {
		return nil, fault.Refused("%s %q: %v (want 5 cron fields in UTC, e.g. \"0 */1 * * *\" hourly or \"0 3 * * 0\" Sundays 03:00, or @every 30m)", what, spec, err)
	}
	return s, nil
}

// Check is Parse for a spec that may be empty (empty = never).
func Check(what, spec string) error {
	if spec == "" {
		return nil
	}
	_, err := Parse(what, spec)
	return err
}
