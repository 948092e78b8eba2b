package tui

import (
	compactpage "github.com/etcd-dr/etcd-dr/tui/pages/compact"
	copypage "github.com/etcd-dr/etcd-dr/tui/pages/copy"
	"strconv"
	"strings"

	"github.com/etcd-dr/etcd-dr/engine"
	"github.com/etcd-dr/etcd-dr/engine/catalog"
	"github.com/etcd-dr/etcd-dr/engine/pick"
	"github.com/etcd-dr/etcd-dr/tui/common"
	catalogpage "github.com/etcd-dr/etcd-dr/tui/pages/catalog"
	downloadpage "github.com/etcd-dr/etcd-dr/tui/pages/download"
	fleetpage "github.com/etcd-dr/etcd-dr/tui/pages/fleet"
	memberspage "github.com/etcd-dr/etcd-dr/tui/pages/members"
	objectpage "github.com/etcd-dr/etcd-dr/tui/pages/object"
	pickpage "github.com/etcd-dr/etcd-dr/tui/pages/pick"
	restorepage "github.com/etcd-dr/etcd-dr/tui/pages/restore"
	validatepage "github.com/etcd-dr/etcd-dr/tui/pages/validate"
)

// opener is the one place that knows every page (k9s's registrar): pages ask it for the pages they open.
type opener struct{ m *Model }

var _ common.Opener = opener{}

func (o opener) Catalog(src *common.Source) common.Page {
	return catalogpage.New(o.m.c, src, o)
}

func (o opener) Object(src *common.Source, snap catalog.Snapshot) common.Page {
	return objectpage.New(o.m.c, src, snap)
}

func (o opener) Pick(src *common.Source) common.Page { return o.pickWith(src, "", "") }

func (o opener) pickWith(src *common.Source, etcdVersion, revision string) common.Page {
	return pickpage.New(o.m.c, src, o, etcdVersion, revision)
}

func (o opener) Download(src *common.Source, res *pick.Result) common.Page {
	return downloadpage.New(o.m.c, src, res, "")
}

// downloadStart opens the Download wizard for the point the command line asked for, or the Pick wizard when
// that point does not exist (it then says why).
func (o opener) downloadStart(src *common.Source, s Start) common.Page {
	res, ok := o.startPick(src, s)
	if !ok {
		return pickpage.New(o.m.c, src, o, s.EtcdVersion, s.Revision)
	}
	return downloadpage.New(o.m.c, src, res, s.To)
}

func (o opener) Validate(src *common.Source, chain *catalog.Chain) common.Page {
	return validatepage.New(o.m.c, src, chain)
}

func (o opener) Restore(src *common.Source, res *pick.Result) common.Page {
	return restorepage.New(o.m.c, src, res)
}

func (o opener) Compact(src *common.Source, res *pick.Result) common.Page {
	return compactpage.New(o.m.c, src, res)
}

func (o opener) Copy(src *common.Source) common.Page {
	return copypage.New(o.m.c, src)
}

func parseRev(s string) (int64, error) { return strconv.ParseInt(strings.TrimSpace(s), 10, 64) }

// restoreStart opens the Restore wizard for the point the command line asked for, filled with its flags, or the
// Pick wizard when that point does not exist (it then says why).
func (o opener) restoreStart(src *common.Source, s Start) common.Page {
	res, ok := o.startPick(src, s)
	if !ok {
		return pickpage.New(o.m.c, src, o, s.EtcdVersion, s.Revision)
	}
	p := restorepage.New(o.m.c, src, res)
	p.Prefill(s.Restore)
	return p
}

// validateStart opens the Validate wizard on the newest chain, or on --data-dir when given.
func (o opener) validateStart(src *common.Source, s Start) common.Page {
	p := validatepage.New(o.m.c, src, src.Catalog.Newest())
	if s.DataDir != "" {
		p.SetDataDir(s.DataDir)
	}
	return p
}

func (o opener) startPick(src *common.Source, s Start) (*pick.Result, bool) {
	if src.Repo == nil {
		return nil, false
	}
	req := engine.PickRequest{EtcdVersion: s.EtcdVersion}
	if s.Revision != "" {
		r, err := parseRev(s.Revision)
		if err != nil {
			return nil, false
		}
		req.Revision = r
	}
	res, err := src.Repo.Pick(o.m.c.Ctx, req)
	return res, err == nil
}

func (o opener) Members(src *common.Source) common.Page { return memberspage.New(o.m.c, src) }

// Fleet opens the Fleet screen of a store root that holds several clusters.
func (o opener) Fleet(src *common.Source) common.Page { return fleetpage.New(o.m.c, src, o) }

// ClusterCatalog opens the Catalog of one cluster of a fleet root: a Source narrowed to that cluster folder
// (reused when it was opened before), read afresh when the page starts.
func (o opener) ClusterCatalog(root *common.Source, cluster string) common.Page {
	m := o.m
	var src *common.Source
	for _, s := range m.sources {
		if s.URL == root.URL && s.Cluster == cluster && cluster != "" {
			src = s
		}
	}
	if src == nil {
		src = &common.Source{Index: len(m.sources), URL: root.URL, Cluster: cluster}
		m.sources = append(m.sources, src)
	}
	return catalogpage.New(m.c, src, o)
}

// fleetStart opens the Fleet screen at once when the console was given one store and it holds several clusters.
func (o opener) fleetStart(src *common.Source) {
	if len(roots(o.m.sources)) == 1 && src.Catalog != nil && len(src.Catalog.Clusters()) > 1 {
		o.m.c.Push(o.Fleet(src))
	}
}

// roots are the stores as given (on the Stores screen), without the cluster Sources the Fleet screen opened.
func roots(sources []*common.Source) []*common.Source {
	out := make([]*common.Source, 0, len(sources))
	for _, s := range sources {
		if s.Cluster == "" {
			out = append(out, s)
		}
	}
	return out
}
