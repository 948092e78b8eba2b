package defrag

import (
	"context"
	"fmt"
	"time"

	"github.com/robfig/cron/v3"

	"github.com/etcd-dr/etcd-dr/engine/fault"
)

// Leadership says whether this daemon is the backup leader (members.Elector is one).
type Leadership interface {
	IsLeader() bool
}

// CheckSchedule refuses a --defrag-schedule the daemon cannot run, before anything starts. Empty means never.
func CheckSchedule(spec string) error {
	if spec == "" {
		return nil
	}
	if _, err := cron.ParseStandard(spec); err != nil {
		return fault.Refused("--defrag-schedule %q: %v (want 5 cron fields in UTC, e.g. \"0 3 * * 0\" for Sundays 03:00, or @every 24h)", spec, err)
	}
	return nil
}

// RunScheduled runs a rolling defragmentation at every time of the cron spec (UTC) while leader.IsLeader(),
// until ctx ends. A refused or failed run is logged (and counted in cfg.Metrics) and tried again at the next
// time; runs never overlap. An empty spec returns at once.
func RunScheduled(ctx context.Context, spec string, cfg Config, leader Leadership) error {
	if spec == "" {
		return nil
	}
	if err := CheckSchedule(spec); err != nil {
		return err
	}
	sched, _ := cron.ParseStandard(spec)
	cfg.defaults()
	for {
		next := sched.Next(time.Now().UTC())
		t := time.NewTimer(time.Until(next))
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-t.C:
		}
		if leader != nil && !leader.IsLeader() {
			cfg.Log.Debug("scheduled defragmentation skipped: not the backup leader")
			continue
		}
		rep, err := Run(ctx, cfg)
		switch {
		case ctx.Err() != nil:
			return nil
		case err != nil:
			cfg.Log.Warn("scheduled defragmentation did not run through", "err", err, "next", sched.Next(time.Now().UTC()))
		default:
			cfg.Log.Info("scheduled defragmentation done", "order", fmt.Sprint(rep.Order), "reclaimed", rep.Reclaimed,
				"dbSizeBefore", rep.SizeBefore, "dbSizeAfter", rep.SizeAfter)
		}
	}
}
