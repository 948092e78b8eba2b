package store

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"gocloud.dev/blob"
	"golang.org/x/sync/errgroup"
)

// errEscapedName means a directory store holds a name fileblob wrote escaped: only fileblob can list it.
var errEscapedName = errors.New("escaped name")

// listDir lists a directory store by walking it: fileblob's own listing re-reads the directory for every page
// (quadratic in the number of objects: 52 s for 100 000 objects here, against 0.3 s for one walk). Names fileblob
// escaped on write ("__0x..__") make it fall back to fileblob, which knows how to unescape them; fileblob's
// temporary files and .attrs sidecars are hidden as fileblob hides them.
func (s *Store) listDir(ctx context.Context) ([]Object, bool, error) {
	root := s.loc.Bucket
	if s.loc.Prefix != "" {
		root = filepath.Join(root, filepath.FromSlash(s.loc.Prefix))
	}
	var out []Object
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		name := d.Name()
		if strings.Contains(name, "__0x") {
			return errEscapedName
		}
		if d.IsDir() || fileblobTemp.MatchString(name) || strings.HasSuffix(name, fileblobSidecar) {
			return nil
		}
		fi, err := d.Info()
		if errors.Is(err, fs.ErrNotExist) {
			return nil // removed while listing (a GC, a finished temp file)
		}
		if err != nil {
			return err
		}
		if !fi.Mode().IsRegular() {
			return nil
		}
		rel, _ := filepath.Rel(root, p)
		out = append(out, Object{Key: filepath.ToSlash(rel), Size: fi.Size(), ModTime: fi.ModTime()})
		return nil
	})
	switch {
	case errors.Is(err, errEscapedName):
		return nil, false, nil
	case errors.Is(err, fs.ErrNotExist) && len(out) == 0:
		if _, serr := os.Stat(root); serr != nil {
			return nil, true, s.wrap("list", "", serr)
		}
	case err != nil:
		return nil, true, s.wrap("list", "", err)
	}
	return out, true, nil
}

// listParallel lists an object store by its top-level folders, several at a time: a seed bucket holds one folder
// per cluster, and one flat listing would page through every object in sequence (1 000 keys a request on S3).
// Requests: 1 for the top level (with a delimiter), then one listing per folder, pages of up to 1 000 keys.
func (s *Store) listParallel(ctx context.Context) ([]Object, error) {
	const parallel = 16
	var out []Object
	var dirs []string
	it := s.bucket.List(&blob.ListOptions{Delimiter: "/"})
	for {
		o, err := it.Next(ctx)
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, s.wrap("list", "", err)
		}
		if o.IsDir {
			dirs = append(dirs, o.Key)
			continue
		}
		if s.hidden(o.Key) {
			continue
		}
		out = append(out, Object{Key: o.Key, Size: o.Size, ModTime: o.ModTime})
	}
	parts := make([][]Object, len(dirs))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(parallel)
	for i, dir := range dirs {
		g.Go(func() error {
			it := s.bucket.List(&blob.ListOptions{Prefix: dir})
			for {
				o, err := it.Next(gctx)
				if err == io.EOF {
					return nil
				}
				if err != nil {
					return s.wrap("list", dir, err)
				}
				if !o.IsDir && !s.hidden(o.Key) {
					parts[i] = append(parts[i], Object{Key: o.Key, Size: o.Size, ModTime: o.ModTime})
				}
			}
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	for _, p := range parts {
		out = append(out, p...)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out, nil
}

// hidden: fileblob's in-progress temporary files on a directory store are not objects.
func (s *Store) hidden(key string) bool {
	return s.loc.Scheme == "file" && fileblobTemp.MatchString(key)
}

// ReaderAt reads object key at offsets, one ranged read per call: what reads a few pages of a large object
// (a snapshot's bbolt meta and leaf pages, a zip's directory) without downloading it.
func (s *Store) ReaderAt(ctx context.Context, key string) io.ReaderAt {
	return &rangeReaderAt{ctx: ctx, st: s, key: key}
}

type rangeReaderAt struct {
	ctx context.Context
	st  *Store
	key string
}

func (r *rangeReaderAt) ReadAt(p []byte, off int64) (int, error) {
	rc, err := r.st.NewRangeReader(r.ctx, r.key, off, int64(len(p)))
	if err != nil {
		return 0, err
	}
	defer rc.Close()
	n, err := io.ReadFull(rc, p)
	if err == io.ErrUnexpectedEOF {
		err = io.EOF
	}
	return n, err
}
