// Package daemon runs backups on a schedule: a full snapshot by cron, deltas continuously between them, and
// garbage collection after every scheduled full snapshot — only while this member is the backup leader.
// It resumes where the store's newest chain ends, and on shutdown stores a last delta.
package daemon

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/robfig/cron/v3"

	"github.com/etcd-dr/etcd-dr/engine/catalog"
	"github.com/etcd-dr/etcd-dr/engine/gc"
	"github.com/etcd-dr/etcd-dr/engine/leadership"
	"github.com/etcd-dr/etcd-dr/engine/schedule"
	"github.com/etcd-dr/etcd-dr/engine/snapshot"
)

// DefaultFullSchedule takes a full snapshot at the start of every hour.
const DefaultFullSchedule = "0 */1 * * *"

// ErrNotLeader refuses work that only the backup leader does.
var ErrNotLeader = errors.New("this member is not the backup leader")

// Config is the daemon's schedule. Defaults are stated per field.
type Config struct {
	// Snapshot configures the snapshotter (Client and Store required); its Observer, if any, still receives
	// every result.
	Snapshot snapshot.Config
	// FullSchedule is a 5-field cron spec, in UTC (default DefaultFullSchedule).
	FullSchedule string
	// GC, when set, runs at start, after every scheduled full snapshot, and every GCPeriod if that is set.
	GC       *gc.Config
	GCPeriod time.Duration
	// Leadership gates all work (default AlwaysLeader).
	Leadership leadership.Leadership
	// LeaderPoll is how often Leadership is asked (default 1s).
	LeaderPoll time.Duration
	// TakeoverDelay is how long a member that was a follower waits, once it becomes leader, before it resumes
	// from the store's end: time for the previous leader to notice and stop (default 0; the CLI uses twice the
	// leader check period). A member that leads from the start does not wait, nor one whose Leadership says it is
	// alone (members.Elector.Alone: a one-member cluster).
	TakeoverDelay time.Duration
	// Logger receives what happens (default: discard).
	Logger *slog.Logger
	// Metrics, when set, is updated (see NewMetrics).
	Metrics *Metrics
}

// Daemon runs the schedule. Its methods are safe for concurrent use (the HTTP API calls them).
type Daemon struct {
	cfg   Config
	snap  *snapshot.Snapshotter
	sched cron.Schedule
	fulls chan snapshot.FullRequest

	mu     sync.Mutex
	status Status
	// takeoverAt is when a follower that becomes leader may start (only the Run goroutine uses it).
	takeoverAt time.Time
}

// Status is what the daemon knows about its work, for /v1/status and /healthz.
type Status struct {
	Role      string           `json:"role"` // Leader or Follower
	Running   bool             `json:"running"`
	Started   time.Time        `json:"started"`
	LastFull  *snapshot.Result `json:"lastFull,omitempty"`
	LastDelta *snapshot.Result `json:"lastDelta,omitempty"`
	NextFull  time.Time        `json:"nextFull"`
	LastGC    *GCStatus        `json:"lastGC,omitempty"`
	LastError string           `json:"lastError,omitempty"`
	ErrorTime time.Time        `json:"errorTime,omitzero"`
}

// GCStatus is the last garbage collection.
type GCStatus struct {
	Time    time.Time `json:"time"`
	Deleted int       `json:"deleted"`
	Kept    int       `json:"kept"`
	Error   string    `json:"error,omitempty"`
}

// fullScheduleName names the full-snapshot schedule in errors.
const fullScheduleName = "full snapshot schedule"

// CheckSchedule refuses a full-snapshot schedule the daemon cannot run, before anything starts.
func CheckSchedule(spec string) error { return schedule.Check(fullScheduleName, spec) }

// New checks cfg and builds the snapshotter.
func New(cfg Config) (*Daemon, error) {
	if cfg.FullSchedule == "" {
		cfg.FullSchedule = DefaultFullSchedule
	}
	sched, err := schedule.Parse(fullScheduleName, cfg.FullSchedule)
	if err != nil {
		return nil, err
	}
	if cfg.GC != nil {
		if err := cfg.GC.Validate(); err != nil {
			return nil, err
		}
	}
	if cfg.Leadership == nil {
		cfg.Leadership = leadership.AlwaysLeader{}
	}
	if cfg.LeaderPoll <= 0 {
		cfg.LeaderPoll = time.Second
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	d := &Daemon{cfg: cfg, sched: sched, fulls: make(chan snapshot.FullRequest)}
	sc := cfg.Snapshot
	sc.Observer = observer{d: d, next: cfg.Snapshot.Observer}
	if sc.Logger == nil {
		sc.Logger = cfg.Logger
	}
	if d.snap, err = snapshot.New(sc); err != nil {
		return nil, err
	}
	d.status.Role = "Follower"
	return d, nil
}

// Run works until ctx ends, then stops the backup loop (which stores a final delta) and returns.
func (d *Daemon) Run(ctx context.Context) error {
	d.update(func(s *Status) { s.Started = time.Now().UTC() })
	c := cron.New(cron.WithLocation(time.UTC))
	cronFull := make(chan struct{}, 1)
	c.Schedule(d.sched, cron.FuncJob(func() {
		select {
		case cronFull <- struct{}{}:
		default: // one pending is enough: scheduled snapshots never stack up
		}
	}))
	c.Start()
	defer c.Stop()
	d.update(func(s *Status) { s.NextFull = d.sched.Next(time.Now().UTC()) })

	var loopCancel context.CancelCauseFunc
	var loopDone chan error
	stopLoop := func(cause error) {
		if loopCancel == nil {
			return
		}
		loopCancel(cause)
		if err := <-loopDone; err != nil {
			d.failed(err)
		}
		loopCancel, loopDone = nil, nil
		d.update(func(s *Status) { s.Running = false })
	}
	defer stopLoop(nil)
	poll := time.NewTicker(d.cfg.LeaderPoll)
	defer poll.Stop()
	var gcTick <-chan time.Time
	if d.cfg.GCPeriod > 0 {
		t := time.NewTicker(d.cfg.GCPeriod)
		defer t.Stop()
		gcTick = t.C
	}
	gcDone := make(chan struct{}, 1)
	gcDone <- struct{}{}
	restartAt := time.Time{}
	waitLogged := false // the takeover wait is logged once, not every poll
	for {
		leader := d.cfg.Leadership.IsLeader()
		d.cfg.Metrics.leader(leader)
		switch {
		case leader && loopCancel == nil && !time.Now().Before(restartAt):
			if !d.takeoverAt.IsZero() && time.Now().Before(d.takeoverAt) && !alone(d.cfg.Leadership) {
				if !waitLogged {
					d.cfg.Logger.Info("backup leader: waiting for the previous leader's last upload", "until", d.takeoverAt.Format(time.RFC3339))
					waitLogged = true
				}
				break // let the previous leader's last upload land first
			}
			d.cfg.Logger.Info("backup leader: starting backups")
			waitLogged = false
			lctx, cancel := context.WithCancelCause(ctx)
			loopCancel, loopDone = cancel, make(chan error, 1)
			done := loopDone
			go func() { done <- d.snap.Run(lctx, d.fulls) }()
			d.update(func(s *Status) { s.Role, s.Running = "Leader", true })
			d.startGC(ctx, gcDone)
		case !leader && loopCancel != nil:
			d.cfg.Logger.Info("no longer the backup leader: stopping backups")
			stopLoop(snapshot.ErrHandOver)
			d.update(func(s *Status) { s.Role = "Follower" })
		case !leader:
			d.update(func(s *Status) { s.Role = "Follower" })
			d.takeoverAt = time.Now().Add(d.cfg.TakeoverDelay)
		}
		select {
		case <-ctx.Done():
			stopLoop(nil)
			d.cfg.Logger.Info("daemon stopped")
			return nil
		case <-poll.C:
		case <-gcTick:
			if loopCancel != nil {
				d.startGC(ctx, gcDone)
			}
		case err := <-loopDone:
			// The loop ended on its own: it only does so when its context ends; restart after a pause.
			loopCancel, loopDone = nil, nil
			d.failed(fmt.Errorf("backup loop ended: %v", err))
			restartAt = time.Now().Add(5 * time.Second)
		case <-cronFull:
			d.update(func(s *Status) { s.NextFull = d.sched.Next(time.Now().UTC()) })
			if loopCancel == nil {
				continue
			}
			go func() {
				if _, err := d.full(ctx, snapshot.FullOptions{}); err != nil {
					d.cfg.Logger.Error("scheduled full snapshot failed", "err", err)
					return
				}
				if d.cfg.Leadership.IsLeader() {
					d.startGC(ctx, gcDone)
				}
			}()
		}
	}
}

// alone tells whether l knows its member is the only one of its etcd cluster (leadership.Elector.Alone): then no
// previous leader can have an upload in flight, and the takeover wait is skipped.
func alone(l leadership.Leadership) bool {
	a, ok := l.(interface{ Alone() bool })
	return ok && a.Alone()
}

// BackupNow takes a full snapshot through the running loop (so deltas never overlap it). A revision equal to
// the newest full snapshot's returns that one's result, marked skipped.
func (d *Daemon) BackupNow(ctx context.Context) (snapshot.Result, error) {
	if !d.cfg.Leadership.IsLeader() {
		return snapshot.Result{}, ErrNotLeader
	}
	return d.full(ctx, snapshot.FullOptions{})
}

func (d *Daemon) full(ctx context.Context, opts snapshot.FullOptions) (snapshot.Result, error) {
	req := snapshot.FullRequest{Options: opts, Reply: make(chan snapshot.FullReply, 1)}
	select {
	case d.fulls <- req:
	case <-ctx.Done():
		return snapshot.Result{}, ctx.Err()
	}
	select {
	case r := <-req.Reply:
		return r.Result, r.Err
	case <-ctx.Done():
		return snapshot.Result{}, ctx.Err()
	}
}

// startGC runs one garbage collection in the background unless one is running.
func (d *Daemon) startGC(ctx context.Context, token chan struct{}) {
	if d.cfg.GC == nil {
		return
	}
	select {
	case <-token:
	default:
		return
	}
	go func() {
		defer func() { token <- struct{}{} }()
		p, err := gc.Run(ctx, d.cfg.Snapshot.Store, *d.cfg.GC, false)
		st := &GCStatus{Time: time.Now().UTC()}
		if p != nil {
			st.Deleted, st.Kept = len(p.Deleted), len(p.Keep)
			d.cfg.Metrics.gcDeleted(len(p.Deleted))
		}
		if err != nil {
			st.Error = err.Error()
			d.cfg.Logger.Error("garbage collection failed", "err", err)
		} else {
			d.cfg.Logger.Info("garbage collection", "policy", d.cfg.GC.Policy, "deletedObjects", st.Deleted, "keptChains", st.Kept)
		}
		d.update(func(s *Status) { s.LastGC = st })
	}()
}

// Status returns a copy of the daemon's status.
func (d *Daemon) Status() Status {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.status
}

// Snapshotter is the daemon's snapshotter (for /v1/backup and tests).
func (d *Daemon) Snapshotter() *snapshot.Snapshotter { return d.snap }

func (d *Daemon) update(f func(*Status)) {
	d.mu.Lock()
	f(&d.status)
	d.mu.Unlock()
}

func (d *Daemon) failed(err error) {
	d.cfg.Logger.Error("backup failure", "err", err)
	d.update(func(s *Status) { s.LastError, s.ErrorTime = err.Error(), time.Now().UTC() })
}

// observer keeps the status and metrics up to date, and passes results on.
type observer struct {
	d    *Daemon
	next snapshot.Observer
}

func (o observer) Snapshot(r snapshot.Result) {
	o.d.cfg.Metrics.snapshot(r)
	if !r.Skipped {
		o.d.update(func(s *Status) {
			rc := r
			if r.Kind == catalog.Full {
				s.LastFull = &rc
			} else {
				s.LastDelta = &rc
			}
		})
	}
	if o.next != nil {
		o.next.Snapshot(r)
	}
}

func (o observer) Failure(kind catalog.Kind, err error) {
	o.d.cfg.Metrics.failure(kind)
	o.d.update(func(s *Status) {
		s.LastError, s.ErrorTime = fmt.Sprintf("%s snapshot: %v", kind, err), time.Now().UTC()
	})
	if o.next != nil {
		o.next.Failure(kind, err)
	}
}
