package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/spf13/cobra"

	"github.com/etcd-dr/etcd-dr/engine/api"
	"github.com/etcd-dr/etcd-dr/engine/daemon"
	"github.com/etcd-dr/etcd-dr/engine/initialization"
	"github.com/etcd-dr/etcd-dr/engine/restore"
	"github.com/etcd-dr/etcd-dr/engine/snapshot"
)

// daemonOptions are the flags of `etcd-dr --daemon` (flags of the root command).
type daemonOptions struct {
	enabled      bool
	etcd         etcdOptions
	write        writeOptions
	gc           gcOptions
	name         string
	fullSchedule string
	deltaPeriod  time.Duration
	memoryLimit  int64
	gcPeriod     time.Duration
	spoolDir     string
	spoolLimit   int64
	listen       string
	metricsAddr  string
	apiToken     string
	apiCert      string
	apiKey       string
	logFormat    string
	identity     identityOptions
	cluster      clusterOptions
	// The initialization handshake (engine/initialization): the etcd member's data dir and its restore settings.
	dataDir        string
	initialCluster string
	peerURLs       string
	clusterToken   string
}

// addDaemon adds --daemon and its flags to the root command: with --daemon, the root runs the daemon instead
// of what it does otherwise.
func addDaemon(root *cobra.Command, g *globalOptions) {
	o := &daemonOptions{}
	f := root.Flags()
	f.BoolVar(&o.enabled, "daemon", false, "run headless: full snapshots by --full-schedule, deltas every --delta-period, GC, HTTP API on --listen")
	o.write.addFlags(root)
	o.gc.addFlags(root, "")
	f.StringVar(&o.name, "name", "", "this backup member's name: its heartbeat <store>/members/<name>.json, and the etcd member it sits beside (default: the host name, beside the first endpoint's member)")
	o.cluster.addFlags(f)
	f.StringVar(&o.fullSchedule, "full-schedule", daemon.DefaultFullSchedule, "cron schedule (5 fields, UTC) of full snapshots, or @every DURATION")
	f.DurationVar(&o.deltaPeriod, "delta-period", snapshot.DefaultDeltaPeriod, "store buffered events as a delta this often (nothing for a quiet period)")
	f.Int64Var(&o.memoryLimit, "delta-memory-limit", snapshot.DefaultMemoryLimit, "store a delta early once buffered events pass this many bytes")
	f.DurationVar(&o.gcPeriod, "gc-period", 0, "also run GC this often (it always runs at start and after each scheduled full snapshot)")
	f.StringVar(&o.spoolDir, "spool-dir", "", "keep deltas in this folder while the store is away (the watch goes on; uploaded in order once it is back, also after a restart)")
	f.Int64Var(&o.spoolLimit, "spool-limit", snapshot.DefaultSpoolLimit, "bytes the spool may hold; past it events wait in memory and the watch pauses")
	f.StringVar(&o.listen, "listen", api.DefaultListen, "HTTP API address (etcd-operator sidecar compatible, /healthz, /metrics); empty for none; beyond loopback it needs --api-token")
	f.StringVar(&o.metricsAddr, "metrics-listen", "", "also serve Prometheus /metrics alone on this address, without a token (the metrics hold no backup data)")
	f.StringVar(&o.apiToken, "api-token", "", "require this bearer token on the HTTP API except /healthz (env ETCD_DR_API_TOKEN); required when --listen is not loopback")
	bindEnv(f, "api-token", "ETCD_DR_API_TOKEN")
	markSecret(f, "api-token")
	f.StringVar(&o.apiCert, "api-cert", "", "TLS certificate for the HTTP API")
	f.StringVar(&o.apiKey, "api-key", "", "TLS key for the HTTP API")
	f.StringVar(&o.logFormat, "log-format", "text", "daemon log format: text or json")
	f.StringVar(&o.dataDir, "data-dir", "", "serve etcd-backup-restore's initialization handshake for this etcd data dir (GET /initialization/status, /initialization/start): validate it and restore it when missing or invalid, before etcd starts")
	f.StringVar(&o.initialCluster, "initial-cluster", "", "with --data-dir: the etcd member's initial cluster, name=peerURL,... (default <name>=<peer URL>); other members that answer forbid a restore")
	f.StringVar(&o.peerURLs, "initial-advertise-peer-urls", "", "with --data-dir: the etcd member's peer URLs, comma-separated (default http://localhost:2380)")
	f.StringVar(&o.clusterToken, "initial-cluster-token", "", "with --data-dir: initial cluster token (default \"etcd-cluster\")")
	next := root.RunE
	root.RunE = func(cmd *cobra.Command, args []string) error {
		if o.enabled {
			return runDaemon(cmd.Context(), cmd, g, o)
		}
		return next(cmd, args)
	}
}

func (o *daemonOptions) logger(cmd *cobra.Command, g *globalOptions) (*slog.Logger, error) {
	lvl := slog.LevelInfo // a daemon says what it does unless told otherwise
	if cmd.Flags().Changed("log-level") {
		if err := lvl.UnmarshalText([]byte(g.logLevel)); err != nil {
			return nil, usagef("--log-level %q: use debug, info, warn or error", g.logLevel)
		}
	}
	opts := &slog.HandlerOptions{Level: lvl, ReplaceAttr: g.redactAttr}
	switch o.logFormat {
	case "text":
		return slog.New(slog.NewTextHandler(g.stderr, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(g.stderr, opts)), nil
	}
	return nil, usagef("--log-format %q: use text or json", o.logFormat)
}

// runDaemon checks every flag before anything starts, then runs until SIGTERM/SIGINT (ctx), storing a final
// delta on the way out.
func runDaemon(ctx context.Context, cmd *cobra.Command, g *globalOptions, o *daemonOptions) error {
	log, err := o.logger(cmd, g)
	if err != nil {
		return err
	}
	gcCfg, err := o.gc.config()
	if err != nil {
		return err
	}
	if err := daemon.CheckSchedule(o.fullSchedule); err != nil {
		return usagef("--full-schedule: %v", err)
	}
	if o.deltaPeriod <= 0 || o.memoryLimit <= 0 {
		return usagef("--delta-period and --delta-memory-limit must be positive")
	}
	if (o.apiCert == "") != (o.apiKey == "") {
		return usagef("--api-cert and --api-key go together")
	}
	if err := api.CheckListen(o.listen, o.apiToken); err != nil {
		return fmt.Errorf("%w (--api-token or ETCD_DR_API_TOKEN; --listen %s)", err, api.DefaultListen)
	}
	if err := o.cluster.check(); err != nil {
		return err
	}
	if o.dataDir == "" && (o.initialCluster != "" || o.peerURLs != "" || o.clusterToken != "") {
		return usagef("--initial-cluster, --initial-advertise-peer-urls and --initial-cluster-token go with --data-dir")
	}
	if o.dataDir != "" && o.listen == "" {
		return usagef("--data-dir serves the initialization handshake on the HTTP API: --listen must not be empty")
	}
	etcdMember := "" // the member answering on the first endpoint, unless --name names one
	if cmd.Flags().Changed("name") {
		etcdMember = o.name
	}
	if o.name == "" {
		o.name, _ = os.Hostname()
	}
	o.identity = g.identity // the root's --identity and etcdctl flags, shared with the console's live view
	dec, err := o.identity.decrypter()
	if err != nil {
		return err
	}
	g.log = log
	o.etcd = g.etcd
	cfg, repo, closeAll, err := o.write.open(ctx, g, o.etcd, dec)
	if err != nil {
		return err
	}
	defer closeAll()
	cfg.DeltaPeriod, cfg.MemoryLimit = o.deltaPeriod, o.memoryLimit
	cfg.SpoolDir, cfg.SpoolLimit = o.spoolDir, o.spoolLimit
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	// Cluster awareness: only the backup leader (the daemon beside etcd's raft leader) snapshots, collects garbage
	// and defragments; every daemon writes its heartbeat. It runs until the daemon has stored its last delta.
	var running atomic.Pointer[daemon.Daemon]
	mctx, stopMember := context.WithCancel(context.WithoutCancel(ctx))
	bm, err := o.cluster.start(mctx, backupMemberConfig{Etcd: o.etcd.config(), Name: o.name, EtcdMember: etcdMember, Repo: repo,
		Registry: reg, LastSnapshot: func() (int64, time.Time) { return lastSnapshot(running.Load()) }, Log: log})
	if err != nil {
		stopMember()
		return err
	}
	defer func() {
		stopMember()
		bm.Wait() // the last heartbeat says the daemon stopped
	}()
	d, err := daemon.New(daemon.Config{Snapshot: cfg, FullSchedule: o.fullSchedule, GC: gcCfg, GCPeriod: o.gcPeriod, Leadership: bm.Elector,
		TakeoverDelay: 2 * o.cluster.leaderCheckPeriod, Logger: log, Metrics: daemon.NewMetrics(reg)})
	if err != nil {
		return usagef("%v", err)
	}
	running.Store(d)
	log.Info("etcd-dr daemon starting", "name", o.name, "store", cfg.Store.URL(), "endpoint", o.etcd.endpoints[0],
		"fullSchedule", o.fullSchedule, "deltaPeriod", o.deltaPeriod, "gcPolicy", o.gc.policy, "listen", o.listen)
	// The API reports the role the heartbeat writes (the Elector's), not the daemon loop's: during a takeover
	// wait the loop has not started yet but the member already is the Leader.
	role := func() (string, string) { s := bm.Elector.State(); return string(s.Role), s.Why }
	var initMgr *initialization.Manager
	if o.dataDir != "" {
		cl := restore.Cluster{Name: etcdMember, InitialCluster: o.initialCluster, Token: o.clusterToken}
		if o.peerURLs != "" {
			cl.PeerURLs = strings.Split(o.peerURLs, ",")
		}
		initMgr, err = initialization.NewManager(ctx, initialization.Config{Repo: repo, DataDir: o.dataDir, Cluster: cl,
			Etcd: o.etcd.config(), Logger: log, Metrics: initialization.NewMetrics(reg)})
		if err != nil {
			return usagef("--data-dir: %v", err)
		}
		log.Info("initialization handshake ready: etcd's bootstrap calls /initialization/start", "dataDir", o.dataDir)
	}
	actx, stopAPI := context.WithCancel(context.WithoutCancel(ctx))
	apiDone := make(chan error, 1)
	if o.listen != "" {
		ready := make(chan struct{})
		go func() {
			apiDone <- api.Serve(actx, api.Config{Listen: o.listen, Token: o.apiToken, CertFile: o.apiCert, KeyFile: o.apiKey,
				Backend: d, Repo: repo, Gatherer: reg, Role: role, Init: initMgr, Logger: log}, func(addr string) {
				log.Info("HTTP API listening", "addr", addr, "token", o.apiToken != "")
				close(ready)
			})
		}()
		select {
		case <-ready:
		case err := <-apiDone:
			stopAPI()
			return fmt.Errorf("HTTP API: %w", err)
		}
	} else {
		apiDone <- nil
	}
	metricsDone := make(chan error, 1)
	if o.metricsAddr != "" {
		ready := make(chan struct{})
		go func() {
			metricsDone <- api.ServeMetrics(actx, o.metricsAddr, reg, func(addr string) {
				log.Info("metrics listening", "addr", addr)
				close(ready)
			})
		}()
		select {
		case <-ready:
		case err := <-metricsDone:
			stopAPI()
			<-apiDone
			return fmt.Errorf("--metrics-listen: %w", err)
		}
	} else {
		metricsDone <- nil
	}
	err = d.Run(ctx)
	stopAPI()
	for _, done := range []chan error{apiDone, metricsDone} {
		if aerr := <-done; aerr != nil && err == nil {
			log.Error("HTTP API stopped", "err", aerr)
		}
	}
	return err
}

// lastSnapshot is the revision and time of the daemon's last stored snapshot (zero before the first).
func lastSnapshot(d *daemon.Daemon) (int64, time.Time) {
	if d == nil {
		return 0, time.Time{}
	}
	s := d.Status()
	var rev int64
	var t time.Time
	for _, r := range []*snapshot.Result{s.LastFull, s.LastDelta} {
		if r != nil && r.EndRevision > rev {
			rev, t = r.EndRevision, r.Time
		}
	}
	return rev, t
}
