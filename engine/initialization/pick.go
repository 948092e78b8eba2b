package initialization

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/etcd-dr/etcd-dr/engine"
	"github.com/etcd-dr/etcd-dr/engine/catalog"
	"github.com/etcd-dr/etcd-dr/store"
)

// Record is the restore point the sidecars of one cluster agreed on when no member was running: the first start
// picks the newest restorable point and records it; the others restore the same revision of the same chain. It
// is a control object (catalog.IsControl): never a backup, never a problem, never collected by gc.
type Record struct {
	Revision int64     `json:"revision"`
	Base     string    `json:"fullSnapshot"`
	Token    string    `json:"initialClusterToken"`
	By       string    `json:"recordedBy"`
	Time     time.Time `json:"time"`
}

// RecordKey is where the pick of the cluster with this --initial-cluster-token is recorded.
func RecordKey(token string) string {
	safe := strings.Map(func(r rune) rune {
		if r == '/' || r == '\\' || r < ' ' {
			return '_'
		}
		return r
	}, token)
	return catalog.ControlKey("initialize-" + safe + ".json")
}

// fresh reports whether a record still binds: members of one cluster that restore after a disaster start within
// the window; a later restore (a new disaster) picks anew.
func (m *Manager) fresh(rec *Record) bool {
	return m.cfg.Now().Sub(rec.Time) < m.cfg.PickWindow
}

// readRecord reads the recorded pick (nil when there is none).
func (m *Manager) readRecord(ctx context.Context) (*Record, error) {
	key := RecordKey(m.cfg.Cluster.Token)
	r, err := m.cfg.Repo.Store().NewReader(ctx, key)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read the recorded restore pick %s: %w", key, err)
	}
	defer r.Close()
	b, err := io.ReadAll(io.LimitReader(r, 64<<10))
	if err != nil {
		return nil, fmt.Errorf("read the recorded restore pick %s: %w", key, err)
	}
	var rec Record
	if err := json.Unmarshal(b, &rec); err != nil || rec.Revision <= 0 {
		return nil, fmt.Errorf("recorded restore pick %s is not readable (%v): delete it to let the next start pick again", key, err)
	}
	return &rec, nil
}

// agreedPick returns the fresh recorded pick, or picks the newest restorable point and records it. Two first
// starts at once pick the same point (nothing writes to the store while no member runs), so the race is harmless.
func (m *Manager) agreedPick(ctx context.Context, log *slog.Logger) (*Record, error) {
	rec, err := m.readRecord(ctx)
	if err != nil {
		return nil, err
	}
	if rec != nil && m.fresh(rec) {
		log.Info("restoring the point another member recorded", "revision", rec.Revision, "fullSnapshot", rec.Base, "recordedBy", rec.By, "recordedAt", rec.Time)
		return rec, nil
	}
	p, err := m.cfg.Repo.Pick(ctx, engine.PickRequest{})
	if err != nil {
		return nil, err
	}
	rec = &Record{Revision: p.Revision, Base: p.Chain.Base.Key, Token: m.cfg.Cluster.Token, By: m.cfg.Cluster.Name, Time: m.cfg.Now().UTC()}
	b, err := json.MarshalIndent(rec, "", "  ")
	if err != nil {
		return nil, err
	}
	key := RecordKey(m.cfg.Cluster.Token)
	w, err := m.cfg.Repo.Store().NewWriter(ctx, key, store.WriteOptions{ContentType: "application/json"})
	if err != nil {
		return nil, fmt.Errorf("record the restore pick in %s: %w", key, err)
	}
	if _, err := w.Write(append(b, '\n')); err != nil {
		w.Abort()
		return nil, fmt.Errorf("record the restore pick in %s: %w", key, err)
	}
	if err := w.Commit(); err != nil {
		return nil, fmt.Errorf("record the restore pick in %s: %w", key, err)
	}
	log.Info("recorded the restore point for the other members", "revision", rec.Revision, "fullSnapshot", rec.Base, "key", key)
	return rec, nil
}
