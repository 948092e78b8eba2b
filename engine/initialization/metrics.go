package initialization

import "github.com/prometheus/client_golang/prometheus"

// Metrics are the handshake's Prometheus metrics. A nil *Metrics records nothing.
type Metrics struct {
	runs     *prometheus.CounterVec
	seconds  prometheus.Histogram
	lastTime prometheus.Gauge
	lastOK   prometheus.Gauge
}

// NewMetrics registers the metrics on reg (the daemon's registry).
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		runs: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "etcddr_initialization_runs_total",
			Help: "Initialization runs (GET /initialization/start), by result (Successful, Failed) and action (none, restored, fresh, join)."}, []string{"result", "action"}),
		seconds: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "etcddr_initialization_duration_seconds",
			Help: "Time an initialization run took (validation, and a restore when one was needed).", Buckets: prometheus.ExponentialBuckets(0.05, 3, 10)}),
		lastTime: prometheus.NewGauge(prometheus.GaugeOpts{Name: "etcddr_initialization_last_timestamp_seconds",
			Help: "Unix time the last initialization run ended."}),
		lastOK: prometheus.NewGauge(prometheus.GaugeOpts{Name: "etcddr_initialization_last_success",
			Help: "1 when the last initialization run succeeded, 0 when it failed."}),
	}
	reg.MustRegister(m.runs, m.seconds, m.lastTime, m.lastOK)
	for _, r := range []string{Successful, Failed} {
		m.runs.WithLabelValues(r, "")
	}
	return m
}

func (m *Metrics) observe(r Result) {
	if m == nil {
		return
	}
	m.runs.WithLabelValues(r.State, r.Action).Inc()
	m.seconds.Observe(r.Took)
	m.lastTime.Set(float64(r.Started.Unix()) + r.Took)
	if r.State == Successful {
		m.lastOK.Set(1)
	} else {
		m.lastOK.Set(0)
	}
}
