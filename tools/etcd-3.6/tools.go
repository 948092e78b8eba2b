//go:build tools

// Package tools pins the etcd 3.6 binaries (etcd, etcdctl, etcdutl) that the
// tests run. Build them with "make tools"; they land in .tools/bin.
package tools

import (
	_ "go.etcd.io/etcd/etcdctl/v3"
	_ "go.etcd.io/etcd/etcdutl/v3"
	_ "go.etcd.io/etcd/server/v3"
)
