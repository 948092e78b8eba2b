package engine

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	storecopy "github.com/etcd-dr/etcd-dr/engine/copy"
	"github.com/etcd-dr/etcd-dr/engine/fault"
	"github.com/etcd-dr/etcd-dr/engine/progress"
	"github.com/etcd-dr/etcd-dr/store"
)

// CopyRequest says where to copy the Repo's chains and which. The zero value of every field but To is the default.
type CopyRequest struct {
	// To is the target store URL (required). It must not be the source store, nor a folder inside it. Keys are
	// unchanged relative to the store as opened (with Options.Cluster, the cluster folder is kept), so the
	// target reads as the source did, by etcd-dr and by the tool that wrote the backups.
	To string
	// MaxBackups copies only the N newest chains of each cluster (0 = all).
	MaxBackups int
	// MaxAge copies only chains whose newest object is at most this old (0 = any age).
	MaxAge time.Duration
	// DryRun plans only: says what would be copied and what is there already; writes nothing.
	DryRun bool
	// Parallel is how many objects are copied at once (0 = 4).
	Parallel int
	// Progress receives objects and bytes copied; nil for none.
	Progress progress.Reporter
}

// CopyResult is what Copy did, object by object.
type CopyResult = storecopy.Result

// Copy copies whole chains (full snapshot, the deltas that continue it, the files its tool keeps beside it) to
// another store, newest first: stored bytes and metadata unchanged, every object verified while it streams and
// committed at the target only when it checks out. Objects already at the target (same size and checksum) are
// skipped, so a copy that was killed is resumed by running it again. Nothing is deleted at either end.
//
// A result comes back with the error when objects failed: the error is a fault.ErrProblems when only objects'
// own bytes were at fault (the rest were copied), a plain error when a store failed. A target that cannot be
// reached fails before anything is written.
func (r *Repo) Copy(ctx context.Context, req CopyRequest) (*CopyResult, error) {
	if err := checkCopyRequest(r.root, req); err != nil {
		return nil, err
	}
	dst, err := store.Open(ctx, req.To, store.OpenOptions{Create: !req.DryRun})
	switch {
	case req.DryRun && errors.Is(err, store.ErrNotFound):
		dst = nil // a dry run at a folder not made yet: nothing is there
	case err != nil:
		return nil, fmt.Errorf("target store %s: %w", store.Redact(req.To), err)
	default:
		defer dst.Close()
	}
	cfg := storecopy.Config{Src: r.st, Catalog: r.Catalog(), Prefix: r.opts.Cluster, Dst: dst, MaxBackups: req.MaxBackups,
		MaxAge: req.MaxAge, DryRun: req.DryRun, Parallel: req.Parallel, Decrypt: r.opts.Decrypt, Progress: req.Progress, Logger: r.opts.Logger}
	if dst == nil {
		cfg.DstURL = store.Redact(req.To)
	}
	return storecopy.Run(ctx, cfg)
}

// checkCopyRequest refuses settings that cannot work, before any store is touched: a missing target, bad
// limits, and a target that is the source or a folder inside it (a copy would read what it writes).
func checkCopyRequest(src string, req CopyRequest) error {
	switch {
	case strings.TrimSpace(req.To) == "":
		return fault.Bad("target store", "", "is required: the store URL to copy the backups to")
	case req.MaxBackups < 0:
		return fault.Bad("max backups", fmt.Sprint(req.MaxBackups), "must be 0 (all) or more")
	case req.MaxAge < 0:
		return fault.Bad("max age", req.MaxAge.String(), "must be 0 (any age) or more")
	case req.Parallel < 0:
		return fault.Bad("parallel copies", fmt.Sprint(req.Parallel), "must be 1 or more (0 = 4)")
	}
	to, err := store.ParseURL(req.To)
	if err != nil {
		return err
	}
	from, err := store.ParseURL(src)
	if err != nil {
		return err
	}
	if within(to, from) {
		return fault.Bad("target store", store.Redact(req.To), "is the source store %s or a folder inside it; copy to another bucket or folder", store.Redact(src))
	}
	return nil
}

// within reports whether the store at a is the store at b or a folder inside it.
func within(a, b store.Location) bool {
	if a.Scheme != b.Scheme {
		return false
	}
	pa, pb := a.Bucket+"/"+a.Prefix, b.Bucket+"/"+b.Prefix
	switch a.Scheme {
	case "file":
		pa, pb = realPath(a.Bucket), realPath(b.Bucket)
	case "s3":
		if a.Query.Get("endpoint") != b.Query.Get("endpoint") {
			return false // another server: another bucket of the same name
		}
	}
	pa, pb = strings.TrimRight(pa, "/"), strings.TrimRight(pb, "/")
	return pa == pb || strings.HasPrefix(pa, pb+"/")
}

// realPath is a directory's path with symbolic links resolved as far as it exists.
func realPath(p string) string {
	p = filepath.Clean(p)
	rest := ""
	for dir := p; ; dir = filepath.Dir(dir) {
		if r, err := filepath.EvalSymlinks(dir); err == nil {
			return filepath.Join(r, rest)
		} else if !os.IsNotExist(err) || dir == filepath.Dir(dir) {
			return p
		}
		rest = filepath.Join(filepath.Base(dir), rest)
	}
}
