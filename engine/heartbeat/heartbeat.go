// Package heartbeat reads and writes the heartbeats etcd-dr daemons leave in the store (<prefix>/members/<name>.json),
// so the console shows leadership and backup health from the bucket alone when etcd or Kubernetes is down.
package heartbeat

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"path"
	"runtime/debug"
	"sort"
	"strings"
	"time"

	"github.com/etcd-dr/etcd-dr/engine/catalog"
	"github.com/etcd-dr/etcd-dr/engine/status"
	"github.com/etcd-dr/etcd-dr/store"
)

// Role is a backup member's state. Only the Leader takes snapshots, runs GC and defragments.
type Role string

const (
	// Unknown: no leader, quorum lost, or the daemon's own etcd member is unreachable.
	Unknown Role = "Unknown"
	// Follower: another etcd member is the raft leader.
	Follower Role = "Follower"
	// Leader: the daemon's own etcd member is the raft leader and a quorum read through it succeeds.
	Leader Role = "Leader"
)

// DefaultPeriod is --heartbeat-period's default. A heartbeat is stale after StaleAfter periods.
const (
	DefaultPeriod = 30 * time.Second
	StaleAfter    = 3
)

// Heartbeat is what a daemon leaves in the store, at <prefix>/members/<name>.json, so that the console shows
// leadership and backup health from the bucket alone when Kubernetes or etcd is down.
type Heartbeat struct {
	Name                 string    `json:"name"`
	Role                 Role      `json:"role"`
	EtcdMemberID         status.ID `json:"etcdMemberID"`
	LastSnapshotRevision int64     `json:"lastSnapshotRevision"`
	LastSnapshotTime     time.Time `json:"lastSnapshotTime,omitzero"`
	EtcdDRVersion        string    `json:"etcdDRVersion"`
	// Time is when the daemon wrote it, by its own clock.
	Time time.Time `json:"time"`
	// PeriodSeconds is the daemon's --heartbeat-period, so readers know when it is stale.
	PeriodSeconds float64 `json:"periodSeconds"`
	// Why says why the role is Unknown (quorum lost, own etcd down, daemon stopped).
	Why string `json:"why,omitempty"`
}

// maxPeriod bounds a period read from a store: a float beyond time.Duration's range converts to a negative one
// (every heartbeat stale, or never), and StaleAfter periods must still fit.
const maxPeriod = 365 * 24 * time.Hour

// Period is the writer's heartbeat period (DefaultPeriod when it did not say, at most a year).
func (h Heartbeat) Period() time.Duration {
	if h.PeriodSeconds <= 0 {
		return DefaultPeriod
	}
	if h.PeriodSeconds >= maxPeriod.Seconds() {
		return maxPeriod
	}
	return time.Duration(h.PeriodSeconds * float64(time.Second))
}

// Key is where a member's heartbeat lives, relative to the store prefix.
func Key(name string) string { return catalog.MembersDir + "/" + name + ".json" }

// Version is this etcd-dr's version, as the build recorded it.
func Version() string {
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" {
		return bi.Main.Version
	}
	return "(devel)"
}

// Write writes hb to its key; the object replaces the previous one whole (store writes are atomic).
// Empty EtcdDRVersion and Time are filled in.
func Write(ctx context.Context, st *store.Store, hb Heartbeat) error {
	if hb.Name == "" || strings.ContainsAny(hb.Name, "/\\") || strings.HasPrefix(hb.Name, ".") {
		return fmt.Errorf("heartbeat name %q: want the member name, without slashes", hb.Name)
	}
	if hb.Role == "" {
		hb.Role = Unknown
	}
	if hb.EtcdDRVersion == "" {
		hb.EtcdDRVersion = Version()
	}
	if hb.Time.IsZero() {
		hb.Time = time.Now()
	}
	hb.Time = hb.Time.UTC()
	if !hb.LastSnapshotTime.IsZero() {
		hb.LastSnapshotTime = hb.LastSnapshotTime.UTC()
	}
	b, err := json.MarshalIndent(hb, "", "  ")
	if err != nil {
		return err
	}
	key := Key(hb.Name)
	w, err := st.NewWriter(ctx, key, store.WriteOptions{ContentType: "application/json", Metadata: map[string]string{catalog.MetaEtcdDR: hb.EtcdDRVersion}})
	if err != nil {
		return err
	}
	if _, err := w.Write(append(b, '\n')); err != nil {
		w.Abort()
		return err
	}
	return w.Commit()
}

// Seen is a heartbeat read back, judged against the reader's clock.
type Seen struct {
	Heartbeat
	Key string `json:"key"`
	// Cluster is the cluster folder the heartbeat sits in (its members/ folder's parent; "" = the store).
	Cluster string `json:"cluster"`
	// AgeSeconds is how old it is by the reader's clock (negative when the writer's clock is ahead).
	AgeSeconds float64 `json:"ageSeconds"`
	// Stale: older than StaleAfter of the writer's periods — the daemon is gone or cannot write.
	Stale bool `json:"stale"`
}

// Read reads the heartbeat objects a catalog listed (Catalog.Heartbeats), sorted by name.
// What cannot be read or decoded becomes a problem, never a failure of the whole listing.
func Read(ctx context.Context, st *store.Store, objs []store.Object, now time.Time) ([]Seen, []catalog.Problem) {
	seen := []Seen{}
	var problems []catalog.Problem
	for _, o := range objs {
		if path.Ext(o.Key) != ".json" || !catalog.IsHeartbeat(o.Key) {
			continue // not ours (another tool's file under members/)
		}
		hb, err := readHeartbeat(ctx, st, o.Key)
		if err != nil {
			problems = append(problems, catalog.Problem{Object: o.Key, What: "heartbeat not readable: " + err.Error()})
			continue
		}
		s := Judge(hb, o.Key, now)
		s.Cluster = catalog.HeartbeatCluster(o.Key)
		seen = append(seen, s)
	}
	sort.Slice(seen, func(i, j int) bool {
		if seen[i].Cluster != seen[j].Cluster {
			return seen[i].Cluster < seen[j].Cluster
		}
		return seen[i].Name < seen[j].Name
	})
	return seen, problems
}

// ReadOf reads the heartbeats of the named members directly, without listing the store (a daemon
// knows its peers from etcd's member list). A member without a heartbeat is skipped.
func ReadOf(ctx context.Context, st *store.Store, names []string, now time.Time) ([]Seen, []catalog.Problem) {
	seen := []Seen{}
	var problems []catalog.Problem
	for _, name := range names {
		key := Key(name)
		hb, err := readHeartbeat(ctx, st, key)
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			problems = append(problems, catalog.Problem{Object: key, What: "heartbeat not readable: " + err.Error()})
			continue
		}
		seen = append(seen, Judge(hb, key, now))
	}
	sort.Slice(seen, func(i, j int) bool { return seen[i].Name < seen[j].Name })
	return seen, problems
}

// Judge computes a heartbeat's age and staleness at now.
func Judge(hb Heartbeat, key string, now time.Time) Seen {
	age := now.Sub(hb.Time)
	return Seen{Heartbeat: hb, Key: key, AgeSeconds: age.Round(time.Millisecond).Seconds(), Stale: age > StaleAfter*hb.Period()}
}

// readHeartbeat reads one heartbeat; a failed read is tried twice more, since the object is rewritten in place
// every period and some stores (versitygw's posix backend) can serve a read torn by a concurrent write.
func readHeartbeat(ctx context.Context, st *store.Store, key string) (Heartbeat, error) {
	var err error
	for try := 0; try < 3; try++ {
		var hb Heartbeat
		if hb, err = readHeartbeatOnce(ctx, st, key); err == nil || errors.Is(err, store.ErrNotFound) {
			return hb, err
		}
		select {
		case <-ctx.Done():
			return Heartbeat{}, err
		case <-time.After(time.Duration(try+1) * 50 * time.Millisecond):
		}
	}
	return Heartbeat{}, err
}

func readHeartbeatOnce(ctx context.Context, st *store.Store, key string) (Heartbeat, error) {
	r, err := st.NewReader(ctx, key)
	if err != nil {
		return Heartbeat{}, err
	}
	defer r.Close()
	b, err := io.ReadAll(io.LimitReader(r, 1<<20))
	if err != nil {
		return Heartbeat{}, err
	}
	return Parse(b, key)
}

// Parse decodes the heartbeat object stored at key. A heartbeat without a name takes the key's.
func Parse(b []byte, key string) (Heartbeat, error) {
	var hb Heartbeat
	if err := json.NewDecoder(bytes.NewReader(b)).Decode(&hb); err != nil {
		return Heartbeat{}, fmt.Errorf("not heartbeat JSON: %v", err)
	}
	if hb.Name == "" { // as JSON would have decoded it: invalid UTF-8 becomes U+FFFD
		hb.Name = strings.ToValidUTF8(strings.TrimSuffix(path.Base(key), ".json"), "\uFFFD")
	}
	switch hb.Role {
	case Leader, Follower, Unknown:
	case "":
		hb.Role = Unknown
	default: // another version's role, or garbage: not a claim to lead
		hb.Why = strings.TrimSuffix(fmt.Sprintf("role %q not understood; %s", hb.Role, hb.Why), "; ")
		hb.Role = Unknown
	}
	return hb, nil
}

// RunConfig configures Run.
type RunConfig struct {
	Store *store.Store
	// Name is the daemon's member name (--name), the object's name.
	Name string
	// Period is --heartbeat-period (default DefaultPeriod).
	Period time.Duration
	// Fill returns the heartbeat to write now (role, member id, last snapshot); Name, Period and Time are set after.
	Fill func() Heartbeat
	// Peers, with Seen, names the members whose heartbeats are read back after each write, for
	// etcddr_heartbeat_age_seconds (e.g. the etcd member names; the own name is always read).
	Peers func() []string
	// Seen, when set, receives the heartbeats read back (the daemon's metrics record their ages).
	Seen func([]Seen)
	Log  *slog.Logger
}

// Run writes a heartbeat now and every period until ctx ends, then a last one with role Unknown
// ("daemon stopped"). A failed write is logged and retried at the next period.
func Run(ctx context.Context, cfg RunConfig) error {
	if cfg.Period <= 0 {
		cfg.Period = DefaultPeriod
	}
	log := cfg.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	beat := func(ctx context.Context, last bool) {
		var hb Heartbeat
		if cfg.Fill != nil {
			hb = cfg.Fill()
		}
		hb.Name, hb.PeriodSeconds, hb.Time = cfg.Name, cfg.Period.Seconds(), time.Now()
		if last {
			hb.Role, hb.Why = Unknown, "daemon stopped"
		}
		if err := Write(ctx, cfg.Store, hb); err != nil {
			log.Warn("heartbeat not written", "key", Key(cfg.Name), "err", err)
		}
		if cfg.Seen != nil && !last {
			names := []string{cfg.Name}
			if cfg.Peers != nil {
				names = append(names, cfg.Peers()...)
			}
			seen, _ := ReadOf(ctx, cfg.Store, dedupe(names), time.Now())
			cfg.Seen(seen)
		}
	}
	t := time.NewTicker(cfg.Period)
	defer t.Stop()
	for {
		beat(ctx, false)
		select {
		case <-ctx.Done():
			lctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
			beat(lctx, true)
			cancel()
			return nil
		case <-t.C:
		}
	}
}

func dedupe(names []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, n := range names {
		if n != "" && !seen[n] {
			seen[n] = true
			out = append(out, n)
		}
	}
	return out
}

// Compare checks the heartbeats against the live cluster and says what an SRE should look at: no fresh heartbeat
// from the daemon beside the etcd leader (backups may not be running), or a fresh heartbeat that claims Leader
// beside a member etcd does not call leader (a daemon a period behind, or one whose etcd is cut off).
// Leadership itself always comes from etcd.
func Compare(cl *status.Cluster, seen []Seen) []string {
	var out []string
	leader := cl.LeaderMember()
	if leader != nil {
		found := false
		for _, s := range seen {
			if s.EtcdMemberID == leader.ID || (s.EtcdMemberID == 0 && s.Name == leader.Name) {
				found = true
				switch {
				case s.Stale:
					out = append(out, fmt.Sprintf("the heartbeat of %s, beside the etcd leader, is stale (%s old): is its etcd-dr daemon running? backups may have stopped", s.Name, time.Duration(s.AgeSeconds*float64(time.Second)).Round(time.Second)))
				case s.Role != Leader:
					out = append(out, fmt.Sprintf("the daemon beside the etcd leader (%s) says %s in its last heartbeat (it checks every period; if this lasts, look at its log)", s.Name, s.Role))
				}
			}
		}
		if !found && len(seen) > 0 {
			out = append(out, fmt.Sprintf("no heartbeat from a daemon beside the etcd leader %s: backups may not be running", leader.Name))
		}
	}
	for _, s := range seen {
		if s.Stale || s.Role != Leader || (leader != nil && (s.EtcdMemberID == leader.ID || (s.EtcdMemberID == 0 && s.Name == leader.Name))) {
			continue
		}
		out = append(out, fmt.Sprintf("the heartbeat of %s says Leader but etcd's leader is %s: that daemon is a period behind, or its etcd member is cut off (it cannot write: leadership comes from etcd)", s.Name, orNone(leader)))
	}
	return out
}

func orNone(m *status.Member) string {
	if m == nil {
		return "none"
	}
	return m.Name
}
