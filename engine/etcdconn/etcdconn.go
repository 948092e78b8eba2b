// Package etcdconn opens etcd clients from etcdctl-style connection settings (endpoints, TLS, auth).
package etcdconn

import (
	"crypto/tls"
	"errors"
	"strings"
	"time"

	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	"go.etcd.io/etcd/client/pkg/v3/transport"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"

	"github.com/etcd-dr/etcd-dr/engine/fault"
)

// Config is how to reach etcd, as etcdctl takes it.
type Config struct {
	// Endpoints are client URLs (http://127.0.0.1:2379); host:port is taken as http:// or, with TLS files, https://.
	Endpoints []string
	// CACert, Cert, Key are PEM files for TLS (any may be empty).
	CACert, Cert, Key string
	// User and Password for etcd auth; User may be "name:password" as in etcdctl.
	User, Password string
	// DialTimeout bounds connecting (default 5s). Streams (snapshots) have no deadline of their own.
	DialTimeout time.Duration
}

// Validate refuses settings that cannot work, before anything connects.
func (c Config) Validate() error {
	if len(c.Endpoints) == 0 {
		return fault.Bad("endpoints", "", "is required, e.g. http://127.0.0.1:2379 (or ETCDCTL_ENDPOINTS)")
	}
	for _, e := range c.Endpoints {
		if strings.TrimSpace(e) == "" {
			return fault.Bad("endpoints", strings.Join(c.Endpoints, ","), "has an empty entry")
		}
	}
	if (c.Cert == "") != (c.Key == "") {
		return fault.Bad("client certificate and key", "", "go together (a client certificate needs its key)")
	}
	return nil
}

// TLS returns the client TLS config, or nil when no TLS file is set.
func (c Config) TLS() (*tls.Config, error) {
	if c.CACert == "" && c.Cert == "" && c.Key == "" {
		return nil, nil
	}
	info := transport.TLSInfo{TrustedCAFile: c.CACert, CertFile: c.Cert, KeyFile: c.Key}
	t, err := info.ClientConfig()
	if err != nil {
		return nil, fault.Bad("etcd TLS files", "", "CA %q, certificate %q, key %q: %v", c.CACert, c.Cert, c.Key, err)
	}
	return t, nil
}

// New opens a client. The caller closes it.
func New(c Config) (*clientv3.Client, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	tlsCfg, err := c.TLS()
	if err != nil {
		return nil, err
	}
	eps := c.URLs()
	user, pass := c.User, c.Password
	if i := strings.IndexByte(user, ':'); i >= 0 && pass == "" {
		user, pass = user[:i], user[i+1:]
	}
	dt := c.DialTimeout
	if dt == 0 {
		dt = 5 * time.Second
	}
	cli, err := clientv3.New(clientv3.Config{
		Endpoints:          eps,
		TLS:                tlsCfg,
		Username:           user,
		Password:           pass,
		DialTimeout:        dt,
		Logger:             zap.NewNop(),
		MaxCallRecvMsgSize: 0, // unlimited: snapshots and big ranges stream
	})
	if err != nil {
		auth := errors.Is(err, rpctypes.ErrAuthFailed) || strings.Contains(err.Error(), "authentication failed")
		return nil, &fault.EtcdUnreachable{Endpoints: eps, AuthFailed: auth, Err: err}
	}
	return cli, nil
}

// URLs are the endpoints as URLs: a bare host:port gets https:// when a TLS file is set, else http:// (etcdctl's
// rule). The one place endpoints are normalised, for connecting and for matching them with members' URLs.
func (c Config) URLs() []string {
	tls := c.CACert != "" || c.Cert != "" || c.Key != ""
	out := make([]string, 0, len(c.Endpoints))
	for _, e := range c.Endpoints {
		out = append(out, normalize(strings.TrimSpace(e), tls))
	}
	return out
}

func normalize(ep string, tls bool) string {
	if strings.Contains(ep, "://") {
		return ep
	}
	if tls {
		return "https://" + ep
	}
	return "http://" + ep
}
