package snapshot

import (
	"context"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"

	"github.com/etcd-dr/etcd-dr/engine/catalog"
)

// DefaultSpoolLimit bounds the spool (bytes of stored deltas) unless Config.SpoolLimit says otherwise.
const DefaultSpoolLimit = 1 << 30

// spool keeps delta objects on local disk, in revision order, while the store is away: the watch goes on (etcd
// may compact its history meanwhile) and the chain continues without a gap once the store is back, even across
// a restart. Files are the objects' stored bytes under their object names, written atomically.
type spool struct {
	dir   string
	limit int64
}

type spooled struct {
	path string
	snap catalog.Snapshot
	size int64
}

const spoolTmp = ".spooling-"

func (sp *spool) entries() ([]spooled, error) {
	des, err := os.ReadDir(sp.dir)
	if err != nil {
		return nil, fmt.Errorf("spool %s: %w", sp.dir, err)
	}
	var out []spooled
	for _, de := range des {
		if de.IsDir() || strings.HasPrefix(de.Name(), spoolTmp) {
			continue
		}
		snap, ok := catalog.ParseName(de.Name())
		if !ok || snap.Kind != catalog.Delta {
			continue
		}
		fi, err := de.Info()
		if err != nil {
			return nil, err
		}
		out = append(out, spooled{path: filepath.Join(sp.dir, de.Name()), snap: snap, size: fi.Size()})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].snap.StartRevision < out[j].snap.StartRevision })
	return out, nil
}

func (sp *spool) size() int64 {
	es, _ := sp.entries()
	var n int64
	for _, e := range es {
		n += e.size
	}
	return n
}

// put writes obj into the spool: a temporary file, synced, renamed into place, the folder synced.
func (sp *spool) put(obj deltaObject) error {
	name := path.Base(obj.res.Key)
	tmp := filepath.Join(sp.dir, spoolTmp+name)
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	if _, err := f.Write(obj.data); err != nil {
		f.Close()
		os.Remove(tmp)
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		os.Remove(tmp)
		return err
	}
	if err := f.Close(); err != nil {
		os.Remove(tmp)
		return err
	}
	if err := os.Rename(tmp, filepath.Join(sp.dir, name)); err != nil {
		os.Remove(tmp)
		return err
	}
	if d, err := os.Open(sp.dir); err == nil {
		_ = d.Sync()
		d.Close()
	}
	return nil
}

// drain uploads the spooled deltas in revision order, removing each once committed; it stops at the first
// failure (order matters: a later delta must not land before an earlier one).
func (s *Snapshotter) drain(ctx context.Context, sp *spool, etcdVersion string) error {
	if sp == nil {
		return nil
	}
	es, err := sp.entries()
	if err != nil {
		return err
	}
	for _, e := range es {
		data, err := os.ReadFile(e.path)
		if err != nil {
			return fmt.Errorf("read spooled delta %s: %w", e.path, err)
		}
		res := Result{Kind: catalog.Delta, Key: path.Join(Folder, path.Base(e.path)), StartRevision: e.snap.StartRevision,
			EndRevision: e.snap.EndRevision, Final: e.snap.Final, Time: e.snap.Time, EtcdVersion: etcdVersion}
		s.mu.Lock()
		res, err = s.uploadDelta(ctx, deltaObject{res: res, data: data, meta: s.deltaMeta(etcdVersion, res.StartRevision, res.EndRevision, -1, data)})
		s.mu.Unlock()
		if err != nil {
			return err
		}
		if err := os.Remove(e.path); err != nil {
			return fmt.Errorf("remove uploaded spooled delta %s: %w", e.path, err)
		}
		s.cfg.Logger.Info("spooled delta uploaded", "key", res.Key)
		s.observe(res)
	}
	return nil
}
