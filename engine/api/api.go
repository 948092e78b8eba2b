// Package api is the daemon's HTTP API, compatible with the etcd-operator backup sidecar: GET /v1/backupnow,
// GET /v1/backup[?etcdVersion=&etcdRevision=], GET /v1/status; plus /healthz and Prometheus /metrics. A sidecar
// with a data dir also serves etcd-backup-restore's initialization handshake (GET /initialization/status and
// /initialization/start, engine/initialization), under the same token and TLS rules.
// With a token, every path but /healthz needs "Authorization: Bearer <token>"; without one the API listens on
// loopback only (CheckListen). /metrics may also have its own listener without a token (ServeMetrics).
package api

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/etcd-dr/etcd-dr/engine"
	"github.com/etcd-dr/etcd-dr/engine/daemon"
	"github.com/etcd-dr/etcd-dr/engine/fault"
	"github.com/etcd-dr/etcd-dr/engine/initialization"
	"github.com/etcd-dr/etcd-dr/engine/snapshot"
)

// DefaultListen is where the API listens unless told otherwise: loopback only.
const DefaultListen = "127.0.0.1:19999"

// Headers of /v1/backup, as etcd-operator's sidecar sets them.
const (
	HeaderEtcdVersion = "X-etcd-Version"
	HeaderRevision    = "X-Revision"
)

// Backend is what the API drives: the daemon.
type Backend interface {
	BackupNow(ctx context.Context) (snapshot.Result, error)
	Status() daemon.Status
}

// Config of the API.
type Config struct {
	// Listen is host:port (default DefaultListen).
	Listen string
	// Token, when set, is required as a bearer token on every path but /healthz.
	Token string
	// CertFile and KeyFile serve HTTPS when both are set.
	CertFile, KeyFile string
	Backend           Backend
	// Repo serves /v1/backup (its Options.Decrypt opens .age objects; without one they are refused).
	Repo *engine.Repo
	// Gatherer serves /metrics (default: none, 404).
	Gatherer prometheus.Gatherer
	// Role, when set, is the backup member's role and why, from the same source as its heartbeat (the Elector),
	// so /v1/status, /healthz and the heartbeat agree, also while a new leader waits to take over. Nil: the
	// Backend's own role.
	Role func() (role, why string)
	// Init, when set, serves the initialization handshake; /healthz says "initializing" until it succeeds.
	Init   *initialization.Manager
	Logger *slog.Logger
}

// BackupStatus is etcd-operator's answer to /v1/backupnow.
type BackupStatus struct {
	CreationTime     string  `json:"creationTime"`
	Size             float64 `json:"size"` // MB
	Version          string  `json:"version"`
	TimeTookInSecond int     `json:"timeTookInSecond"`
	// Revision and Key are etcd-dr additions.
	Revision int64  `json:"revision"`
	Key      string `json:"key"`
	Skipped  bool   `json:"skipped,omitempty"`
}

// Handler returns the API's routes.
func Handler(cfg Config) http.Handler {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	h := &handler{cfg: cfg}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", h.healthz)
	mux.Handle("GET /v1/backupnow", h.auth(h.backupNow))
	mux.Handle("GET /v1/backup", h.auth(h.backup))
	mux.Handle("GET /v1/status", h.auth(h.status))
	if cfg.Init != nil {
		mux.Handle("GET "+initialization.StatusPath, h.auth(cfg.Init.StatusHandler))
		mux.Handle("GET "+initialization.StartPath, h.auth(cfg.Init.StartHandler))
	}
	if cfg.Gatherer != nil {
		mux.Handle("GET /metrics", h.auth(promhttp.HandlerFor(cfg.Gatherer, promhttp.HandlerOpts{}).ServeHTTP))
	}
	return mux
}

// MetricsHandler serves GET /metrics from g and nothing else (404): Prometheus' own listener, which needs no
// token since the metrics hold no backup data.
func MetricsHandler(g prometheus.Gatherer) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(g, promhttp.HandlerOpts{}))
	return mux
}

// Serve listens and serves until ctx ends, then shuts down gracefully. ready, when set, receives the address
// actually listened on. An address beyond loopback without a token is refused (CheckListen).
func Serve(ctx context.Context, cfg Config, ready func(addr string)) error {
	if cfg.Listen == "" {
		cfg.Listen = DefaultListen
	}
	if err := CheckListen(cfg.Listen, cfg.Token); err != nil {
		return err
	}
	if (cfg.CertFile == "") != (cfg.KeyFile == "") {
		return fault.Refused("HTTP API: a TLS certificate needs its key and a key its certificate")
	}
	return serve(ctx, cfg.Listen, Handler(cfg), cfg.CertFile, cfg.KeyFile, ready)
}

// ServeMetrics serves MetricsHandler(g) on addr until ctx ends, like Serve.
func ServeMetrics(ctx context.Context, addr string, g prometheus.Gatherer, ready func(addr string)) error {
	return serve(ctx, addr, MetricsHandler(g), "", "", ready)
}

func serve(ctx context.Context, addr string, h http.Handler, certFile, keyFile string, ready func(addr string)) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w (is another process on that port? choose another address)", addr, err)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	if ready != nil {
		ready(ln.Addr().String())
	}
	errc := make(chan error, 1)
	go func() {
		if certFile != "" {
			errc <- srv.ServeTLS(ln, certFile, keyFile)
		} else {
			errc <- srv.Serve(ln)
		}
	}()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
		sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
		return nil
	}
}

type handler struct{ cfg Config }

func (h *handler) auth(next http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if h.cfg.Token != "" {
			got, ok := bearer(r.Header.Get("Authorization"))
			if !ok || subtle.ConstantTimeCompare([]byte(got), []byte(h.cfg.Token)) != 1 {
				w.Header().Set("WWW-Authenticate", `Bearer realm="etcd-dr"`)
				http.Error(w, "unauthorized: send Authorization: Bearer <the daemon's API token>", http.StatusUnauthorized)
				return
			}
		}
		next(w, r)
	})
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

// status is /v1/status: the daemon's status, its role (and why) from the heartbeat's source when there is one.
type status struct {
	daemon.Status
	Why string `json:"why,omitempty"`
}

func (h *handler) statusNow() (st status, loopFailed bool) {
	st.Status = h.cfg.Backend.Status()
	// The daemon calls itself Leader only once its backups run; Leader and not running is a stopped loop.
	loopFailed = st.Role == "Leader" && !st.Running
	if h.cfg.Role != nil {
		st.Role, st.Why = h.cfg.Role()
	}
	return st, loopFailed
}

func (h *handler) healthz(w http.ResponseWriter, r *http.Request) {
	s, loopFailed := h.statusNow()
	body := map[string]any{"status": "ok", "role": s.Role, "running": s.Running}
	code := http.StatusOK
	switch {
	case h.cfg.Init != nil && h.cfg.Init.Initializing():
		// 200: a long restore must not look dead to a liveness probe and be restarted in a loop.
		body["status"] = "initializing"
		body["initialization"] = h.cfg.Init.Status().State
	case loopFailed:
		body["status"], code = "backups not running", http.StatusServiceUnavailable
	case s.Role == "Leader" && !s.Running:
		body["status"] = "taking over: backups start once the previous leader's daemon has stopped"
	}
	if s.LastError != "" {
		body["lastError"], body["errorTime"] = s.LastError, s.ErrorTime
	}
	writeJSON(w, code, body)
}

func (h *handler) status(w http.ResponseWriter, r *http.Request) {
	s, _ := h.statusNow()
	writeJSON(w, http.StatusOK, s)
}

func (h *handler) backupNow(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	res, err := h.cfg.Backend.BackupNow(r.Context())
	if errors.Is(err, daemon.ErrNotLeader) {
		http.Error(w, err.Error()+": ask the leader", http.StatusServiceUnavailable)
		return
	}
	if err != nil {
		http.Error(w, "backup failed: "+err.Error(), http.StatusInternalServerError)
		return
	}
	bs := BackupStatus{CreationTime: res.Time.Format(time.RFC3339), Size: float64(res.Size) / (1 << 20), Version: res.EtcdVersion,
		TimeTookInSecond: int(time.Since(start).Seconds()), Revision: res.EndRevision, Key: res.Key, Skipped: res.Skipped}
	if res.Skipped {
		// Unchanged revision: answer with the full snapshot that already holds it.
		_ = h.cfg.Repo.Reload(r.Context())
		if snap, ok := h.cfg.Repo.FullAt(res.EndRevision); ok {
			bs.CreationTime, bs.Size, bs.Version, bs.Key = snap.Time.Format(time.RFC3339), float64(snap.Size)/(1<<20), snap.EtcdVersion, snap.Key
		}
	}
	writeJSON(w, http.StatusOK, bs)
}

// backup streams the newest full snapshot that restores into etcdVersion and holds at least etcdRevision
// (etcd-operator's sidecar semantics), decompressed and decrypted, its sha256 checked on the way.
func (h *handler) backup(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	req := engine.NewestFullRequest{EtcdVersion: q.Get("etcdVersion")}
	if s := q.Get("etcdRevision"); s != "" {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n < 0 {
			http.Error(w, fmt.Sprintf("etcdRevision %q: want a decimal revision", s), http.StatusBadRequest)
			return
		}
		req.MinRevision = n
	}
	b, err := h.cfg.Repo.NewestFull(r.Context(), req)
	var bad *fault.BadSetting
	switch {
	case errors.As(err, &bad):
		http.Error(w, "etcdVersion: "+bad.What, http.StatusBadRequest)
		return
	case errors.Is(err, fault.ErrNothingCompatible):
		http.Error(w, err.Error(), http.StatusNotFound)
		return
	case err != nil:
		http.Error(w, "choose a backup: "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set(HeaderEtcdVersion, b.EtcdVersion)
	w.Header().Set(HeaderRevision, strconv.FormatInt(b.EndRevision, 10))
	if err := h.cfg.Repo.StreamFull(r.Context(), b, w); err != nil {
		h.cfg.Logger.Error("serving backup failed", "key", b.Key, "err", err)
		panic(http.ErrAbortHandler) // the client must not take a cut stream for a whole one
	}
}
