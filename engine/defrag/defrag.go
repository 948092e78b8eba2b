// Package defrag runs a rolling defragmentation of an etcd cluster: only when every member is reachable,
// healthy, free of alarms and a leader exists; followers one at a time, each healthy again before the next,
// the leader last; it stops at the first failure and says where.
package defrag

import (
	"context"
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"time"

	"github.com/etcd-dr/etcd-dr/engine/etcdconn"
	"github.com/etcd-dr/etcd-dr/engine/fault"
	"github.com/etcd-dr/etcd-dr/engine/status"
)

// Config configures Run. Zero optional fields take the documented defaults.
type Config struct {
	Conn etcdconn.Config
	// Timeout bounds each status and health check (default 5s).
	Timeout time.Duration
	// DefragTimeout bounds one member's defragmentation (default none: a big db takes as long as it takes;
	// cancel ctx to stop).
	DefragTimeout time.Duration
	// HealthWait is how long a defragmented member may take to be healthy again (default 2m).
	HealthWait time.Duration
	// DryRun checks the cluster and reports the order without defragmenting.
	DryRun bool
	// OnStep is called before each member's defragmentation (Step.Done false) and after it (Done true).
	OnStep func(Step)
	// Metrics, when set, counts runs and bytes reclaimed.
	Metrics *Metrics
	Log     *slog.Logger
}

// Step is one member's defragmentation.
type Step struct {
	Member   string    `json:"member"`
	ID       status.ID `json:"id"`
	Endpoint string    `json:"endpoint"`
	Leader   bool      `json:"leader"`
	// DB sizes before and after (bytes): the file, and the part in use.
	SizeBefore  int64   `json:"dbSizeBefore"`
	InUseBefore int64   `json:"dbSizeInUseBefore"`
	SizeAfter   int64   `json:"dbSizeAfter"`
	InUseAfter  int64   `json:"dbSizeInUseAfter"`
	Seconds     float64 `json:"seconds"`
	Done        bool    `json:"done"`
	Error       string  `json:"error,omitempty"`
}

// Report is what a run did (or, dry, would do).
type Report struct {
	DryRun bool `json:"dryRun"`
	// Order is the planned order: followers by name, the leader last.
	Order []string `json:"order"`
	Steps []Step   `json:"steps"`
	// SizeBefore and SizeAfter sum the members' db sizes; Reclaimed is the difference.
	SizeBefore int64 `json:"dbSizeBefore"`
	SizeAfter  int64 `json:"dbSizeAfter"`
	Reclaimed  int64 `json:"reclaimed"`
	// Stopped says where and why a run stopped early.
	Stopped string `json:"stopped,omitempty"`
}

func (c *Config) defaults() {
	if c.Timeout <= 0 {
		c.Timeout = 5 * time.Second
	}
	if c.HealthWait <= 0 {
		c.HealthWait = 2 * time.Minute
	}
	if c.Log == nil {
		c.Log = slog.New(slog.DiscardHandler)
	}
}

// Ready refuses a cluster that must not be defragmented now: a member down or unhealthy, an alarm, no leader.
// The error (fault.ErrRefused) names every reason.
func Ready(cl *status.Cluster) error {
	var why []string
	if len(cl.Members) == 0 {
		why = append(why, "no members found")
	}
	for _, m := range cl.Members {
		name := label(m)
		switch {
		case !m.Up:
			why = append(why, fmt.Sprintf("member %s is not reachable: %s", name, m.Error))
		case !m.Healthy:
			why = append(why, fmt.Sprintf("member %s is not healthy: %s", name, m.Error))
		}
		for _, a := range m.Alarms {
			hint := ""
			if a == "NOSPACE" {
				hint = " (to recover: compact, defragment that member alone with etcdctl defrag --endpoints " + m.Endpoint + ", then etcdctl alarm disarm)"
			}
			why = append(why, fmt.Sprintf("member %s has alarm %s%s", name, a, hint))
		}
	}
	if cl.Leader == 0 || cl.LeaderMember() == nil {
		why = append(why, "no leader")
	}
	why = append(why, cl.Problems...)
	if len(why) > 0 {
		return fault.Refused("defragmentation refused, nothing was defragmented: %s", strings.Join(dedupe(why), "; "))
	}
	return nil
}

// Order is the planned order: followers (learners included) by name, then the leader.
func Order(cl *status.Cluster) []status.Member {
	var out []status.Member
	var leader *status.Member
	for i := range cl.Members {
		if cl.Members[i].ID == cl.Leader {
			leader = &cl.Members[i]
			continue
		}
		out = append(out, cl.Members[i])
	}
	sort.SliceStable(out, func(i, j int) bool { return label(out[i]) < label(out[j]) })
	if leader != nil {
		out = append(out, *leader)
	}
	return out
}

// Run defragments the cluster member by member. Before each member it checks the whole cluster again (Ready),
// and the next member is the first remaining one that is not the leader now, so a leader change during the
// run still leaves the leader last. It returns the report so far with the error that stopped it.
func Run(ctx context.Context, cfg Config) (*Report, error) {
	cfg.defaults()
	qc := status.Config{Conn: cfg.Conn, Timeout: cfg.Timeout}
	cl, err := status.Query(ctx, qc)
	if err != nil {
		return nil, err
	}
	rep := &Report{DryRun: cfg.DryRun, Steps: []Step{}}
	remaining := Order(cl)
	for _, m := range remaining {
		rep.Order = append(rep.Order, label(m))
		rep.SizeBefore += m.DBSize
	}
	if err := Ready(cl); err != nil {
		cfg.Metrics.run("refused", 0)
		return rep, err
	}
	if cfg.DryRun {
		rep.SizeAfter = rep.SizeBefore
		return rep, nil
	}
	cli, err := etcdconn.New(cfg.Conn)
	if err != nil {
		return rep, err
	}
	defer cli.Close()
	for len(remaining) > 0 {
		next := 0
		for i, m := range remaining {
			if m.ID != cl.Leader {
				next = i
				break
			}
		}
		m := current(cl, remaining[next].ID)
		remaining = append(remaining[:next], remaining[next+1:]...)
		st := Step{Member: label(m), ID: m.ID, Endpoint: m.Endpoint, Leader: m.ID == cl.Leader, SizeBefore: m.DBSize, InUseBefore: m.DBSizeInUse}
		if cfg.OnStep != nil {
			cfg.OnStep(st)
		}
		cfg.Log.Info("defragmenting", "member", st.Member, "endpoint", st.Endpoint, "leader", st.Leader, "dbSize", st.SizeBefore)
		start := time.Now()
		dctx, cancel := ctx, context.CancelFunc(func() {})
		if cfg.DefragTimeout > 0 {
			dctx, cancel = context.WithTimeout(ctx, cfg.DefragTimeout)
		}
		err := status.Reachable(dctx, m.Endpoint, cfg.Timeout)
		if err == nil {
			_, err = cli.Defragment(dctx, m.Endpoint)
		}
		cancel()
		if err == nil {
			cl, err = waitHealthy(ctx, qc, cfg.HealthWait, m.ID)
		}
		st.Seconds = time.Since(start).Round(time.Millisecond).Seconds()
		if after := find(cl, m.ID); after != nil && after.Up {
			st.SizeAfter, st.InUseAfter = after.DBSize, after.DBSizeInUse
		}
		if err != nil {
			st.Error = err.Error()
			rep.Steps = append(rep.Steps, st)
			serr := stoppedAt(rep, st.Member, remaining, err)
			rep.Stopped = serr.Error()
			rep.finish(cl)
			cfg.Metrics.run("failed", 0)
			if cfg.OnStep != nil {
				cfg.OnStep(st)
			}
			return rep, serr
		}
		st.Done = true
		rep.Steps = append(rep.Steps, st)
		if cfg.OnStep != nil {
			cfg.OnStep(st)
		}
	}
	rep.finish(cl)
	cfg.Metrics.run("ok", rep.Reclaimed)
	return rep, nil
}

func (r *Report) finish(cl *status.Cluster) {
	r.SizeAfter = 0
	for _, m := range cl.Members {
		r.SizeAfter += m.DBSize
	}
	r.Reclaimed = r.SizeBefore - r.SizeAfter
}

func stoppedAt(rep *Report, member string, remaining []status.Member, err error) error {
	var done, left []string
	for _, s := range rep.Steps {
		if s.Done {
			done = append(done, s.Member)
		}
	}
	for _, m := range remaining {
		left = append(left, label(m))
	}
	where := "; no member was defragmented before it"
	if len(done) > 0 {
		where = "; already defragmented: " + strings.Join(done, ", ")
	}
	if len(left) > 0 {
		where += "; not started: " + strings.Join(left, ", ")
	}
	return fmt.Errorf("defragmentation stopped at member %s: %w%s", member, err, where)
}

// waitHealthy waits until the whole cluster is ready again (the defragmented member answers, is healthy, no
// alarm, a leader) and returns its status.
func waitHealthy(ctx context.Context, qc status.Config, wait time.Duration, id status.ID) (*status.Cluster, error) {
	deadline := time.Now().Add(wait)
	var last error
	var cl *status.Cluster
	for {
		var err error
		cl, err = status.Query(ctx, qc)
		if err != nil {
			return cl, err
		}
		if last = Ready(cl); last == nil {
			return cl, nil
		}
		if time.Now().After(deadline) {
			return cl, fmt.Errorf("not healthy again %v after defragmentation: %v", wait, last)
		}
		select {
		case <-ctx.Done():
			return cl, ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// current returns the member's latest status from cl.
func current(cl *status.Cluster, id status.ID) status.Member {
	if m := find(cl, id); m != nil {
		return *m
	}
	return status.Member{ID: id}
}

func find(cl *status.Cluster, id status.ID) *status.Member {
	if cl == nil {
		return nil
	}
	for i := range cl.Members {
		if cl.Members[i].ID == id {
			return &cl.Members[i]
		}
	}
	return nil
}

func label(m status.Member) string {
	if m.Name != "" {
		return m.Name
	}
	if m.ID != 0 {
		return m.ID.String()
	}
	return m.Endpoint
}

func dedupe(s []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, x := range s {
		if !seen[x] {
			seen[x] = true
			out = append(out, x)
		}
	}
	return out
}
