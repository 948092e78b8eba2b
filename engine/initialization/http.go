package initialization

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
)

// Paths of the handshake, as etcd-backup-restore serves them.
const (
	StatusPath = "/initialization/status"
	StartPath  = "/initialization/start"
)

// StatusHandler serves GET /initialization/status: the state in plain text (New, Progress, Successful, Failed),
// or with ?format=json the state and the last run's reason, revision and seconds.
func (m *Manager) StatusHandler(w http.ResponseWriter, r *http.Request) {
	switch f := r.URL.Query().Get("format"); f {
	case "json":
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(m.Status())
	case "", "text":
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		fmt.Fprint(w, m.State())
	default:
		http.Error(w, fmt.Sprintf("format %q: use text or json", f), http.StatusBadRequest)
	}
}

// StartHandler serves GET /initialization/start[?mode=quick|full][&failbelowrevision=N]: it starts a run and
// answers at once (200); a start while one runs is a no-op (also 200, as etcd-backup-restore answers).
func (m *Manager) StartHandler(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	mode, err := ParseMode(q.Get("mode"))
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	req := Request{Mode: mode}
	if s := q.Get("failbelowrevision"); s != "" {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n < 0 {
			http.Error(w, fmt.Sprintf("failbelowrevision %q: want a decimal revision", s), http.StatusBadRequest)
			return
		}
		req.FailBelowRevision = n
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	if m.Start(req) {
		m.cfg.Logger.Info("initialization start requested", "mode", mode, "failBelowRevision", req.FailBelowRevision)
		fmt.Fprintln(w, "initialization started")
		return
	}
	fmt.Fprintln(w, "initialization already in progress")
}
