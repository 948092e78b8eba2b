//go:build tools

// Package tools pins gardener's etcd-backup-restore (etcdbrctl), the tool whose buckets etcd-dr must read and
// which must read etcd-dr's: the interoperability tests run it both ways. Build it with "make tools"; it lands in
// .tools/bin.
package tools

import (
	_ "github.com/gardener/etcd-backup-restore"
)
