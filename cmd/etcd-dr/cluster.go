package main

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/spf13/pflag"

	"github.com/etcd-dr/etcd-dr/engine"
	"github.com/etcd-dr/etcd-dr/engine/defrag"
	"github.com/etcd-dr/etcd-dr/engine/etcdconn"
	"github.com/etcd-dr/etcd-dr/engine/heartbeat"
	"github.com/etcd-dr/etcd-dr/engine/leadership"
	"github.com/etcd-dr/etcd-dr/engine/status"
)

// clusterOptions are the daemon's cluster-awareness flags: who of the daemons is the backup leader, the
// heartbeats they leave in the store, and the scheduled rolling defragmentation.
//
// Wiring into the daemon (daemon.go):
//
//	o.cluster.addFlags(root.Flags())                     // in addDaemon
//	etcdMember := ""                                     // in runDaemon, after the store is open:
//	if cmd.Flags().Changed("name") { etcdMember = o.name } // --name given: follow that etcd member; else the first endpoint's
//	bm, err := o.cluster.start(ctx, backupMemberConfig{Etcd: o.etcd.config(), Name: o.name, EtcdMember: etcdMember,
//		Store: cfg.Store, Registry: reg, LastSnapshot: ..., Log: log}) // err: exit 2 on a --name that is no member
//	daemon.Config{..., Leadership: bm.Elector}
//	... d.Run(ctx); bm.Wait()                            // Wait writes the last heartbeat ("daemon stopped")
type clusterOptions struct {
	leaderCheckPeriod time.Duration
	heartbeatPeriod   time.Duration
	defragSchedule    string
}

func (o *clusterOptions) addFlags(f *pflag.FlagSet) {
	f.DurationVar(&o.leaderCheckPeriod, "leader-check-period", 5*time.Second, "how often to check whether this daemon's etcd member is the raft leader (only the leader's daemon takes backups)")
	f.DurationVar(&o.heartbeatPeriod, "heartbeat-period", heartbeat.DefaultPeriod, "how often to write <store>/members/<name>.json (stale after 3 periods)")
	f.StringVar(&o.defragSchedule, "defrag-schedule", "", "cron schedule (5 fields, UTC) of rolling defragmentation by the backup leader, e.g. \"0 3 * * 0\"; empty for never")
}

func (o *clusterOptions) check() error {
	if o.leaderCheckPeriod <= 0 || o.heartbeatPeriod <= 0 {
		return usagef("--leader-check-period and --heartbeat-period want positive durations, e.g. 5s and 30s")
	}
	if err := defrag.CheckSchedule(o.defragSchedule); err != nil {
		return usagef("--defrag-schedule: %v", err)
	}
	return nil
}

// backupMember is a running daemon's cluster awareness. Its Elector is the daemon's Leadership.
type backupMember struct {
	Elector *leadership.Elector
	wg      sync.WaitGroup
}

// backupMemberConfig is what startBackupMember needs from the daemon.
type backupMemberConfig struct {
	Etcd etcdconn.Config
	// Name is the heartbeat's name (--name). EtcdMember is the etcd member to follow: the same name when the
	// user gave --name, "" for the member answering on the first endpoint.
	Name, EtcdMember string
	Repo             *engine.Repo
	// Registry receives the members and defrag collectors (nil: none).
	Registry prometheus.Registerer
	// LastSnapshot returns the revision and time of the last snapshot stored (zero when none yet).
	LastSnapshot func() (int64, time.Time)
	Log          *slog.Logger
}

// start runs, until ctx ends, the Elector, the heartbeat writer and the scheduled defragmentation. A --name that
// is not an etcd member is refused here, listing the members; an etcd that cannot be reached is not an error (the
// daemon stays Unknown until it can). Call Wait after ctx ends: the last heartbeat says the daemon stopped.
func (o *clusterOptions) start(ctx context.Context, c backupMemberConfig) (*backupMember, error) {
	if err := o.check(); err != nil {
		return nil, err
	}
	log := c.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	mm, dm := leadership.NewMetrics(), defrag.NewMetrics()
	e, err := leadership.NewElector(leadership.ElectorConfig{Conn: c.Etcd, Name: c.EtcdMember, Period: o.leaderCheckPeriod, Metrics: mm, Log: log,
		OnChange: func(from, to leadership.State) {
			log.Info("backup member role", "from", from.Role, "to", to.Role, "etcdMember", to.MemberID, "why", to.Why)
		}})
	if err != nil {
		return nil, err
	}
	if err := e.Check(ctx); err != nil {
		e.Close()
		return nil, err
	}
	if c.Registry != nil {
		if err := c.Registry.Register(mm); err != nil {
			e.Close()
			return nil, err
		}
		if err := c.Registry.Register(dm); err != nil {
			e.Close()
			return nil, err
		}
	}
	b := &backupMember{Elector: e}
	peers := func() []string {
		var names []string
		if cl, err := status.Query(ctx, status.Config{Conn: c.Etcd, Timeout: o.leaderCheckPeriod}); err == nil {
			names = cl.Names()
		}
		return names
	}
	b.wg.Add(3)
	go func() {
		defer b.wg.Done()
		_ = e.Run(ctx)
	}()
	go func() {
		defer b.wg.Done()
		_ = heartbeat.Run(ctx, heartbeat.RunConfig{Store: c.Repo.Store(), Name: c.Name, Period: o.heartbeatPeriod, Seen: mm.SeenHeartbeats, Peers: peers, Log: log,
			Fill: func() heartbeat.Heartbeat {
				hb := e.Heartbeat()
				if c.LastSnapshot != nil {
					hb.LastSnapshotRevision, hb.LastSnapshotTime = c.LastSnapshot()
				}
				return hb
			}})
	}()
	go func() {
		defer b.wg.Done()
		cfg := defrag.Config{Conn: c.Etcd, Metrics: dm, Log: log}
		if err := defrag.RunScheduled(ctx, o.defragSchedule, cfg, e); err != nil {
			log.Error("scheduled defragmentation stopped", "err", err)
		}
	}()
	return b, nil
}

// Wait waits until everything started has stopped (after ctx ended), then closes the etcd connections.
func (b *backupMember) Wait() {
	b.wg.Wait()
	b.Elector.Close()
}
