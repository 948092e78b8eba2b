// Package initialization is the sidecar's initialization handshake, as etcd-backup-restore's server mode speaks
// it (gardener/etcd-backup-restore pkg/server/httpAPI.go): etcd's bootstrap script polls GET /initialization/status,
// calls GET /initialization/start when it reads New, waits through Progress and starts etcd on Successful.
//
// A start runs Repo.Initialize on the member's data dir: a valid dir not older than the store is left alone; a
// missing one is restored from the newest restorable point (an empty store: a fresh member); an invalid or older
// one is moved aside (never deleted) and restored. Before any restore the other members of --initial-cluster are
// asked: when one of them serves a cluster, this member is never restored from the backup (it would fork the
// cluster) and the run fails with the etcdctl commands that replace it. When none answers, every member restores
// the same point, the one the first of them recorded in the store (pick.go).
package initialization

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/etcd-dr/etcd-dr/engine"
	"github.com/etcd-dr/etcd-dr/engine/etcdconn"
	"github.com/etcd-dr/etcd-dr/engine/progress"
	"github.com/etcd-dr/etcd-dr/engine/restore"
	"github.com/etcd-dr/etcd-dr/engine/validate"
)

// States, exactly the words etcd-backup-restore answers on /initialization/status.
const (
	New        = "New"
	Progress   = "Progress"
	Successful = "Successful"
	Failed     = "Failed"
)

// Modes of a start: quick checks the layout and opens the db; full also reads the WAL through its CRCs and runs
// bbolt's check. etcd-backup-restore calls quick "sanity", which is taken too.
const (
	ModeQuick = "quick"
	ModeFull  = "full"
)

// Actions a successful run took.
const (
	ActionNone     = restore.ActionNone     // the data dir was valid
	ActionRestored = restore.ActionRestored // restored from the store (a bad dir moved aside first)
	ActionFresh    = "fresh"                // no data dir and an empty store: etcd starts a new member
	ActionJoin     = "join"                 // no data dir and the running cluster lists this member as added: etcd joins it
)

// DefaultPickWindow is how long a recorded pick binds the other members (pick.go).
const DefaultPickWindow = time.Hour

// Config of a Manager. Defaults are stated per field.
type Config struct {
	// Repo is the member's backup store (required).
	Repo *engine.Repo
	// DataDir is the etcd member's data dir (required).
	DataDir string
	// Cluster is the member's --name, --initial-cluster, --initial-advertise-peer-urls and --initial-cluster-token,
	// as restore takes them (defaults: restore's, a single member).
	Cluster restore.Cluster
	// Etcd holds the TLS files used to reach the other members' client URLs (Endpoints are not used).
	Etcd etcdconn.Config
	// PeerTimeout bounds each question to another member (default 2s).
	PeerTimeout time.Duration
	// PickWindow is how long a recorded pick binds the others (default DefaultPickWindow).
	PickWindow time.Duration
	// Logger receives progress and results (default: discard).
	Logger *slog.Logger
	// Metrics, when set, counts runs (NewMetrics).
	Metrics *Metrics
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// Request is one start: GET /initialization/start?mode=&failbelowrevision=.
type Request struct {
	// Mode is ModeQuick or ModeFull (default ModeFull).
	Mode string
	// FailBelowRevision fails the run, changing nothing, when neither the data dir nor the store reaches it.
	FailBelowRevision int64
}

// Result is a run's outcome (also the JSON of /initialization/status?format=json).
type Result struct {
	State  string `json:"state"`
	Reason string `json:"reason,omitempty"`
	Action string `json:"action,omitempty"`
	// Revision is the data dir's revision when the run ended (0 for a fresh member).
	Revision int64 `json:"revision"`
	// Took is the run's length in seconds.
	Took       float64   `json:"took"`
	Mode       string    `json:"mode,omitempty"`
	MovedAside string    `json:"movedAside,omitempty"`
	Started    time.Time `json:"started,omitzero"`
	// Commands replace this member in a running cluster (a Failed run that refused to restore).
	Commands []string `json:"commands,omitempty"`
}

// Manager holds the handshake's state. Its methods are safe for concurrent use.
type Manager struct {
	cfg  Config
	base context.Context

	mu        sync.Mutex
	state     string
	last      Result // the last finished run
	succeeded bool   // a run has succeeded since the daemon started
	done      chan struct{}
}

// NewManager returns a Manager in state New. ctx bounds every run (the daemon's life, not one HTTP request's).
func NewManager(ctx context.Context, cfg Config) (*Manager, error) {
	if cfg.Repo == nil || cfg.DataDir == "" {
		return nil, errors.New("initialization: a store and a data dir are required")
	}
	if cfg.Cluster.Name == "" {
		cfg.Cluster.Name = restore.DefaultName
	}
	if cfg.Cluster.Token == "" {
		cfg.Cluster.Token = restore.DefaultToken
	}
	if cfg.PeerTimeout <= 0 {
		cfg.PeerTimeout = 2 * time.Second
	}
	if cfg.PickWindow <= 0 {
		cfg.PickWindow = DefaultPickWindow
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if err := restore.CheckSettings(restore.Config{DataDir: cfg.DataDir, Cluster: cfg.Cluster}); err != nil {
		return nil, err
	}
	if _, err := peersOf(cfg.Cluster); err != nil {
		return nil, err
	}
	return &Manager{cfg: cfg, base: ctx, state: New}, nil
}

// ParseMode checks a mode word ("" = full).
func ParseMode(s string) (string, error) {
	switch s {
	case "", ModeFull:
		return ModeFull, nil
	case ModeQuick, "sanity":
		return ModeQuick, nil
	}
	return "", fmt.Errorf("mode %q: use quick or full", s)
}

// Start begins a run unless one is running (then it is a no-op and returns false). The run goes on after the
// caller returns; Wait waits for it.
func (m *Manager) Start(req Request) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.state == Progress {
		return false
	}
	if req.Mode == "" {
		req.Mode = ModeFull
	}
	m.state = Progress
	m.done = make(chan struct{})
	done := m.done
	go func() {
		defer close(done)
		res := m.run(m.base, req)
		m.cfg.Metrics.observe(res)
		m.mu.Lock()
		m.state, m.last = res.State, res
		m.succeeded = m.succeeded || res.State == Successful
		m.mu.Unlock()
	}()
	return true
}

// Wait waits for the running run, if any, to finish.
func (m *Manager) Wait() {
	m.mu.Lock()
	done := m.done
	m.mu.Unlock()
	if done != nil {
		<-done
	}
}

// State is the plain-text answer of /initialization/status. As etcd-backup-restore does, reading Successful or
// Failed turns the state back to New: the next start of etcd (its container restarted) checks the data dir again,
// and a failed run is retried by the script's next start.
func (m *Manager) State() string {
	m.mu.Lock()
	defer m.mu.Unlock()
	s := m.state
	if s == Successful || s == Failed {
		m.state = New
	}
	return s
}

// Status is the JSON answer: the current state, and what the last finished run found. It changes nothing.
func (m *Manager) Status() Result {
	m.mu.Lock()
	defer m.mu.Unlock()
	r := m.last
	r.State = m.state
	return r
}

// Initializing reports, for /healthz, whether etcd still waits for this sidecar: a run is in progress, or none has
// succeeded yet and no etcd runs on the data dir (a sidecar restarted beside a running etcd is not initializing:
// that etcd's bootstrap will not call it again).
func (m *Manager) Initializing() bool {
	m.mu.Lock()
	progress, succeeded := m.state == Progress, m.succeeded
	m.mu.Unlock()
	if progress {
		return true
	}
	return !succeeded && !restore.EtcdRunsOn(m.cfg.DataDir)
}

// run is one start: Repo.Initialize with the sidecar's checks in its hook.
func (m *Manager) run(ctx context.Context, req Request) (res Result) {
	log := m.cfg.Logger.With("dataDir", m.cfg.DataDir, "member", m.cfg.Cluster.Name)
	start := m.cfg.Now()
	res = Result{Mode: req.Mode, Started: start.UTC()}
	defer func() {
		res.Took = m.cfg.Now().Sub(start).Seconds()
		if res.State == Failed {
			log.Error("initialization failed: etcd must not start", "reason", res.Reason, "commands", res.Commands, "seconds", res.Took)
		} else {
			log.Info("initialization successful: etcd may start", "action", res.Action, "revision", res.Revision, "seconds", res.Took)
		}
	}()
	fail := func(format string, args ...any) Result {
		res.State, res.Reason = Failed, fmt.Sprintf(format, args...)
		return res
	}
	log.Info("initialization started", "mode", req.Mode, "failBelowRevision", req.FailBelowRevision, "store", m.cfg.Repo.URL())
	if err := m.cfg.Repo.Reload(ctx); err != nil {
		return fail("list the store %s: %v (etcd waits; the next start retries)", engine.Redact(m.cfg.Repo.URL()), err)
	}
	h := &hook{m: m, ctx: ctx, req: req, log: log}
	ir, err := m.cfg.Repo.Initialize(ctx, engine.InitializeRequest{
		Config:      restore.Config{DataDir: m.cfg.DataDir, Cluster: m.cfg.Cluster, MoveAside: true, Progress: logProgress(log)},
		InitOptions: restore.InitOptions{Quick: req.Mode == ModeQuick, BeforeRestore: h.beforeRestore},
	})
	if h.outcome != nil { // the hook decided: nothing was changed
		o := *h.outcome
		o.Mode, o.Started = res.Mode, res.Started
		return o
	}
	if err != nil {
		return fail("initialize data dir %s from %s: %v", m.cfg.DataDir, engine.Redact(m.cfg.Repo.URL()), err)
	}
	res.State, res.Action = Successful, ir.Action
	switch ir.Action {
	case restore.ActionNone:
		res.Revision = ir.Validation.Revision
		if req.FailBelowRevision > res.Revision {
			return fail("data dir %s is at revision %d, below failbelowrevision %d, and the store %s has nothing newer: refusing to start etcd on it (nothing changed)",
				m.cfg.DataDir, res.Revision, req.FailBelowRevision, engine.Redact(m.cfg.Repo.URL()))
		}
		log.Info("data dir valid: left as it is", "revision", res.Revision, "storeRevision", ir.Validation.StoreRevision)
	case restore.ActionRestored:
		res.Revision, res.MovedAside = ir.Restore.Revision, ir.Restore.MovedAside
		if h.recorded != nil && ir.Restore.FullSnapshot != h.recorded.Base {
			log.Warn("restored from another full snapshot than the recorded pick", "recorded", h.recorded.Base, "restored", ir.Restore.FullSnapshot)
		}
		log.Info("data dir restored", "revision", res.Revision, "fullSnapshot", ir.Restore.FullSnapshot, "deltas", ir.Restore.DeltasApplied, "movedAside", res.MovedAside)
	}
	return res
}

// logProgress puts restore progress in the log, at most every 5 seconds per phase.
func logProgress(log *slog.Logger) progress.Reporter {
	var mu sync.Mutex
	last := map[string]time.Time{}
	return progress.Func(func(u progress.Update) {
		mu.Lock()
		defer mu.Unlock()
		if t, ok := last[u.Phase]; ok && time.Since(t) < 5*time.Second && !u.Finished {
			return
		}
		last[u.Phase] = time.Now()
		log.Info("restore progress", "phase", u.Phase, "progress", progress.FormatLine(u))
	})
}

// hook runs inside Repo.Initialize once a restore is needed, before anything changes.
type hook struct {
	m   *Manager
	ctx context.Context
	req Request
	log *slog.Logger
	// outcome, when set, ends the run without a restore (Failed, or a fresh or joining member).
	outcome  *Result
	recorded *Record
}

// errDecided stops Repo.Initialize once the hook has decided the outcome itself.
var errDecided = errors.New("initialization decided before a restore")

func (h *hook) beforeRestore(rep *validate.DataDirReport) (int64, error) {
	m := h.m
	what := "missing"
	if !rep.Missing {
		what = "invalid: " + firstProblem(rep)
		if rep.StoreRevision > 0 && rep.Revision < rep.StoreRevision && len(rep.Problems) == 1 {
			h.log.Warn("DATA DIR OLDER THAN THE STORE: it will be moved aside and restored from the store",
				"dataDirRevision", rep.Revision, "storeRevision", rep.StoreRevision)
		}
	}
	decide := func(r Result) (int64, error) {
		h.outcome = &r
		return 0, errDecided
	}
	failed := func(format string, args ...any) (int64, error) {
		return decide(Result{State: Failed, Reason: fmt.Sprintf(format, args...)})
	}
	// Multi-member safety first: a member of a running cluster is replaced, never restored from the backup.
	live, err := m.askPeers(h.ctx)
	if err != nil {
		return failed("data dir %s is %s; %v", m.cfg.DataDir, what, err)
	}
	if live != nil {
		if live.addedUnstarted && rep.Missing {
			h.log.Info("the running cluster lists this member as added and not started: etcd joins it with an empty data dir", "answeredBy", live.answeredBy)
			return decide(Result{State: Successful, Action: ActionJoin})
		}
		return decide(Result{State: Failed, Commands: live.replaceCommands(m.cfg),
			Reason: fmt.Sprintf("data dir %s is %s, and member %s of --initial-cluster answers: restoring this member from the backup would fork the cluster; replace it with the commands given (nothing changed)",
				m.cfg.DataDir, what, live.answeredBy)})
	}
	newest := m.cfg.Repo.NewestRestorable()
	if h.req.FailBelowRevision > newest && h.req.FailBelowRevision > rep.Revision {
		return failed("data dir %s is %s, and the store %s restores only up to revision %d, below failbelowrevision %d: refusing to start etcd with less (nothing changed)",
			m.cfg.DataDir, what, engine.Redact(m.cfg.Repo.URL()), newest, h.req.FailBelowRevision)
	}
	if len(m.cfg.Repo.Catalog().Chains) == 0 {
		if rep.Missing {
			h.log.Info("empty store and no data dir: etcd starts as a fresh member", "store", engine.Redact(m.cfg.Repo.URL()))
			return decide(Result{State: Successful, Action: ActionFresh})
		}
		return failed("data dir %s is %s, and the store %s holds no backup to restore it from (nothing changed): fix the store URL, or move the data dir aside by hand to start a fresh member",
			m.cfg.DataDir, what, engine.Redact(m.cfg.Repo.URL()))
	}
	h.log.Info("restore needed", "dataDir", what, "storeRevision", newest)
	if len(m.others()) == 0 {
		return 0, nil // one member: the newest restorable point
	}
	rec, err := m.agreedPick(h.ctx, h.log)
	if err != nil {
		return failed("data dir %s is %s; no member answers, and the restore point the members share could not be settled: %v (nothing changed)", m.cfg.DataDir, what, err)
	}
	h.recorded = rec
	return rec.Revision, nil
}

func firstProblem(rep *validate.DataDirReport) string {
	if len(rep.Problems) == 0 {
		return "no details"
	}
	return rep.Problems[0].Path + ": " + rep.Problems[0].What
}
