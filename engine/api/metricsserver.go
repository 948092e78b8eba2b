package api

import (
	"context"
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/etcd-dr/etcd-dr/engine/fault"
)

// MetricsServer is a listener for /metrics (behind the same bearer token and TLS as the daemon's API) and
// /healthz: what `etcd-dr exporter` serves.
type MetricsServer struct {
	// Listen is host:port (default DefaultListen).
	Listen string
	// Token, when set, is required as a bearer token on /metrics.
	Token string
	// CertFile and KeyFile serve HTTPS when both are set.
	CertFile, KeyFile string
	Gatherer          prometheus.Gatherer
}

// Handler is the server's routes.
func (m MetricsServer) Handler() http.Handler {
	h := &handler{cfg: Config{Token: m.Token}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte("ok\n")) })
	mux.Handle("GET /metrics", h.auth(promhttp.HandlerFor(m.Gatherer, promhttp.HandlerOpts{}).ServeHTTP))
	return mux
}

// Serve listens and serves until ctx ends. ready, when set, receives the address actually listened on.
func (m MetricsServer) Serve(ctx context.Context, ready func(addr string)) error {
	if m.Listen == "" {
		m.Listen = DefaultListen
	}
	if (m.CertFile == "") != (m.KeyFile == "") {
		return fault.Refused("metrics listener: a TLS certificate needs its key and a key its certificate")
	}
	return serve(ctx, m.Listen, m.Handler(), m.CertFile, m.KeyFile, ready)
}
