// Package status asks a live etcd cluster how each of its members is (Query): reachable, leader, revision, db size,
// alarms. Who may back up is package leadership's question; what daemons left in the store is package heartbeat's.
package status

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"go.etcd.io/etcd/api/v3/etcdserverpb"
	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/etcd-dr/etcd-dr/engine/etcdconn"
)

// ID is an etcd member (or cluster) ID; it prints and marshals as hex, as etcdctl shows it.
type ID uint64

func (id ID) String() string { return strconv.FormatUint(uint64(id), 16) }

// MarshalText writes the hex form.
func (id ID) MarshalText() ([]byte, error) { return []byte(id.String()), nil }

// UnmarshalText reads the hex form.
func (id *ID) UnmarshalText(b []byte) error {
	if len(b) == 0 {
		*id = 0
		return nil
	}
	v, err := strconv.ParseUint(string(b), 16, 64)
	if err != nil {
		return fmt.Errorf("etcd member id %q: want hex, e.g. 8e9e05c52164694d", b)
	}
	*id = ID(v)
	return nil
}

// Config is how Query reaches the cluster.
type Config struct {
	Conn etcdconn.Config
	// Timeout bounds each member's answers: its status, its health read, the alarm list (default 5s).
	// A member that does not answer in time is shown down with the error, never hidden.
	Timeout time.Duration
}

func (c Config) timeout() time.Duration {
	if c.Timeout <= 0 {
		return 5 * time.Second
	}
	return c.Timeout
}

// Member is one etcd member as seen now.
type Member struct {
	Name       string   `json:"name"`
	ID         ID       `json:"id"`
	ClientURLs []string `json:"clientURLs"`
	PeerURLs   []string `json:"peerURLs"`
	Learner    bool     `json:"learner"`
	// Endpoint is the URL that was asked.
	Endpoint string `json:"endpoint"`
	// Up: the member answered its status. Healthy: up, sees a leader, and a quorum read through it succeeded.
	Up      bool `json:"up"`
	Healthy bool `json:"healthy"`
	// Leader: this member is the raft leader. LeaderID is who this member believes leads (0: none).
	Leader           bool     `json:"leader"`
	LeaderID         ID       `json:"leaderID"`
	RaftTerm         uint64   `json:"raftTerm"`
	RaftIndex        uint64   `json:"raftIndex"`
	RaftAppliedIndex uint64   `json:"raftAppliedIndex"`
	Revision         int64    `json:"revision"`
	DBSize           int64    `json:"dbSize"`
	DBSizeInUse      int64    `json:"dbSizeInUse"`
	DBSizeQuota      int64    `json:"dbSizeQuota"`
	Version          string   `json:"version"`
	Alarms           []string `json:"alarms"`
	// Error says why the member is down or unhealthy.
	Error string `json:"error,omitempty"`

	statusErrs []string // the errors the member's status listed (no leader, alarms)
}

// Cluster is the whole cluster as seen now.
type Cluster struct {
	ClusterID ID `json:"clusterID"`
	// Leader is the member every answering member agrees leads (0: none, or they disagree).
	Leader  ID       `json:"leader"`
	Members []Member `json:"members"`
	// Problems are cluster-wide findings: disagreement on the leader, a member list that could not be read, ...
	Problems []string `json:"problems"`
}

// Answered counts the members that answered.
func (c *Cluster) Answered() int {
	n := 0
	for _, m := range c.Members {
		if m.Up {
			n++
		}
	}
	return n
}

// LeaderMember returns the leader, or nil.
func (c *Cluster) LeaderMember() *Member {
	for i := range c.Members {
		if c.Leader != 0 && c.Members[i].ID == c.Leader {
			return &c.Members[i]
		}
	}
	return nil
}

// Names lists the members' names (or IDs of unnamed ones), for messages.
func (c *Cluster) Names() []string {
	var out []string
	for _, m := range c.Members {
		if m.Name != "" {
			out = append(out, m.Name)
		} else if m.ID != 0 {
			out = append(out, m.ID.String())
		}
	}
	return out
}

// Query asks every member for its status, health and alarms in parallel, each bounded by cfg.Timeout.
// It fails only on settings that cannot work; unreachable members are returned down with their error
// (see Cluster.Answered).
func Query(ctx context.Context, cfg Config) (*Cluster, error) {
	if err := cfg.Conn.Validate(); err != nil {
		return nil, err
	}
	cli, err := etcdconn.New(cfg.Conn)
	if err != nil {
		return nil, err
	}
	defer cli.Close()
	cl := &Cluster{Members: []Member{}, Problems: []string{}}
	given := cfg.Conn.URLs()

	var ml *clientv3.MemberListResponse
	reachable := anyReachable(ctx, given, cfg.timeout())
	err = reachable
	if reachable == nil {
		lctx, cancel := context.WithTimeout(ctx, cfg.timeout())
		ml, err = cli.MemberList(lctx, clientv3.WithSerializable())
		cancel()
	}
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		// Nothing told us who the members are: show each endpoint as asked.
		cl.Problems = append(cl.Problems, fmt.Sprintf("member list from %s: %v", strings.Join(given, ","), Describe(err)))
		for _, ep := range given {
			cl.Members = append(cl.Members, Member{Endpoint: ep})
		}
	} else {
		cl.ClusterID = ID(ml.Header.ClusterId)
		// Endpoints that are no member's advertised URL (port-forwards, load balancers, IPs for DNS names):
		// ask who answers there, and reach that member through it.
		var others []string
		for _, g := range given {
			if !advertised(ml.Members, g) {
				others = append(others, g)
			}
		}
		ids := EndpointIDs(ctx, cli, others, cfg.timeout())
		for _, pm := range ml.Members {
			m := Member{Name: pm.Name, ID: ID(pm.ID), ClientURLs: nonNil(pm.ClientURLs), PeerURLs: nonNil(pm.PeerURLs), Learner: pm.IsLearner}
			m.Endpoint = PickEndpoint(pm.ClientURLs, given)
			for _, g := range others {
				if ids[g] == m.ID && !advertisedBy(pm.ClientURLs, m.Endpoint, given) {
					m.Endpoint = g
				}
			}
			cl.Members = append(cl.Members, m)
		}
		sort.Slice(cl.Members, func(i, j int) bool { return cl.Members[i].Name < cl.Members[j].Name })
	}

	var wg sync.WaitGroup
	for i := range cl.Members {
		wg.Add(1)
		go func(m *Member) {
			defer wg.Done()
			queryMember(ctx, cfg, m)
		}(&cl.Members[i])
	}
	var alarms map[ID][]string
	wg.Add(1)
	go func() {
		defer wg.Done()
		if reachable != nil {
			return
		}
		actx, cancel := context.WithTimeout(ctx, cfg.timeout())
		defer cancel()
		if resp, err := cli.AlarmList(actx); err == nil {
			alarms = map[ID][]string{}
			for _, a := range resp.Alarms {
				alarms[ID(a.MemberID)] = append(alarms[ID(a.MemberID)], a.Alarm.String())
			}
		}
	}()
	wg.Wait()
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	cl.finish(alarms)
	return cl, nil
}

// statusAlarm matches an alarm as a member's status lists it ("memberID:123 alarm:NOSPACE").
var statusAlarm = regexp.MustCompile(`memberID:(\d+)\s+alarm:([A-Z_]+)`)

// finish fills what needs every member: alarms, the agreed leader, cluster problems.
func (cl *Cluster) finish(alarms map[ID][]string) {
	if alarms == nil { // the alarm list needs a quorum; each member's status lists the alarms it knows
		alarms = map[ID][]string{}
		seen := map[string]bool{}
		for _, m := range cl.Members {
			for _, e := range m.statusErrs {
				if sm := statusAlarm.FindStringSubmatch(e); sm != nil && !seen[sm[0]] {
					seen[sm[0]] = true
					id, _ := strconv.ParseUint(sm[1], 10, 64)
					alarms[ID(id)] = append(alarms[ID(id)], sm[2])
				}
			}
		}
	}
	leaders := map[ID]int{}
	for i := range cl.Members {
		m := &cl.Members[i]
		m.Alarms = nonNil(alarms[m.ID])
		if m.Up && m.LeaderID != 0 {
			leaders[m.LeaderID]++
		}
	}
	switch len(leaders) {
	case 0:
		if cl.Answered() > 0 {
			cl.Problems = append(cl.Problems, "no leader: no answering member sees one (quorum lost?)")
		}
	case 1:
		for id := range leaders {
			cl.Leader = id
		}
	default:
		var ids []string
		for id, n := range leaders {
			ids = append(ids, fmt.Sprintf("%s (seen by %d)", id, n))
		}
		sort.Strings(ids)
		cl.Problems = append(cl.Problems, "members disagree on the leader: "+strings.Join(ids, ", "))
	}
	for i := range cl.Members {
		m := &cl.Members[i]
		m.Leader = m.Up && cl.Leader != 0 && m.ID == cl.Leader
	}
	if cl.Leader != 0 && cl.LeaderMember() == nil {
		cl.Problems = append(cl.Problems, fmt.Sprintf("leader %s is not in the member list", cl.Leader))
	}
}

// queryMember fills one member's status and health.
func queryMember(ctx context.Context, cfg Config, m *Member) {
	if m.Endpoint == "" {
		m.Error = "not started: the member was added but has no client URL yet (it never joined)"
		return
	}
	if err := Reachable(ctx, m.Endpoint, cfg.timeout()); err != nil {
		m.Error = "down: " + Describe(err)
		return
	}
	conn := cfg.Conn
	conn.Endpoints = []string{m.Endpoint}
	conn.DialTimeout = cfg.timeout()
	cli, err := etcdconn.New(conn)
	if err != nil {
		m.Error = "down: " + Describe(err)
		return
	}
	defer cli.Close()
	sctx, cancel := context.WithTimeout(ctx, cfg.timeout())
	st, err := cli.Status(sctx, m.Endpoint)
	cancel()
	if err != nil {
		m.Error = fmt.Sprintf("down: no status from %s within %s: %s", m.Endpoint, cfg.timeout(), Describe(err))
		return
	}
	m.Up = true
	if m.ID == 0 {
		m.ID = ID(st.Header.MemberId)
	}
	m.LeaderID = ID(st.Leader)
	m.RaftTerm, m.RaftIndex, m.RaftAppliedIndex = st.RaftTerm, st.RaftIndex, st.RaftAppliedIndex
	m.Revision = st.Header.Revision
	m.DBSize, m.DBSizeInUse, m.DBSizeQuota = st.DbSize, st.DbSizeInUse, st.DbSizeQuota
	m.Version = st.Version
	m.Learner = m.Learner || st.IsLearner
	m.statusErrs = st.Errors
	if st.Leader == 0 {
		m.Error = "no leader: this member sees none (quorum lost?)"
		return
	}
	if m.Learner { // a learner serves no linearizable read; it is healthy when it answers and follows a leader
		m.Healthy = true
		return
	}
	if err := QuorumRead(ctx, cli, cfg.timeout()); err != nil {
		m.Error = fmt.Sprintf("unhealthy: quorum read through %s failed: %s", m.Endpoint, Describe(err))
		return
	}
	m.Healthy = true
}

// QuorumRead is etcdctl's health check: a linearizable read of the key "health" (permission denied counts as
// healthy: the cluster answered).
func QuorumRead(ctx context.Context, cli *clientv3.Client, timeout time.Duration) error {
	rctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	_, err := cli.Get(rctx, "health", clientv3.WithCountOnly())
	if err != nil && !errors.Is(err, rpctypes.ErrPermissionDenied) {
		return err
	}
	return nil
}

// Describe turns gRPC's wording into something an SRE can act on.
func Describe(err error) string {
	s := err.Error()
	switch {
	case strings.Contains(s, "connection refused"):
		return "connection refused (is etcd running there?): " + s
	case errors.Is(err, context.DeadlineExceeded) || strings.Contains(s, "DeadlineExceeded") || strings.Contains(s, "deadline exceeded"):
		return "no answer in time (member down, overloaded, or a network problem): " + s
	}
	return s
}

// Reachable tries a TCP connection to the endpoint: gRPC waits for a connection until its deadline and then
// says only "deadline exceeded", where a refused connection is known at once and says more.
func Reachable(ctx context.Context, endpoint string, timeout time.Duration) error {
	u, err := url.Parse(endpoint)
	if err != nil || u.Host == "" {
		return nil // let gRPC judge
	}
	d := net.Dialer{Timeout: timeout}
	c, err := d.DialContext(ctx, "tcp", u.Host)
	if err != nil {
		return err
	}
	return c.Close()
}

// anyReachable returns nil when one of the endpoints takes a TCP connection, else the last error.
func anyReachable(ctx context.Context, endpoints []string, timeout time.Duration) error {
	errs := make(chan error, len(endpoints))
	for _, ep := range endpoints {
		go func() { errs <- Reachable(ctx, ep, timeout) }()
	}
	var last error
	for range endpoints {
		if err := <-errs; err == nil {
			return nil
		} else {
			last = err
		}
	}
	return fmt.Errorf("no endpoint takes a connection: %w", last)
}

// EndpointIDs asks each endpoint, in parallel, which member answers there. Endpoints that do not answer are left out.
func EndpointIDs(ctx context.Context, cli *clientv3.Client, eps []string, timeout time.Duration) map[string]ID {
	out := map[string]ID{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, ep := range eps {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if Reachable(ctx, ep, timeout) != nil {
				return
			}
			sctx, cancel := context.WithTimeout(ctx, timeout)
			defer cancel()
			if st, err := cli.Status(sctx, ep); err == nil {
				mu.Lock()
				out[ep] = ID(st.Header.MemberId)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return out
}

// advertised tells whether ep is one of the members' client URLs.
func advertised(ms []*etcdserverpb.Member, ep string) bool {
	for _, m := range ms {
		for _, u := range m.ClientURLs {
			if SameURL(u, ep) {
				return true
			}
		}
	}
	return false
}

// advertisedBy tells whether the chosen endpoint is one of the given ones among the member's own URLs.
func advertisedBy(urls []string, chosen string, given []string) bool {
	for _, g := range given {
		if SameURL(g, chosen) {
			for _, u := range urls {
				if SameURL(u, g) {
					return true
				}
			}
		}
	}
	return false
}

// PickEndpoint chooses the member URL to ask: one of the given endpoints when it is this member's, else its first.
func PickEndpoint(urls, given []string) string {
	for _, u := range urls {
		for _, g := range given {
			if SameURL(u, g) {
				return u
			}
		}
	}
	if len(urls) > 0 {
		return urls[0]
	}
	return ""
}

// SameURL tells whether two URLs name the same endpoint (a trailing slash aside).
func SameURL(a, b string) bool {
	return strings.TrimSuffix(a, "/") == strings.TrimSuffix(b, "/")
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
