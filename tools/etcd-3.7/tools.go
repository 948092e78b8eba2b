//go:build tools

// Package tools pins the etcd 3.7 server binary that the version-compatibility
// tests run. Build it with "make tools"; it lands in .tools/bin.
package tools

import (
	_ "go.etcd.io/etcd/server/v3"
)
