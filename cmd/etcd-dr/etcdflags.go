package main

import (
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/etcd-dr/etcd-dr/engine/etcdconn"
)

// etcdOptions are etcdctl's connection flags, with the same ETCDCTL_* environment variables.
type etcdOptions struct {
	endpoints         []string
	cacert, cert, key string
	user, password    string
}

func envList(name string) []string {
	v := os.Getenv(name)
	if v == "" {
		return nil
	}
	return strings.Split(v, ",")
}

// addFlags adds --endpoints --cacert --cert --key --user --password to cmd.
func (o *etcdOptions) addFlags(cmd *cobra.Command) {
	f := cmd.Flags()
	f.StringSliceVar(&o.endpoints, "endpoints", envList("ETCDCTL_ENDPOINTS"), "etcd client URLs, comma-separated (env ETCDCTL_ENDPOINTS)")
	f.StringVar(&o.cacert, "cacert", os.Getenv("ETCDCTL_CACERT"), "CA bundle to verify etcd's TLS certificate (env ETCDCTL_CACERT)")
	f.StringVar(&o.cert, "cert", os.Getenv("ETCDCTL_CERT"), "client TLS certificate (env ETCDCTL_CERT)")
	f.StringVar(&o.key, "key", os.Getenv("ETCDCTL_KEY"), "client TLS key (env ETCDCTL_KEY)")
	f.StringVar(&o.user, "user", os.Getenv("ETCDCTL_USER"), "etcd user, or user:password (env ETCDCTL_USER)")
	f.StringVar(&o.password, "password", os.Getenv("ETCDCTL_PASSWORD"), "etcd password (env ETCDCTL_PASSWORD)")
}

func (o *etcdOptions) config() etcdconn.Config {
	return etcdconn.Config{Endpoints: o.endpoints, CACert: o.cacert, Cert: o.cert, Key: o.key, User: o.user, Password: o.password}
}
