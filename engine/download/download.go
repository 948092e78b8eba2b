// Package download fetches a picked snapshot (or a whole chain) to local disk: streamed, decompressed and
// decrypted on the fly, hash-verified, written atomically.
package download

import (
	"context"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"

	"github.com/etcd-dr/etcd-dr/engine/catalog"
	"github.com/etcd-dr/etcd-dr/engine/crypt"
	"github.com/etcd-dr/etcd-dr/engine/fault"
	"github.com/etcd-dr/etcd-dr/engine/format"
	"github.com/etcd-dr/etcd-dr/engine/pick"
	"github.com/etcd-dr/etcd-dr/engine/progress"
	"github.com/etcd-dr/etcd-dr/store"
)

// Config says where and how to download.
type Config struct {
	// To is the target. One object (a full snapshot) goes to a file at To (or into To when it is a directory);
	// a chain with deltas goes into a folder To that can itself be opened as a file:// store.
	To string
	// Force replaces an existing target file (or files of the same name in an existing folder).
	Force bool
	// Progress receives byte counts per object; nil for none.
	Progress progress.Reporter
	// Decrypt opens .age objects; nil refuses them.
	Decrypt crypt.Decrypter
}

// Result says what was written.
type Result struct {
	Path     string     `json:"path"`
	Revision int64      `json:"revision"`
	Files    []File     `json:"files"`
	Bytes    int64      `json:"bytes"`
	Seconds  float64    `json:"seconds"`
	Verified []Verified `json:"verified"`
}

// File is one written file and the object it came from.
type File struct {
	Key  string `json:"key"`
	Path string `json:"path"`
}

// LocalName is the file name of a downloaded object: its name without compression and encryption suffixes,
// so a downloaded chain folder reads as an uncompressed etcd-backup-restore store.
func LocalName(s catalog.Snapshot) string {
	name := path.Base(s.Key)
	name = strings.TrimSuffix(name, catalog.AgeSuffix)
	final := strings.HasSuffix(name, catalog.FinalSuffix)
	name = strings.TrimSuffix(name, catalog.FinalSuffix)
	name = strings.TrimSuffix(name, s.Codec.Suffix())
	if final {
		name += catalog.FinalSuffix
	}
	return name
}

// Download writes what r picked. Nothing is left at the target when it fails.
func Download(ctx context.Context, st *store.Store, r *pick.Result, cfg Config) (*Result, error) {
	start := time.Now()
	snaps := r.Snapshots()
	if cfg.To == "" {
		return nil, fault.Refused("no download target given: a file for one snapshot, a folder for a chain")
	}
	target := filepath.Clean(cfg.To)
	fi, statErr := os.Stat(target)
	isDir := statErr == nil && fi.IsDir()
	res := &Result{Revision: r.Revision, Files: []File{}}
	var plan []File
	switch {
	case len(snaps) == 1 && !isDir:
		if statErr == nil && !cfg.Force {
			return nil, &fault.TargetExists{Path: target, What: "already exists", ReplaceHelps: true}
		}
		plan = []File{{Key: snaps[0].Key, Path: target}}
	default:
		if statErr == nil && !isDir {
			return nil, &fault.TargetExists{Path: target, What: fmt.Sprintf("is a file, but this chain has %d objects and needs a folder; choose a new folder path", len(snaps))}
		}
		if isDir && !cfg.Force {
			if entries, _ := os.ReadDir(target); len(entries) > 0 {
				return nil, &fault.TargetExists{Path: target, What: "is a folder that is not empty", ReplaceHelps: true}
			}
		}
		for _, s := range snaps {
			plan = append(plan, File{Key: s.Key, Path: filepath.Join(target, LocalName(s))})
		}
	}
	if statErr != nil && !os.IsNotExist(statErr) {
		return nil, fmt.Errorf("check download target %s: %w", target, statErr)
	}
	res.Path = target
	// A new chain folder is staged beside the target and renamed into place whole.
	staging := ""
	if len(plan) > 1 && statErr != nil {
		if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
			return nil, fmt.Errorf("create folder for %s: %w", target, err)
		}
		dir, err := os.MkdirTemp(filepath.Dir(target), "."+filepath.Base(target)+".partial-*")
		if err != nil {
			return nil, fmt.Errorf("create %s: %w", target, err)
		}
		staging = dir
		defer os.RemoveAll(staging) // our own staging folder; empty after a successful rename
		for i := range plan {
			plan[i].Path = filepath.Join(staging, filepath.Base(plan[i].Path))
		}
	}
	for i, f := range plan {
		if err := ctx.Err(); err != nil {
			if staging == "" {
				removeWritten(res.Files)
			}
			return nil, err
		}
		s := snaps[i]
		if err := os.MkdirAll(filepath.Dir(f.Path), 0o755); err != nil {
			return nil, fmt.Errorf("create folder for %s: %w", f.Path, err)
		}
		v, err := writeAtomic(ctx, st, s, f.Path, cfg)
		if err != nil {
			if staging == "" {
				removeWritten(res.Files)
			}
			return nil, err
		}
		res.Files = append(res.Files, f)
		res.Verified = append(res.Verified, v)
		res.Bytes += v.Bytes
	}
	if err := writeCompanions(ctx, st, r.Chain.Base, filepath.Dir(plan[0].Path), cfg.Force, res); err != nil {
		if staging == "" {
			removeWritten(res.Files)
		}
		return nil, err
	}
	if staging != "" {
		if err := os.Rename(staging, target); err != nil {
			return nil, fmt.Errorf("rename %s to %s: %w", staging, target, err)
		}
		for i := range res.Files {
			res.Files[i].Path = filepath.Join(target, filepath.Base(res.Files[i].Path))
		}
	}
	res.Seconds = time.Since(start).Seconds()
	return res, nil
}

// NewMeter counts the bytes written out for one object. Its total is the object's size only when the stored
// bytes are the bytes written (no compression, no encryption); otherwise it is unknown.
func NewMeter(r progress.Reporter, s catalog.Snapshot) *progress.Meter {
	var total int64
	if s.Codec == format.None && !s.Encrypted {
		total = s.Size
	}
	return progress.NewMeter(r, "download", path.Base(s.Key), "bytes", total)
}

// writeAtomic writes one object to a temporary file beside path, syncs it and renames it into place.
func writeAtomic(ctx context.Context, st *store.Store, s catalog.Snapshot, dst string, cfg Config) (Verified, error) {
	tmp, err := os.CreateTemp(filepath.Dir(dst), "."+filepath.Base(dst)+".partial-*")
	if err != nil {
		return Verified{}, fmt.Errorf("create %s: %w", dst, err)
	}
	ok := false
	defer func() {
		if !ok {
			tmp.Close()
			os.Remove(tmp.Name()) // our own partial file, never user data
		}
	}()
	m := NewMeter(cfg.Progress, s)
	var v Verified
	if src, ok := kernelCopyable(st, s); ok {
		v, err = kernelCopy(ctx, st, s, src, tmp, m)
	} else {
		v, err = Object(ctx, st, s, tmp, m, cfg.Decrypt)
	}
	if err != nil {
		return v, err
	}
	m.Finish()
	if err := tmp.Sync(); err != nil {
		return v, fmt.Errorf("sync %s: %w", tmp.Name(), err)
	}
	if err := tmp.Close(); err != nil {
		return v, fmt.Errorf("close %s: %w", tmp.Name(), err)
	}
	if err := os.Rename(tmp.Name(), dst); err != nil {
		return v, fmt.Errorf("rename %s to %s: %w", tmp.Name(), dst, err)
	}
	ok = true
	return v, nil
}

// removeWritten takes back the files this download already put in place when a later object fails, so that a
// failed chain download does not leave a half chain that looks complete.
func removeWritten(files []File) {
	for _, f := range files {
		os.Remove(f.Path)
	}
}
