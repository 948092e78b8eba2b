package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/etcd-dr/etcd-dr/engine"
	"github.com/etcd-dr/etcd-dr/engine/catalog"
	"github.com/etcd-dr/etcd-dr/engine/heartbeat"
	"github.com/etcd-dr/etcd-dr/engine/progress"
	"github.com/etcd-dr/etcd-dr/engine/status"
)

type statusOptions struct {
	etcd    etcdOptions
	timeout time.Duration
}

func newStatusCommand(g *globalOptions) *cobra.Command {
	var o statusOptions
	cmd := &cobra.Command{
		Use:   "status --endpoints E [--store URL]",
		Short: "Show every etcd member (leader, raft, revision, db size, alarms, health) and the backup members' heartbeats",
		Long: `status asks every member of the cluster, in parallel, for its status and health; a member that does not
answer is shown down with the error. With --store, the heartbeats the etcd-dr daemons left in the store are shown
beside the members (stale after 3 heartbeat periods).

Exit codes: 0 when at least one endpoint answered (even with members down), 1 when none did.`,
		Example: `  etcd-dr status --endpoints http://10.0.0.1:2379,http://10.0.0.2:2379,http://10.0.0.3:2379
  etcd-dr status --endpoints https://etcd-0:2379 --cacert ca.pem --store s3://backups/etcd-main -o json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runStatus(cmd.Context(), g, o)
		},
	}
	o.etcd.addFlags(cmd)
	cmd.Flags().DurationVar(&o.timeout, "timeout", 5*time.Second, "how long each member may take to answer")
	return cmd
}

// statusJSON is status's --output json shape.
type statusJSON struct {
	*status.Cluster
	Members []memberJSON `json:"members"`
	// Store and BackupMembers are there only with --store.
	Store         string            `json:"store,omitempty"`
	BackupMembers []heartbeat.Seen  `json:"backupMembers,omitempty"`
	StoreProblems []catalog.Problem `json:"storeProblems,omitempty"`
}

// memberJSON is a member with its daemon's heartbeat, when one was found.
type memberJSON struct {
	status.Member
	Backup *heartbeat.Seen `json:"backup,omitempty"`
}

func runStatus(ctx context.Context, g *globalOptions, o statusOptions) error {
	if o.timeout <= 0 {
		return usagef("--timeout %v: want a positive duration, e.g. 5s", o.timeout)
	}
	var storeURL string
	if strings.TrimSpace(g.store) != "" {
		var err error
		if storeURL, err = g.requireStore(); err != nil {
			return err
		}
	}
	cl, err := status.Query(ctx, status.Config{Conn: o.etcd.config(), Timeout: o.timeout})
	if err != nil {
		return err
	}
	out := statusJSON{Cluster: cl, Members: make([]memberJSON, len(cl.Members))}
	if storeURL != "" {
		out.Store = engine.Redact(storeURL)
		out.BackupMembers, out.StoreProblems = readStoreHeartbeats(ctx, storeURL, g.cluster, time.Now())
	}
	for i, m := range cl.Members {
		out.Members[i] = memberJSON{Member: m, Backup: heartbeatOf(m, out.BackupMembers)}
	}
	if storeURL != "" && cl.Answered() > 0 {
		cl.Problems = append(cl.Problems, heartbeat.Compare(cl, out.BackupMembers)...)
	}
	var fail error
	if cl.Answered() == 0 {
		fail = fmt.Errorf("no etcd endpoint answered (%s): check --endpoints, TLS flags, and that etcd is up", strings.Join(o.etcd.endpoints, ","))
	}
	if g.output == "json" {
		writeJSON(g.stdout, out)
		if fail != nil {
			return reportedError{fail}
		}
		return nil
	}
	printStatus(g.text(), out, time.Now())
	return fail
}

// readStoreHeartbeats lists members/ in the store. A store that cannot be read is a problem shown beside the
// cluster, not a failure of status: the cluster is what status is about.
func readStoreHeartbeats(ctx context.Context, url, cluster string, now time.Time) ([]heartbeat.Seen, []catalog.Problem) {
	repo, err := engine.Open(ctx, url, engine.Options{Cluster: cluster})
	if err != nil {
		return nil, []catalog.Problem{{Object: engine.Redact(url), What: err.Error()}}
	}
	defer repo.Close()
	return repo.Heartbeats(ctx, now)
}

// heartbeatOf finds the heartbeat of the daemon beside m: by etcd member id, else by name.
func heartbeatOf(m status.Member, seen []heartbeat.Seen) *heartbeat.Seen {
	for i := range seen {
		if m.ID != 0 && seen[i].EtcdMemberID == m.ID {
			return &seen[i]
		}
	}
	for i := range seen {
		if m.Name != "" && seen[i].Name == m.Name && seen[i].EtcdMemberID == 0 {
			return &seen[i]
		}
	}
	return nil
}

func printStatus(w io.Writer, s statusJSON, now time.Time) {
	cl := s.Cluster
	leader := "none"
	if lm := cl.LeaderMember(); lm != nil {
		leader = lm.Name
	}
	fmt.Fprintf(w, "Cluster %s: %s, %d answering, leader %s\n\n", idOrDash(cl.ClusterID), plural(len(cl.Members), "member", "members"), cl.Answered(), leader)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	head := "NAME\tID\tSTATE\tLEADER\tTERM\tINDEX\tREVISION\tDB SIZE\tIN USE\tVERSION\tALARMS\tCLIENT URL\tPEER URL"
	if s.Store != "" {
		head += "\tBACKUP"
	}
	fmt.Fprintln(tw, head)
	for _, mj := range s.Members {
		m := mj.Member
		state := "healthy"
		switch {
		case !m.Up:
			state = "DOWN"
		case !m.Healthy:
			state = "UNHEALTHY"
		}
		if m.Learner {
			state += " (learner)"
		}
		lead := ""
		if m.Leader {
			lead = "*"
		}
		row := []string{orDash(m.Name), idOrDash(m.ID), state, lead, "-", "-", "-", "-", "-", orDash(m.Version), orDash(strings.Join(m.Alarms, ",")),
			orDash(m.Endpoint), orDash(strings.Join(m.PeerURLs, ","))}
		if m.Up {
			row[4], row[5], row[6] = fmt.Sprint(m.RaftTerm), fmt.Sprint(m.RaftIndex), fmt.Sprint(m.Revision)
			row[7], row[8] = progress.Bytes(m.DBSize), progress.Bytes(m.DBSizeInUse)
		}
		if s.Store != "" {
			row = append(row, backupCell(mj.Backup))
		}
		fmt.Fprintln(tw, strings.Join(row, "\t"))
	}
	tw.Flush()
	for _, m := range cl.Members {
		if m.Error != "" {
			who := m.Name
			if who == "" {
				who = m.Endpoint
			}
			fmt.Fprintf(w, "  %s: %s\n", who, m.Error)
		}
	}
	if len(cl.Problems) > 0 {
		fmt.Fprintln(w, "\nProblems:")
		for _, p := range cl.Problems {
			fmt.Fprintf(w, "  %s\n", p)
		}
	}
	if s.Store != "" {
		fmt.Fprintln(w)
		printHeartbeats(w, s.Store, s.BackupMembers, s.StoreProblems, now)
	}
}

func backupCell(s *heartbeat.Seen) string {
	if s == nil {
		return "-"
	}
	if s.Stale {
		return string(s.Role) + " (STALE)"
	}
	return string(s.Role)
}

// printHeartbeats shows the backup members as their heartbeats in the store say (list and status).
func printHeartbeats(w io.Writer, storeURL string, seen []heartbeat.Seen, problems []catalog.Problem, now time.Time) {
	if len(seen) == 0 && len(problems) == 0 {
		fmt.Fprintf(w, "Backup members: no heartbeats in %s/\n", catalog.MembersDir)
		return
	}
	fmt.Fprintf(w, "Backup members (heartbeats in %s, stale after %d periods):\n", storeURL, heartbeat.StaleAfter)
	if len(seen) > 0 {
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "NAME\tROLE\tETCD MEMBER\tLAST SNAPSHOT REV\tLAST SNAPSHOT\tHEARTBEAT\tETCD-DR")
		for _, s := range seen {
			hb := age(s.Time, now)
			if s.Stale {
				hb += " STALE"
			}
			role := string(s.Role)
			if s.Why != "" {
				role += " (" + s.Why + ")"
			}
			rev := "-"
			if s.LastSnapshotRevision > 0 {
				rev = fmt.Sprint(s.LastSnapshotRevision)
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", s.Name, role, idOrDash(s.EtcdMemberID), rev, age(s.LastSnapshotTime, now), hb, orDash(s.EtcdDRVersion))
		}
		tw.Flush()
	}
	for _, p := range problems {
		fmt.Fprintf(w, "  %s: %s\n", p.Object, p.What)
	}
}

func idOrDash(id status.ID) string {
	if id == 0 {
		return "-"
	}
	return id.String()
}
