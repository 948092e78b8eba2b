package main

import (
	"context"
	"fmt"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/spf13/cobra"

	"github.com/etcd-dr/etcd-dr/engine"
	"github.com/etcd-dr/etcd-dr/engine/api"
	"github.com/etcd-dr/etcd-dr/engine/exporter"
)

type exporterOptions struct {
	listen   string
	refresh  time.Duration
	token    string
	certFile string
	keyFile  string
	// ready, when set (tests), receives the address listened on.
	ready func(addr string)
}

func newExporterCommand(g *globalOptions) *cobra.Command {
	var o exporterOptions
	cmd := &cobra.Command{
		Use:   "exporter --store ROOT [--listen ADDR] [--refresh 1m]",
		Short: "Serve Prometheus gauges of every cluster's backup health in a store root",
		Long: `Lists the store root every --refresh (one listing, however often Prometheus scrapes) and serves, per cluster
folder: etcddr_cluster_last_backup_timestamp_seconds, _restorable_revision, _gaps, _problems, _chains and
_backup_members{role}, plus etcddr_store_up. It reads only; deploy/prometheus/etcd-dr-alerts.yml has alert rules
for it. --api-token (or ETCD_DR_API_TOKEN) guards /metrics as it guards the daemon's API.`,
		Example: `  etcd-dr exporter --store 's3://seed-backups?region=eu-west-1' --listen 127.0.0.1:9842 --refresh 1m`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runExporter(cmd.Context(), g, o)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.listen, "listen", "127.0.0.1:9842", "address to serve /metrics and /healthz on")
	f.DurationVar(&o.refresh, "refresh", exporter.DefaultRefresh, "how often to list the store")
	f.StringVar(&o.token, "api-token", "", "require this bearer token on /metrics (env ETCD_DR_API_TOKEN)")
	bindEnv(f, "api-token", "ETCD_DR_API_TOKEN")
	markSecret(f, "api-token")
	f.StringVar(&o.certFile, "api-cert", "", "TLS certificate to serve with")
	f.StringVar(&o.keyFile, "api-key", "", "TLS key to serve with")
	return cmd
}

func runExporter(ctx context.Context, g *globalOptions, o exporterOptions) error {
	if o.refresh <= 0 {
		return usagef("--refresh %s: want a positive duration, e.g. 1m", o.refresh)
	}
	url, err := g.requireStore()
	if err != nil {
		return err
	}
	repo, err := engine.OpenUnlisted(ctx, url, engine.Options{Cluster: g.cluster, Logger: g.log})
	if err != nil {
		return err
	}
	defer repo.Close()
	exp := exporter.New(exporter.Config{Repo: repo, Refresh: o.refresh, Logger: g.log})
	reg := prometheus.NewRegistry()
	reg.MustRegister(exp)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go exp.Run(ctx)
	srv := api.MetricsServer{Listen: o.listen, Token: o.token, CertFile: o.certFile, KeyFile: o.keyFile, Gatherer: reg}
	return srv.Serve(ctx, func(addr string) {
		g.log.Info("etcd-dr exporter serving", "addr", addr, "store", repo.URL(), "refresh", o.refresh)
		fmt.Fprintf(g.stderr, "etcd-dr exporter: serving /metrics on %s\n", addr)
		if o.ready != nil {
			o.ready(addr)
		}
	})
}
