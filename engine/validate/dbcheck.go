package validate

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"sort"
	"strings"
	"sync/atomic"
	"time"

	bolt "go.etcd.io/bbolt"
	"go.etcd.io/etcd/server/v3/storage/mvcc"
)

// dbInfo is what inspecting a db found.
type dbInfo struct {
	Size            int64    `json:"size"`
	Revision        int64    `json:"revision"`
	CompactRevision int64    `json:"compactRevision"`
	ConsistentIndex uint64   `json:"consistentIndex"`
	Members         []string `json:"members"`
	Problems        []string `json:"problems"`
	// HasMeta: the db has etcd's meta bucket (a data dir's db always does; a snapshot must).
	HasMeta bool `json:"hasMeta"`
}

// Environment of a child process that inspects one db (see RunChild).
const (
	childDBEnv    = "ETCD_DR_VALIDATE_DB"
	childCheckEnv = "ETCD_DR_VALIDATE_DB_CHECK"
)

// childCapable is set by RunChild: this executable can be re-run as a db-inspecting child.
var childCapable atomic.Bool

// RunChild makes this executable able to inspect a db in a child process, and is that child when started as one
// (it then prints what it found and exits). bbolt asserts with a panic in its own goroutines on a damaged page,
// which no recover can catch: in a child, a damaged db is a finding, not a crash of etcd-dr. Call it first thing in
// main (and in TestMain of tests that validate damaged data dirs); without it dbs are inspected in-process.
func RunChild() {
	path := os.Getenv(childDBEnv)
	if path == "" {
		childCapable.Store(true)
		return
	}
	info := inspectInProcess(path, os.Getenv(childCheckEnv) == "1")
	_ = json.NewEncoder(os.Stdout).Encode(info)
	os.Exit(0)
}

// inspect reads the db at path, in a child process when this executable can be one.
func inspect(path string, full bool) dbInfo {
	if !full || !childCapable.Load() {
		// Without the page check only a few pages are read: a db the caller has just written reads safely here.
		return inspectInProcess(path, full)
	}
	exe, err := os.Executable()
	if err != nil {
		return inspectInProcess(path, full)
	}
	cmd := exec.Command(exe)
	check := "0"
	if full {
		check = "1"
	}
	cmd.Env = append(os.Environ(), childDBEnv+"="+path, childCheckEnv+"="+check)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	runErr := cmd.Run()
	var info dbInfo
	if runErr == nil && json.Unmarshal(stdout.Bytes(), &info) == nil {
		return info
	}
	return dbInfo{Problems: []string{"bbolt database is damaged: reading it crashed bbolt (" + panicLine(stderr.String(), runErr) + ")"}}
}

// panicLine picks the panic message out of a crashed child's stderr.
func panicLine(stderr string, err error) string {
	for _, l := range strings.Split(stderr, "\n") {
		if strings.HasPrefix(l, "panic: ") || strings.HasPrefix(l, "fatal error: ") || strings.HasPrefix(l, "unexpected fault") {
			return strings.TrimSpace(l)
		}
	}
	return fmt.Sprint(err)
}

// inspectInProcess runs bbolt's consistency check (when full) and reads the revision, consistent index and members.
func inspectInProcess(path string, full bool) (info dbInfo) {
	info.Members = []string{}
	defer func() {
		if p := recover(); p != nil {
			info.Problems = append(info.Problems, fmt.Sprintf("bbolt database is damaged: %v", p))
		}
	}()
	db, err := bolt.Open(path, 0o400, &bolt.Options{ReadOnly: true, Timeout: 2 * time.Second})
	if errors.Is(err, bolt.ErrTimeout) {
		info.Problems = append(info.Problems, "db is locked by another process (is etcd running on this data dir?); stop it, or validate a copy")
		return info
	}
	if err != nil {
		info.Problems = append(info.Problems, fmt.Sprintf("not a readable bbolt database: %v", err))
		return info
	}
	defer db.Close()
	err = db.View(func(tx *bolt.Tx) error {
		info.Size = tx.Size()
		if full {
			var errs []string
			for e := range tx.Check() {
				if len(errs) < 10 {
					errs = append(errs, e.Error())
				}
			}
			if len(errs) > 0 {
				info.Problems = append(info.Problems, fmt.Sprintf("bbolt consistency check failed: %s", strings.Join(errs, "; ")))
				return nil
			}
		}
		if b := tx.Bucket([]byte("key")); b == nil {
			info.Problems = append(info.Problems, "db has no \"key\" bucket: not an etcd v3 database")
		} else if k, _ := b.Cursor().Last(); k != nil {
			if len(k) < 17 {
				info.Problems = append(info.Problems, fmt.Sprintf("db's newest key-bucket entry is malformed (%d bytes)", len(k)))
			} else {
				info.Revision = mvcc.BytesToRev(k).Main
			}
		}
		if b := tx.Bucket([]byte("meta")); b != nil {
			info.HasMeta = true
			if v := b.Get([]byte("consistent_index")); len(v) == 8 {
				info.ConsistentIndex = binary.BigEndian.Uint64(v)
			}
			if v := b.Get([]byte("scheduledCompactRev")); len(v) >= 17 {
				info.CompactRevision = mvcc.BytesToRev(v).Main
			}
		}
		if info.CompactRevision > info.Revision {
			info.Revision = info.CompactRevision
		}
		if b := tx.Bucket([]byte("members")); b != nil {
			_ = b.ForEach(func(_, v []byte) error {
				var m struct {
					Name string `json:"name"`
				}
				if json.Unmarshal(v, &m) == nil {
					info.Members = append(info.Members, m.Name)
				}
				return nil
			})
			sort.Strings(info.Members)
		}
		return nil
	})
	if err != nil {
		info.Problems = append(info.Problems, fmt.Sprintf("db unreadable: %v", err))
	}
	return info
}
