// Package exporter turns a store root's backup health into Prometheus gauges, one series per cluster: what an
// alert needs to page when a cluster's backups stop, fall behind or break, even while that cluster is down.
package exporter

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/etcd-dr/etcd-dr/engine"
	"github.com/etcd-dr/etcd-dr/engine/heartbeat"
)

// DefaultRefresh is how often the store is listed unless Config.Refresh says otherwise.
const DefaultRefresh = time.Minute

// Config of an Exporter.
type Config struct {
	// Repo is the store root to watch (required); it is listed again at every refresh.
	Repo *engine.Repo
	// Refresh is how often the store is listed (default DefaultRefresh): one listing per refresh, however often
	// Prometheus scrapes.
	Refresh time.Duration
	Logger  *slog.Logger
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// Exporter is a prometheus.Collector of the last listing's health.
type Exporter struct {
	cfg Config

	mu      sync.Mutex
	health  []engine.ClusterHealth
	seen    []heartbeat.Seen
	listErr bool
	listed  time.Time

	lastBackup, restorable, onDemand, gaps, problems, chains, backupMembers, up, listedAt *prometheus.Desc
}

// New builds an Exporter; Run keeps it fresh.
func New(cfg Config) *Exporter {
	if cfg.Refresh <= 0 {
		cfg.Refresh = DefaultRefresh
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	c := []string{"cluster"}
	return &Exporter{cfg: cfg,
		lastBackup:    prometheus.NewDesc("etcddr_cluster_last_backup_timestamp_seconds", "Unix time of the cluster's newest backup object (0 when it has none).", c, nil),
		restorable:    prometheus.NewDesc("etcddr_cluster_restorable_revision", "Newest revision the cluster's backups restore to without crossing a gap (absent while only snapshots whose revision is read on demand exist).", c, nil),
		onDemand:      prometheus.NewDesc("etcddr_cluster_revision_on_demand", "1 when the cluster's newest backup is a compressed or encrypted snapshot of another tool whose revision is read only when picked: the restorable revision is then a lower bound, or absent.", c, nil),
		gaps:          prometheus.NewDesc("etcddr_cluster_gaps", "Gaps (revisions in no object) in the cluster's chains.", c, nil),
		problems:      prometheus.NewDesc("etcddr_cluster_problems", "Problems found in the cluster's backups (unusable objects, chain problems).", c, nil),
		chains:        prometheus.NewDesc("etcddr_cluster_chains", "Backup chains (a full snapshot and its deltas) of the cluster.", c, nil),
		backupMembers: prometheus.NewDesc("etcddr_cluster_backup_members", "Backup daemons with a fresh heartbeat in the cluster's members/ folder, by role.", []string{"cluster", "role"}, nil),
		up:            prometheus.NewDesc("etcddr_store_up", "1 when the last listing of the store succeeded.", nil, nil),
		listedAt:      prometheus.NewDesc("etcddr_store_listed_timestamp_seconds", "Unix time of the last successful listing.", nil, nil),
	}
}

// Refresh lists the store once and keeps what it found.
func (e *Exporter) Refresh(ctx context.Context) error {
	err := e.cfg.Repo.Reload(ctx)
	if err == nil {
		// What list shows: a chain tagged excluded (S3/Azure) does not count as restorable.
		err = e.cfg.Repo.ReadExcludeTags(ctx)
	}
	if err != nil {
		e.mu.Lock()
		e.listErr = true
		e.mu.Unlock()
		e.cfg.Logger.Warn("store not listed", "store", e.cfg.Repo.URL(), "err", err)
		return err
	}
	now := e.cfg.Now()
	health, seen, _ := e.cfg.Repo.Health(ctx, now, 0)
	e.mu.Lock()
	e.health, e.seen, e.listErr, e.listed = health, seen, false, now
	e.mu.Unlock()
	return nil
}

// Run refreshes every Config.Refresh until ctx ends (the first refresh at once).
func (e *Exporter) Run(ctx context.Context) {
	t := time.NewTicker(e.cfg.Refresh)
	defer t.Stop()
	for {
		_ = e.Refresh(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Describe implements prometheus.Collector.
func (e *Exporter) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{e.lastBackup, e.restorable, e.onDemand, e.gaps, e.problems, e.chains, e.backupMembers, e.up, e.listedAt} {
		ch <- d
	}
}

// Collect implements prometheus.Collector: the last listing, never a listing of its own.
func (e *Exporter) Collect(ch chan<- prometheus.Metric) {
	e.mu.Lock()
	defer e.mu.Unlock()
	up := 1.0
	if e.listErr || e.listed.IsZero() {
		up = 0
	}
	ch <- prometheus.MustNewConstMetric(e.up, prometheus.GaugeValue, up)
	if !e.listed.IsZero() {
		ch <- prometheus.MustNewConstMetric(e.listedAt, prometheus.GaugeValue, float64(e.listed.Unix()))
	}
	for _, h := range e.health {
		ts := 0.0
		if !h.LastBackup.IsZero() {
			ts = float64(h.LastBackup.Unix())
		}
		ch <- prometheus.MustNewConstMetric(e.lastBackup, prometheus.GaugeValue, ts, h.Cluster)
		if !h.RevisionOnDemand || h.RestorableRevision > 0 {
			// Unknown is no series, not 0: a revision that drops to 0 looks like data loss to an alert.
			ch <- prometheus.MustNewConstMetric(e.restorable, prometheus.GaugeValue, float64(h.RestorableRevision), h.Cluster)
		}
		ch <- prometheus.MustNewConstMetric(e.onDemand, prometheus.GaugeValue, boolGauge(h.RevisionOnDemand), h.Cluster)
		ch <- prometheus.MustNewConstMetric(e.gaps, prometheus.GaugeValue, float64(h.Gaps), h.Cluster)
		ch <- prometheus.MustNewConstMetric(e.problems, prometheus.GaugeValue, float64(h.Problems), h.Cluster)
		ch <- prometheus.MustNewConstMetric(e.chains, prometheus.GaugeValue, float64(h.Chains), h.Cluster)
		roles := map[heartbeat.Role]int{heartbeat.Leader: 0, heartbeat.Follower: 0, heartbeat.Unknown: 0}
		for _, s := range e.seen {
			if s.Cluster == h.Cluster && !s.Stale {
				roles[s.Role]++
			}
		}
		for role, n := range roles {
			ch <- prometheus.MustNewConstMetric(e.backupMembers, prometheus.GaugeValue, float64(n), h.Cluster, string(role))
		}
	}
}

func boolGauge(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
