package daemon

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/etcd-dr/etcd-dr/engine/catalog"
	"github.com/etcd-dr/etcd-dr/engine/snapshot"
)

// Metrics are the daemon's Prometheus metrics. A nil *Metrics records nothing.
type Metrics struct {
	lastTime     *prometheus.GaugeVec
	lastRevision *prometheus.GaugeVec
	duration     *prometheus.HistogramVec
	bytes        *prometheus.CounterVec
	taken        *prometheus.CounterVec
	failures     *prometheus.CounterVec
	skipped      prometheus.Counter
	forced       prometheus.Counter
	gcDeletions  prometheus.Counter
	isLeader     prometheus.Gauge
}

// NewMetrics registers the metrics on reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		lastTime: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "etcddr_last_snapshot_timestamp_seconds",
			Help: "Unix time of the last snapshot stored, by kind (full, delta)."}, []string{"kind"}),
		lastRevision: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "etcddr_last_snapshot_revision",
			Help: "Last etcd revision held by the last snapshot stored, by kind."}, []string{"kind"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "etcddr_snapshot_duration_seconds",
			Help: "Time to take and store a snapshot, by kind.", Buckets: prometheus.ExponentialBuckets(0.01, 4, 10)}, []string{"kind"}),
		bytes: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "etcddr_snapshot_stored_bytes_total",
			Help: "Bytes stored (after compression/encryption), by kind."}, []string{"kind"}),
		taken: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "etcddr_snapshots_total",
			Help: "Snapshots stored, by kind."}, []string{"kind"}),
		failures: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "etcddr_snapshot_failures_total",
			Help: "Failed snapshot attempts (each retry counts), by kind."}, []string{"kind"}),
		skipped: prometheus.NewCounter(prometheus.CounterOpts{Name: "etcddr_full_snapshots_skipped_total",
			Help: "Full snapshots skipped because the revision had not changed."}),
		forced: prometheus.NewCounter(prometheus.CounterOpts{Name: "etcddr_forced_full_snapshots_total",
			Help: "Full snapshots forced by a watch that hit a compacted revision."}),
		gcDeletions: prometheus.NewCounter(prometheus.CounterOpts{Name: "etcddr_gc_deleted_objects_total",
			Help: "Objects deleted by garbage collection."}),
		isLeader: prometheus.NewGauge(prometheus.GaugeOpts{Name: "etcddr_backup_leader",
			Help: "1 when this member is the backup leader (takes snapshots, runs GC)."}),
	}
	reg.MustRegister(m.lastTime, m.lastRevision, m.duration, m.bytes, m.taken, m.failures, m.skipped, m.forced, m.gcDeletions, m.isLeader)
	for _, k := range []string{string(catalog.Full), string(catalog.Delta)} {
		m.failures.WithLabelValues(k)
		m.taken.WithLabelValues(k)
	}
	return m
}

func (m *Metrics) snapshot(r snapshot.Result) {
	if m == nil {
		return
	}
	k := string(r.Kind)
	if r.Skipped {
		if r.Kind == catalog.Full {
			m.skipped.Inc()
		}
		return
	}
	m.lastTime.WithLabelValues(k).Set(float64(r.Time.Unix()))
	m.lastRevision.WithLabelValues(k).Set(float64(r.EndRevision))
	m.duration.WithLabelValues(k).Observe(r.Took.Seconds())
	m.bytes.WithLabelValues(k).Add(float64(r.Size))
	m.taken.WithLabelValues(k).Inc()
	if r.Forced {
		m.forced.Inc()
	}
}

func (m *Metrics) failure(kind catalog.Kind) {
	if m != nil {
		m.failures.WithLabelValues(string(kind)).Inc()
	}
}

func (m *Metrics) gcDeleted(n int) {
	if m != nil {
		m.gcDeletions.Add(float64(n))
	}
}

func (m *Metrics) leader(yes bool) {
	if m == nil {
		return
	}
	if yes {
		m.isLeader.Set(1)
	} else {
		m.isLeader.Set(0)
	}
}
