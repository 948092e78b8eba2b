package main

import (
	"os"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/etcd-dr/etcd-dr/engine/etcdconn"
)

// etcdOptions are etcdctl's connection flags, with the same ETCDCTL_* environment variables.
type etcdOptions struct {
	endpoints         []string
	cacert, cert, key string
	user, password    string
}

// Annotations of flags: envAnnotation names the environment variable a flag defaults to, secretAnnotation marks a
// flag whose value is a credential.
const (
	envAnnotation    = "etcd-dr/env"
	secretAnnotation = "etcd-dr/secret"
)

// bindEnv makes env the default of flag. The value is read after parsing (applyEnv), never at registration, so
// that help never prints it: its defaults may be passwords and tokens.
func bindEnv(f *pflag.FlagSet, flag, env string) {
	_ = f.SetAnnotation(flag, envAnnotation, []string{env})
}

// markSecret keeps the value of flag out of every message (see secretValues).
func markSecret(f *pflag.FlagSet, flag string) {
	_ = f.SetAnnotation(flag, secretAnnotation, []string{"true"})
}

// applyEnv gives every flag of cmd that the command line did not set the value of its environment variable.
func applyEnv(cmd *cobra.Command) error {
	var err error
	cmd.Flags().VisitAll(func(fl *pflag.Flag) {
		env := fl.Annotations[envAnnotation]
		if err != nil || fl.Changed || len(env) == 0 {
			return
		}
		if v := os.Getenv(env[0]); v != "" {
			if e := fl.Value.Set(v); e != nil {
				err = usagef("environment variable %s (for --%s): %v", env[0], fl.Name, e) // not the value: it may be a secret
			}
		}
	})
	return err
}

// secretValues are the values of cmd's credential flags (and the password of --user name:password), for
// engine.RedactText to mask.
func secretValues(cmd *cobra.Command) []string {
	var out []string
	cmd.Flags().VisitAll(func(fl *pflag.Flag) {
		v := fl.Value.String()
		switch {
		case v == "":
		case len(fl.Annotations[secretAnnotation]) > 0:
			out = append(out, v)
		case fl.Name == "user" && strings.Contains(v, ":"):
			out = append(out, v[strings.Index(v, ":")+1:])
		}
	})
	return out
}

// addFlags adds --endpoints --cacert --cert --key --user --password to cmd.
func (o *etcdOptions) addFlags(cmd *cobra.Command) {
	f := cmd.Flags()
	f.StringSliceVar(&o.endpoints, "endpoints", nil, "etcd client URLs, comma-separated (env ETCDCTL_ENDPOINTS)")
	f.StringVar(&o.cacert, "cacert", "", "CA bundle to verify etcd's TLS certificate (env ETCDCTL_CACERT)")
	f.StringVar(&o.cert, "cert", "", "client TLS certificate (env ETCDCTL_CERT)")
	f.StringVar(&o.key, "key", "", "client TLS key (env ETCDCTL_KEY)")
	f.StringVar(&o.user, "user", "", "etcd user, or user:password (env ETCDCTL_USER)")
	f.StringVar(&o.password, "password", "", "etcd password (env ETCDCTL_PASSWORD)")
	for flag, env := range map[string]string{"endpoints": "ETCDCTL_ENDPOINTS", "cacert": "ETCDCTL_CACERT", "cert": "ETCDCTL_CERT",
		"key": "ETCDCTL_KEY", "user": "ETCDCTL_USER", "password": "ETCDCTL_PASSWORD"} {
		bindEnv(f, flag, env)
	}
	markSecret(f, "password")
}

func (o *etcdOptions) config() etcdconn.Config {
	return etcdconn.Config{Endpoints: o.endpoints, CACert: o.cacert, Cert: o.cert, Key: o.key, User: o.user, Password: o.password}
}
