// Package leadership decides which etcd-dr daemon of a cluster is the backup leader (Elector: the daemon beside
// etcd's raft leader, from etcd only, never from heartbeats, since clocks may disagree) and gives the daemon and
// defrag one Leadership to ask.
package leadership

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"sync"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/etcd-dr/etcd-dr/engine/etcdconn"
	"github.com/etcd-dr/etcd-dr/engine/fault"
	"github.com/etcd-dr/etcd-dr/engine/heartbeat"
	"github.com/etcd-dr/etcd-dr/engine/status"
)

// ElectorConfig configures an Elector. The zero values of the optional fields are their documented defaults.
type ElectorConfig struct {
	Conn etcdconn.Config
	// Name is the daemon's own etcd member (--name). Empty: the member that answers on Conn.Endpoints[0].
	Name string
	// Period is how often the role is checked (--leader-check-period, default 5s).
	Period time.Duration
	// Timeout bounds one check (default: Period, at least 1s).
	Timeout time.Duration
	// OnChange is called on every role change, from the goroutine that runs the checks, one call at a time.
	// It must not block for long: the next check waits for it.
	OnChange func(from, to State)
	// Metrics, when set, records the role and its changes.
	Metrics *Metrics
	// Log (default: discard).
	Log *slog.Logger
}

// State is the outcome of one check.
type State struct {
	Role heartbeat.Role `json:"role"`
	// Member is the daemon's own etcd member (zero until it was found).
	MemberID   status.ID `json:"etcdMemberID"`
	MemberName string    `json:"etcdMemberName"`
	// LeaderID is the raft leader the own member sees; Term its raft term.
	LeaderID status.ID `json:"leaderID"`
	Term     uint64    `json:"raftTerm"`
	// Why says why the role is Unknown.
	Why string `json:"why,omitempty"`
	// Since is when the role last changed.
	Since time.Time `json:"since"`
}

// Elector decides whether this daemon is the backup leader, from its own etcd member's view of raft.
// Leadership comes from etcd only, never from heartbeats or clocks, so two daemons cannot both be Leader
// unless etcd itself has two leaders, and a leader cut off from its quorum fails the quorum read.
type Elector struct {
	cfg ElectorConfig
	log *slog.Logger

	check sync.Mutex       // one check at a time
	cli   *clientv3.Client // all endpoints: member list
	own   *clientv3.Client // the own member only: status and quorum reads
	ownEP string
	epIDs map[string]status.ID // which member answers at each of --endpoints (asked once, when needed)

	mu         sync.Mutex
	state      State
	checked    time.Time // when the check that set state started
	ledSince   time.Time // when a check first saw the own member lead (zero: it does not)
	lastLeader status.ID // the last other member seen leading
	alone      bool      // the check that made this daemon Leader saw a one-member cluster
}

// gone tells whether member id's etcd refuses connections (killed, stopped): then its daemon cannot be Leader.
func (e *Elector) gone(ctx context.Context, id status.ID) bool {
	cctx, cancel := context.WithTimeout(ctx, e.cfg.Timeout)
	defer cancel()
	ml, err := e.cli.MemberList(cctx, clientv3.WithSerializable())
	if err != nil {
		return false
	}
	for _, m := range ml.Members {
		if status.ID(m.ID) == id && len(m.ClientURLs) > 0 {
			for _, u := range m.ClientURLs {
				if status.Reachable(cctx, u, e.cfg.Timeout) == nil {
					return false
				}
			}
			return true
		}
	}
	return false
}

// soleMember tells whether member id is the only member of its cluster (learners count: each may run a daemon).
// A failed member list answers false: then the daemon waits for a handover as usual.
func (e *Elector) soleMember(ctx context.Context, id status.ID) bool {
	cctx, cancel := context.WithTimeout(ctx, e.cfg.Timeout)
	defer cancel()
	ml, err := e.cli.MemberList(cctx, clientv3.WithSerializable())
	return err == nil && len(ml.Members) == 1 && status.ID(ml.Members[0].ID) == id
}

// Alone tells whether this daemon became Leader of a one-member cluster: no other daemon can have been leading,
// so the backup loop need not wait for a previous leader's last upload (daemon.Config.TakeoverDelay).
func (e *Elector) Alone() bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.state.Role == heartbeat.Leader && e.alone
}

// stepUp is how long the own member must lead before this daemon becomes Leader: one period, less a tenth
// for the ticker's jitter.
func (e *Elector) stepUp() time.Duration { return e.cfg.Period - e.cfg.Period/10 }

// NewElector checks the settings; it does not contact etcd. Call Run (or Poll), and Close at the end.
func NewElector(cfg ElectorConfig) (*Elector, error) {
	if err := cfg.Conn.Validate(); err != nil {
		return nil, err
	}
	if cfg.Period <= 0 {
		cfg.Period = 5 * time.Second
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = max(cfg.Period, time.Second)
	}
	if strings.ContainsAny(cfg.Name, "/ \t") {
		return nil, fault.Bad("member name", cfg.Name, "an etcd member name has no slashes or spaces")
	}
	log := cfg.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	cli, err := etcdconn.New(cfg.Conn)
	if err != nil {
		return nil, err
	}
	e := &Elector{cfg: cfg, log: log, cli: cli, state: State{Role: heartbeat.Unknown, Why: "not checked yet", Since: time.Now()}}
	cfg.Metrics.setRole(heartbeat.Unknown)
	return e, nil
}

// Close releases the etcd connections.
func (e *Elector) Close() error {
	e.check.Lock()
	defer e.check.Unlock()
	if e.own != nil {
		e.own.Close()
		e.own = nil
	}
	return e.cli.Close()
}

// State returns the last check's outcome.
func (e *Elector) State() State {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.state
}

// Role returns the current role.
func (e *Elector) Role() heartbeat.Role { return e.State().Role }

// IsLeader tells whether this daemon is the backup leader now: the last check said Leader, and it is recent
// (started less than 2 periods + the check timeout ago), so a stuck check does not keep a stale Leader.
func (e *Elector) IsLeader() bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.state.Role == heartbeat.Leader && time.Since(e.checked) < 2*e.cfg.Period+e.cfg.Timeout
}

// Heartbeat returns the role part of this daemon's heartbeat (role, etcd member id, why); the daemon adds its
// last snapshot revision and time.
func (e *Elector) Heartbeat() heartbeat.Heartbeat {
	s := e.State()
	return heartbeat.Heartbeat{Role: s.Role, EtcdMemberID: s.MemberID, Why: s.Why}
}

// Period is the check period in use.
func (e *Elector) Period() time.Duration { return e.cfg.Period }

// Check finds the own etcd member once, to fail fast on a --name that is not a member (a refused error
// listing the members). When etcd cannot be reached it returns nil: Run keeps trying and stays Unknown.
func (e *Elector) Check(ctx context.Context) error {
	if e.cfg.Name == "" {
		return nil
	}
	e.check.Lock()
	defer e.check.Unlock()
	cctx, cancel := context.WithTimeout(ctx, e.cfg.Timeout)
	defer cancel()
	_, _, err := e.findOwn(cctx)
	if err != nil && errors.Is(err, fault.ErrRefused) {
		return err
	}
	return nil
}

// Run checks the role now and then every period until ctx ends; it returns nil then.
func (e *Elector) Run(ctx context.Context) error {
	t := time.NewTicker(e.cfg.Period)
	defer t.Stop()
	for {
		e.Poll(ctx)
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// Poll runs one check now, updates the role (calling OnChange on a change) and returns the new state.
func (e *Elector) Poll(ctx context.Context) State {
	e.check.Lock()
	defer e.check.Unlock()
	started := time.Now()
	next := e.decide(ctx)
	if ctx.Err() != nil {
		return e.State() // a check cut short by shutdown says nothing about etcd
	}
	e.mu.Lock()
	prev := e.state
	// Step up only after the own member has led for a whole period: the previous leader's daemon, checking at
	// the same period, has seen the change and stepped down by then (a graceful leadership transfer is instant).
	if next.LeaderID != 0 && next.LeaderID != next.MemberID {
		e.lastLeader = next.LeaderID
	}
	leads := next.Role == heartbeat.Leader
	if !leads {
		e.ledSince = time.Time{}
	}
	if leads && prev.Role != heartbeat.Leader {
		if e.ledSince.IsZero() {
			e.ledSince = started
			e.alone = e.soleMember(ctx, next.MemberID)
			switch {
			case e.alone: // a one-member cluster: no other daemon can lead, so there is no handover to wait for
				e.ledSince = started.Add(-e.stepUp())
			case e.lastLeader != 0 && e.lastLeader != next.MemberID && e.gone(ctx, e.lastLeader):
				e.ledSince = started.Add(-e.stepUp()) // the previous leader's etcd is down: its daemon cannot lead
			}
		}
		if wait := e.stepUp() - started.Sub(e.ledSince); wait > 0 {
			next.Role = prev.Role
			next.Why = fmt.Sprintf("own etcd member is the raft leader; taking over in %v, once the previous leader's daemon has stepped down", wait.Round(time.Millisecond))
		}
	}
	next.Since = prev.Since
	if next.Role != prev.Role {
		next.Since = time.Now()
	}
	e.state, e.checked = next, started
	e.mu.Unlock()
	if next.Role != prev.Role {
		e.log.Info("backup role changed", "from", prev.Role, "to", next.Role, "member", next.MemberName, "why", next.Why)
		e.cfg.Metrics.roleChanged(prev.Role, next.Role)
		if e.cfg.OnChange != nil {
			e.cfg.OnChange(prev, next)
		}
	}
	return next
}

func (e *Elector) decide(ctx context.Context) State {
	cctx, cancel := context.WithTimeout(ctx, e.cfg.Timeout)
	defer cancel()
	s := State{Role: heartbeat.Unknown}
	ep, own, err := e.findOwn(cctx)
	s.MemberID, s.MemberName = own.ID, own.Name
	if err != nil {
		s.Why = err.Error()
		return s
	}
	err = status.Reachable(cctx, ep, e.cfg.Timeout)
	var st *clientv3.StatusResponse
	if err == nil {
		st, err = e.own.Status(cctx, ep)
	}
	if err != nil {
		s.Why = fmt.Sprintf("own etcd member %s unreachable at %s: %s", orID(own), ep, status.Describe(err))
		e.dropOwn() // find it again next time (its URL may have changed)
		return s
	}
	s.MemberID, s.LeaderID, s.Term = status.ID(st.Header.MemberId), status.ID(st.Leader), st.RaftTerm
	if own.ID != 0 && s.MemberID != own.ID {
		s.Why = fmt.Sprintf("%s answers as member %s, not %s", ep, s.MemberID, own.ID)
		e.dropOwn()
		return s
	}
	if st.Leader == 0 {
		s.Why = "no leader: own etcd member sees none (election in progress or quorum lost)"
		return s
	}
	if st.IsLearner { // a learner never leads, and serves no linearizable read
		s.Role = heartbeat.Follower
		return s
	}
	if err := status.QuorumRead(cctx, e.own, e.cfg.Timeout); err != nil {
		s.Why = fmt.Sprintf("quorum read through own etcd member %s failed (quorum lost?): %s", orID(own), status.Describe(err))
		return s
	}
	if s.LeaderID == s.MemberID {
		s.Role = heartbeat.Leader
	} else {
		s.Role = heartbeat.Follower
	}
	return s
}

// findOwn returns the own member's endpoint (with a client open to it) and who it is.
func (e *Elector) findOwn(ctx context.Context) (string, status.Member, error) {
	given := e.cfg.Conn.URLs()
	var own status.Member
	ep := given[0]
	if e.cfg.Name != "" {
		ml, err := e.cli.MemberList(ctx, clientv3.WithSerializable())
		if err != nil {
			return "", status.Member{Name: e.cfg.Name}, fmt.Errorf("member list from %s: %s", strings.Join(given, ","), status.Describe(err))
		}
		var names []string
		found := false
		for _, m := range ml.Members {
			if m.Name == e.cfg.Name {
				own, found = status.Member{Name: m.Name, ID: status.ID(m.ID)}, true
				ep = status.PickEndpoint(m.ClientURLs, given)
			}
			if m.Name != "" {
				names = append(names, m.Name)
			} else {
				names = append(names, status.ID(m.ID).String()+" (not started)")
			}
		}
		sort.Strings(names)
		if !found {
			return "", status.Member{Name: e.cfg.Name}, fault.Bad("member name", e.cfg.Name, "is not a member of this etcd cluster; its members are: %s", strings.Join(names, ", "))
		}
		if !contains(given, ep) {
			// None of --endpoints is the member's advertised URL: maybe one of them reaches it another way.
			if found := e.viaGiven(ctx, given, own.ID); found != "" {
				ep = found
			}
		}
		if ep == "" {
			return "", own, fmt.Errorf("etcd member %s has no client URL yet (not started)", e.cfg.Name)
		}
	}
	if e.own == nil || e.ownEP != ep {
		e.dropOwn()
		conn := e.cfg.Conn
		conn.Endpoints = []string{ep}
		cli, err := etcdconn.New(conn)
		if err != nil {
			return "", own, err
		}
		e.own, e.ownEP = cli, ep
	}
	return ep, own, nil
}

// viaGiven returns the given endpoint where member id answers, remembering what each endpoint said.
func (e *Elector) viaGiven(ctx context.Context, given []string, id status.ID) string {
	if e.epIDs == nil {
		e.epIDs = status.EndpointIDs(ctx, e.cli, given, e.cfg.Timeout)
	}
	for _, g := range given {
		if e.epIDs[g] == id {
			return g
		}
	}
	return ""
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if status.SameURL(x, s) {
			return true
		}
	}
	return false
}

func (e *Elector) dropOwn() {
	e.epIDs = nil
	if e.own != nil {
		e.own.Close()
		e.own, e.ownEP = nil, ""
	}
}

func orID(m status.Member) string {
	if m.Name != "" {
		return m.Name
	}
	if m.ID != 0 {
		return m.ID.String()
	}
	return "(unknown)"
}
