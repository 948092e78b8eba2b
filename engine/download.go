package engine

import (
	"context"

	"github.com/etcd-dr/etcd-dr/engine/download"
	"github.com/etcd-dr/etcd-dr/engine/pick"
	"github.com/etcd-dr/etcd-dr/engine/progress"
)

// DownloadRequest says what to fetch and where.
type DownloadRequest struct {
	// Point is what Pick chose (required).
	Point *pick.Result
	// To is the target: a file for a lone snapshot, a folder (itself a file:// store) for a chain with deltas.
	To string
	// Replace allows an existing target file, or files of the same names in an existing folder, to be replaced
	// (default: refused with fault.TargetExists).
	Replace bool
	// Progress receives bytes per object; nil for none.
	Progress progress.Reporter
}

// Download streams the picked objects to local disk, decompressed and decrypted, every hash verified, written
// atomically: a failed download leaves nothing at the target.
func (r *Repo) Download(ctx context.Context, req DownloadRequest) (*download.Result, error) {
	return download.Download(ctx, r.st, req.Point, download.Config{To: req.To, Force: req.Replace, Progress: req.Progress, Decrypt: r.opts.Decrypt})
}
