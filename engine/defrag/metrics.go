package defrag

import "github.com/prometheus/client_golang/prometheus"

// Metrics are the defragmentation collectors. Register it once (registry.MustRegister(m)); a nil *Metrics
// records nothing.
type Metrics struct {
	runs      *prometheus.CounterVec
	reclaimed prometheus.Counter
	last      *prometheus.GaugeVec
}

// NewMetrics makes the collectors:
//
//	etcddr_defrag_runs_total{result}          rolling defragmentations by result: ok, failed, refused
//	etcddr_defrag_reclaimed_bytes_total       db bytes given back by successful runs (sum over members)
//	etcddr_defrag_last_run_timestamp_seconds{result}  when the last run of each result ended
func NewMetrics() *Metrics {
	return &Metrics{
		runs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "etcddr_defrag_runs_total", Help: "Rolling defragmentations, by result (ok, failed, refused).",
		}, []string{"result"}),
		reclaimed: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "etcddr_defrag_reclaimed_bytes_total", Help: "Database bytes reclaimed by rolling defragmentations (sum over members).",
		}),
		last: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "etcddr_defrag_last_run_timestamp_seconds", Help: "Unix time the last rolling defragmentation of each result ended.",
		}, []string{"result"}),
	}
}

// Describe implements prometheus.Collector.
func (m *Metrics) Describe(ch chan<- *prometheus.Desc) {
	m.runs.Describe(ch)
	m.reclaimed.Describe(ch)
	m.last.Describe(ch)
}

// Collect implements prometheus.Collector.
func (m *Metrics) Collect(ch chan<- prometheus.Metric) {
	m.runs.Collect(ch)
	m.reclaimed.Collect(ch)
	m.last.Collect(ch)
}

func (m *Metrics) run(result string, reclaimed int64) {
	if m == nil {
		return
	}
	m.runs.WithLabelValues(result).Inc()
	if reclaimed > 0 {
		m.reclaimed.Add(float64(reclaimed))
	}
	m.last.WithLabelValues(result).SetToCurrentTime()
}
