package initialization

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"

	"go.etcd.io/etcd/client/pkg/v3/types"
	"golang.org/x/sync/errgroup"

	"github.com/etcd-dr/etcd-dr/engine/etcdconn"
	"github.com/etcd-dr/etcd-dr/engine/fault"
	"github.com/etcd-dr/etcd-dr/engine/restore"
)

// peer is another member of --initial-cluster.
type peer struct {
	name string
	urls []string
}

// peersOf parses --initial-cluster into its members (none for an empty flag: a single member).
func peersOf(c restore.Cluster) ([]peer, error) {
	if c.InitialCluster == "" {
		return nil, nil
	}
	m, err := types.NewURLsMap(c.InitialCluster)
	if err != nil {
		return nil, fault.Bad("initial cluster", c.InitialCluster, "%v (want name=http://host:2380,...)", err)
	}
	out := make([]peer, 0, len(m))
	for name, urls := range m {
		out = append(out, peer{name: name, urls: urls.StringSlice()})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].name < out[j].name })
	return out, nil
}

// others are the members of --initial-cluster but this one.
func (m *Manager) others() []peer {
	all, _ := peersOf(m.cfg.Cluster) // checked in New
	out := all[:0:0]
	for _, p := range all {
		if p.name != m.cfg.Cluster.Name {
			out = append(out, p)
		}
	}
	return out
}

// member is one entry of etcd's member list as its peer port serves it (GET <peer URL>/members).
type member struct {
	ID         json.Number `json:"id"`
	Name       string      `json:"name"`
	PeerURLs   []string    `json:"peerURLs"`
	ClientURLs []string    `json:"clientURLs"`
}

func (mb member) hexID() string {
	n, err := strconv.ParseUint(mb.ID.String(), 10, 64)
	if err != nil {
		return mb.ID.String()
	}
	return strconv.FormatUint(n, 16)
}

// answer is what the other members said: nil when none answers.
type answer struct {
	answeredBy string
	// members is the cluster's member list (nil when the answering peer could not be read, only reached).
	members []member
	// addedUnstarted: the member list holds this member's peer URLs, added and never started (etcdctl member
	// add was run): an empty data dir joins the cluster.
	addedUnstarted bool
}

// askPeers asks every other member of --initial-cluster, at once, whether it answers on its peer URLs. A member
// that only accepts a connection (its peer port needs client certificates we do not have) counts as answering:
// when in doubt, never restore. A member that answers but whose cluster has no leader while a pick is recorded
// for this cluster token is a member restored by the same bootstrap, waiting for the others: not a running cluster.
func (m *Manager) askPeers(ctx context.Context) (*answer, error) {
	others := m.others()
	if len(others) == 0 {
		return nil, nil
	}
	type seen struct {
		name     string
		reached  bool
		members  []member
		leader   bool
		readable bool
	}
	res := make([]seen, len(others))
	g, gctx := errgroup.WithContext(ctx)
	for i, p := range others {
		g.Go(func() error {
			s := seen{name: p.name}
			for _, u := range p.urls {
				if mbs, ok := m.readMembers(gctx, u); ok {
					s.reached, s.readable, s.members = true, true, mbs
					s.leader = m.hasLeader(gctx, mbs)
					break
				}
				if m.reachable(gctx, u) {
					s.reached = true
				}
			}
			res[i] = s
			return nil
		})
	}
	_ = g.Wait()
	var out *answer
	for _, s := range res {
		if !s.reached {
			continue
		}
		m.cfg.Logger.Info("another member answers", "member", s.name, "readable", s.readable, "hasLeader", s.leader)
		if s.readable && !s.leader {
			if rec, _ := m.readRecord(ctx); rec != nil && m.fresh(rec) {
				m.cfg.Logger.Info("member has no leader and a restore pick is recorded: a member of the same restore, waiting for the others", "member", s.name)
				continue
			}
		}
		if out == nil || (out.members == nil && s.members != nil) {
			out = &answer{answeredBy: s.name, members: s.members}
		}
	}
	if out != nil {
		for _, mb := range out.members {
			if mb.Name == "" && overlaps(mb.PeerURLs, m.cfg.Cluster.PeerURLs) {
				out.addedUnstarted = true
			}
		}
	}
	return out, nil
}

func overlaps(a, b []string) bool {
	for _, x := range a {
		if slices.Contains(b, x) {
			return true
		}
	}
	return false
}

// readMembers reads a peer's member list over its peer URL.
func (m *Manager) readMembers(ctx context.Context, peerURL string) ([]member, bool) {
	tlsCfg, _ := m.cfg.Etcd.TLS()
	cl := &http.Client{Timeout: m.cfg.PeerTimeout, Transport: &http.Transport{TLSClientConfig: tlsCfg}}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimSuffix(peerURL, "/")+"/members", nil)
	if err != nil {
		return nil, false
	}
	resp, err := cl.Do(req)
	if err != nil {
		return nil, false
	}
	defer resp.Body.Close()
	var mbs []member
	if resp.StatusCode != http.StatusOK || json.NewDecoder(resp.Body).Decode(&mbs) != nil {
		return nil, false
	}
	return mbs, true
}

// reachable reports whether anything accepts a connection on the peer URL's port.
func (m *Manager) reachable(ctx context.Context, peerURL string) bool {
	u, err := url.Parse(peerURL)
	if err != nil || u.Host == "" {
		return false
	}
	d := net.Dialer{Timeout: m.cfg.PeerTimeout}
	c, err := d.DialContext(ctx, "tcp", u.Host)
	if err != nil {
		return false
	}
	c.Close()
	return true
}

// hasLeader asks the started members' client URLs (etcd's Status) whether their cluster has a leader. A member
// that cannot be asked counts as led: when in doubt, never restore.
func (m *Manager) hasLeader(ctx context.Context, mbs []member) bool {
	var eps []string
	for _, mb := range mbs {
		eps = append(eps, mb.ClientURLs...)
	}
	if len(eps) == 0 {
		return true
	}
	c := m.cfg.Etcd
	c.Endpoints = eps
	cli, err := etcdconn.New(c)
	if err != nil {
		return true
	}
	defer cli.Close()
	for _, ep := range eps {
		sctx, cancel := context.WithTimeout(ctx, m.cfg.PeerTimeout)
		st, err := cli.Status(sctx, ep)
		cancel()
		if err == nil {
			return st.Leader != 0
		}
	}
	return true
}

// replaceCommands are the etcdctl commands that replace this member in the running cluster.
func (a *answer) replaceCommands(cfg Config) []string {
	var eps []string
	id := ""
	for _, mb := range a.members {
		eps = append(eps, mb.ClientURLs...)
		if mb.Name == cfg.Cluster.Name || (mb.Name == "" && overlaps(mb.PeerURLs, cfg.Cluster.PeerURLs)) {
			id = mb.hexID()
		}
	}
	ep := "<a running member's client URL>"
	if len(eps) > 0 {
		ep = strings.Join(eps, ",")
	}
	peerURLs := strings.Join(cfg.Cluster.PeerURLs, ",")
	if peerURLs == "" {
		peerURLs = restore.DefaultPeerURL
	}
	var out []string
	if id == "" {
		out = append(out, fmt.Sprintf("etcdctl --endpoints=%s member list   # find the ID of %s", ep, cfg.Cluster.Name))
		id = "<ID of " + cfg.Cluster.Name + ">"
	}
	return append(out,
		fmt.Sprintf("etcdctl --endpoints=%s member remove %s", ep, id),
		fmt.Sprintf("etcdctl --endpoints=%s member add %s --peer-urls=%s", ep, cfg.Cluster.Name, peerURLs),
		"# then restart this member's etcd: the sidecar sees it added and lets etcd join with an empty data dir (--initial-cluster-state=existing)",
	)
}
