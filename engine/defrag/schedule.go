package defrag

import (
	"context"
	"fmt"
	"time"

	"github.com/etcd-dr/etcd-dr/engine/leadership"
	"github.com/etcd-dr/etcd-dr/engine/schedule"
)

// scheduleName names the defragmentation schedule in errors.
const scheduleName = "defragmentation schedule"

// CheckSchedule refuses a defragmentation schedule the daemon cannot run, before anything starts. Empty means never.
func CheckSchedule(spec string) error { return schedule.Check(scheduleName, spec) }

// RunScheduled runs a rolling defragmentation at every time of the cron spec (UTC) while leader.IsLeader(),
// until ctx ends. A refused or failed run is logged (and counted in cfg.Metrics) and tried again at the next
// time; runs never overlap. An empty spec returns at once.
func RunScheduled(ctx context.Context, spec string, cfg Config, leader leadership.Leadership) error {
	if spec == "" {
		return nil
	}
	sched, err := schedule.Parse(scheduleName, spec)
	if err != nil {
		return err
	}
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
