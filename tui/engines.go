package tui

import (
	"context"
	"encoding/json"
	"fmt"
	"path"
	"strings"

	"github.com/etcd-dr/etcd-dr/engine/catalog"
	"github.com/etcd-dr/etcd-dr/engine/etcdconn"
	"github.com/etcd-dr/etcd-dr/engine/members"
	"github.com/etcd-dr/etcd-dr/engine/progress"
	"github.com/etcd-dr/etcd-dr/engine/restore"
	"github.com/etcd-dr/etcd-dr/engine/validate"
	"github.com/etcd-dr/etcd-dr/tui/common"
)

// EngineValidator runs engine/validate for the Validate wizard.
type EngineValidator struct{}

// Validate checks one chain (as a catalog of that chain alone) or a data dir (against the store's newest point).
func (EngineValidator) Validate(ctx context.Context, req common.ValidateRequest, r progress.Reporter) (*common.ValidateReport, error) {
	out := &common.ValidateReport{}
	if req.Chain != nil {
		if req.Source == nil || req.Source.Store == nil {
			return nil, fmt.Errorf("the store has not been read")
		}
		one := &catalog.Catalog{Store: req.Source.URL, Chains: []catalog.Chain{*req.Chain}, Problems: []catalog.Problem{}}
		rep, err := validate.Backups(ctx, req.Source.Store, one, validate.BackupConfig{Progress: r, Decrypt: req.Decrypt})
		if err != nil {
			return nil, err
		}
		for _, p := range rep.Problems {
			out.Problems = append(out.Problems, common.ValidateProblem{Object: p.Object, Path: p.Path, What: p.What})
		}
		for _, o := range rep.Objects {
			if !o.OK {
				continue
			}
			line := fmt.Sprintf("%s: %s", path.Base(o.Object), common.Bytes(o.Bytes))
			if o.Events > 0 {
				line += fmt.Sprintf(", %d events", o.Events)
			}
			if len(o.SHA256) >= 12 {
				line += ", sha256 " + o.SHA256[:12] + "…"
			}
			out.Checked = append(out.Checked, line)
		}
		for _, w := range rep.Warnings {
			out.Checked = append(out.Checked, "note: "+w)
		}
		out.OK = rep.OK
		return out, nil
	}
	cfg := validate.DataDirConfig{}
	if req.Source != nil && req.Source.Catalog != nil {
		cfg.Store = req.Source.URL
		for _, ch := range req.Source.Catalog.Chains {
			cfg.StoreRevision = max(cfg.StoreRevision, ch.RestorableRevision)
		}
	}
	rep := validate.DataDir(req.DataDir, cfg)
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	for _, p := range rep.Problems {
		out.Problems = append(out.Problems, common.ValidateProblem{Object: p.Object, Path: p.Path, What: p.What})
	}
	if rep.Missing {
		out.Problems = append(out.Problems, common.ValidateProblem{Path: req.DataDir, What: "no data dir here (absent or empty): a restore is needed before etcd can start with data"})
	} else {
		out.Checked = append(out.Checked, fmt.Sprintf("revision %d (compacted at %d), %s db, %d WAL files, members %s",
			rep.Revision, rep.CompactRevision, common.Bytes(rep.DBSize), rep.WALFiles, strings.Join(rep.Members, ",")))
	}
	for _, w := range rep.Warnings {
		out.Checked = append(out.Checked, "note: "+w)
	}
	out.OK = rep.OK
	return out, nil
}

// EngineRestorer runs engine/restore for the Restore wizard.
type EngineRestorer struct{}

// Restore restores the picked point into a new data dir.
func (EngineRestorer) Restore(ctx context.Context, req common.RestoreRequest, r progress.Reporter) (*common.RestoreResult, error) {
	cfg := restore.Config{
		DataDir:       req.DataDir,
		Cluster:       restore.Cluster{Name: req.Name, InitialCluster: req.InitialCluster, Token: req.InitialClusterToken},
		BumpRevision:  uint64(max(req.BumpRevision, 0)),
		MarkCompacted: req.MarkCompacted,
		AllMembers:    req.AllMembers,
		MoveAside:     req.MoveAside,
		Progress:      r,
		Decrypt:       req.Decrypt,
	}
	if req.InitialAdvertisePeerURLs != "" {
		cfg.Cluster.PeerURLs = strings.Split(req.InitialAdvertisePeerURLs, ",")
	}
	res, err := restore.Restore(ctx, req.Source.Store, req.Pick, cfg)
	if err != nil {
		return nil, err
	}
	out := &common.RestoreResult{DataDir: res.DataDir, Revision: res.Revision, DeltasApplied: res.DeltasApplied,
		EventsApplied: res.EventsApplied, Seconds: res.Seconds, ServedRevision: res.ServedRevision, Notes: res.Notes, Keys: -1}
	out.Keys = keyCount(res)
	out.MovedAside = res.MovedAside
	for _, m := range res.Members {
		out.Members = append(out.Members, common.RestoredMember{Name: m.Name, DataDir: m.DataDir, PeerURLs: m.PeerURLs})
	}
	return out, nil
}

// keyCount reads the restore result's key count through its JSON contract shape ("keys", absent when not
// counted), which stays stable while the Go field's type is still settling.
func keyCount(res *restore.Result) int64 {
	b, err := json.Marshal(res)
	if err != nil {
		return -1
	}
	var v struct {
		Keys *int64 `json:"keys"`
	}
	if json.Unmarshal(b, &v) != nil || v.Keys == nil {
		return -1
	}
	return *v.Keys
}

// EngineCluster asks the etcd cluster through engine/members.
type EngineCluster struct {
	Conn etcdconn.Config
}

// Status queries every member (each bounded by the members package's timeout).
func (e EngineCluster) Status(ctx context.Context) (*members.Cluster, error) {
	return members.Query(ctx, members.Config{Conn: e.Conn})
}

// Endpoints are the --endpoints asked.
func (e EngineCluster) Endpoints() []string { return e.Conn.Endpoints }
