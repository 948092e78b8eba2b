package leadership

import (
	"sync"
	"time"

	"github.com/etcd-dr/etcd-dr/engine/heartbeat"
	"github.com/prometheus/client_golang/prometheus"
)

// Metrics are the backup member's Prometheus collectors: its role, its role changes, and the age of every
// heartbeat it has seen. Register it once (registry.MustRegister(m)); a nil *Metrics records nothing.
type Metrics struct {
	role    *prometheus.GaugeVec
	changes *prometheus.CounterVec
	ageDesc *prometheus.Desc

	mu   sync.Mutex
	seen map[string]time.Time // member name -> time of its newest heartbeat
	now  func() time.Time
}

// NewMetrics makes the collectors:
//
//	etcddr_backup_role{role}                  1 for the current role, 0 for the others
//	etcddr_backup_role_changes_total{from,to} role changes
//	etcddr_heartbeat_age_seconds{member}      age of each member's newest heartbeat seen in the store
func NewMetrics() *Metrics {
	m := &Metrics{
		role: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "etcddr_backup_role", Help: "Backup member role: 1 for the current role (Leader, Follower, Unknown), 0 for the others.",
		}, []string{"role"}),
		changes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "etcddr_backup_role_changes_total", Help: "Backup member role changes.",
		}, []string{"from", "to"}),
		ageDesc: prometheus.NewDesc("etcddr_heartbeat_age_seconds",
			"Seconds since each backup member's newest heartbeat in the store (by the heartbeat's own time).", []string{"member"}, nil),
		seen: map[string]time.Time{},
		now:  time.Now,
	}
	for _, r := range []heartbeat.Role{heartbeat.Leader, heartbeat.Follower, heartbeat.Unknown} {
		m.role.WithLabelValues(string(r)).Set(0)
	}
	return m
}

// Describe implements prometheus.Collector.
func (m *Metrics) Describe(ch chan<- *prometheus.Desc) {
	m.role.Describe(ch)
	m.changes.Describe(ch)
	ch <- m.ageDesc
}

// Collect implements prometheus.Collector.
func (m *Metrics) Collect(ch chan<- prometheus.Metric) {
	m.role.Collect(ch)
	m.changes.Collect(ch)
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.now()
	for name, t := range m.seen {
		ch <- prometheus.MustNewConstMetric(m.ageDesc, prometheus.GaugeValue, now.Sub(t).Seconds(), name)
	}
}

// SeenHeartbeats records the heartbeats read from the store (ages are computed at scrape time).
func (m *Metrics) SeenHeartbeats(hbs []heartbeat.Seen) {
	if m == nil {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, h := range hbs {
		if h.Name != "" && h.Time.After(m.seen[h.Name]) {
			m.seen[h.Name] = h.Time
		}
	}
}

func (m *Metrics) setRole(r heartbeat.Role) {
	if m == nil {
		return
	}
	for _, x := range []heartbeat.Role{heartbeat.Leader, heartbeat.Follower, heartbeat.Unknown} {
		v := 0.0
		if x == r {
			v = 1
		}
		m.role.WithLabelValues(string(x)).Set(v)
	}
}

func (m *Metrics) roleChanged(from, to heartbeat.Role) {
	if m == nil {
		return
	}
	m.setRole(to)
	m.changes.WithLabelValues(string(from), string(to)).Inc()
}
