// Package restore is the Restore wizard: the point, a new target data dir and member settings; a refusal of an
// occupied target before anything else; a typed confirmation that says exactly what will happen (and that
// nothing is deleted); progress; then the exact etcd command line that starts the restored member.
package restore

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/etcd-dr/etcd-dr/engine"
	"github.com/etcd-dr/etcd-dr/engine/fault"
	"github.com/etcd-dr/etcd-dr/engine/pick"
	"github.com/etcd-dr/etcd-dr/engine/progress"
	"github.com/etcd-dr/etcd-dr/engine/restore"
	"github.com/etcd-dr/etcd-dr/tui/common"
	"github.com/etcd-dr/etcd-dr/tui/components/job"
	"github.com/etcd-dr/etcd-dr/tui/components/progressbar"
	"github.com/etcd-dr/etcd-dr/tui/components/textfield"
	"github.com/etcd-dr/etcd-dr/tui/keymap"
)

// Fields of the form, in tab order.
const (
	fDataDir = iota
	fName
	fCluster
	fPeerURLs
	fToken
	fBump
	fCompact
	fAll
	fMove
	nFields
)

// ConfirmWord is what the user types to start a restore.
const ConfirmWord = "restore"

// Page is the Restore wizard.
type Page struct {
	c       *common.Common
	src     *common.Source
	res     *pick.Result
	form    textfield.Form
	refusal string // why the form cannot go on (occupied target, bad value)
	// occupied: the target holds data that move aside will rename (shown in the confirmation).
	occupied bool
	req      common.RestoreRequest
	job      job.Model
	w, h     int
}

// New builds the wizard for the picked point.
func New(c *common.Common, src *common.Source, res *pick.Result) *Page {
	p := &Page{c: c, src: src, res: res, job: job.New(c, "restore", "the temporary directory is being removed")}
	fields := make([]textfield.Model, nFields)
	fields[fDataDir] = textfield.New("data dir", "a NEW directory, e.g. /var/lib/etcd-restored")
	fields[fName] = textfield.New("member name", "default (single member)")
	fields[fCluster] = textfield.New("initial cluster", "m1=https://10.0.0.1:2380,m2=... (multi-member)")
	fields[fPeerURLs] = textfield.New("peer URLs", "https://10.0.0.1:2380")
	fields[fToken] = textfield.New("cluster token", "etcd-cluster")
	fields[fBump] = textfield.New("bump revision", "0 (Kubernetes: e.g. 1000000)")
	fields[fBump].Check = func(s string) string {
		if s == "" {
			return ""
		}
		if n, err := strconv.ParseInt(s, 10, 64); err != nil || n < 0 {
			return "want a number ≥ 0"
		}
		return ""
	}
	fields[fCompact] = textfield.New("mark compacted", "no (yes with a bump, for Kubernetes)")
	fields[fCompact].Check = func(s string) string {
		switch strings.ToLower(s) {
		case "", "yes", "no", "y", "n":
			return ""
		}
		return "yes or no"
	}
	fields[fAll] = textfield.New("all members", "no (yes: one data dir per member of the initial cluster)")
	fields[fAll].Check = fields[fCompact].Check
	fields[fMove] = textfield.New("move aside", "no (yes: rename an occupied data dir to <dir>.broken-<time>)")
	fields[fMove].Check = fields[fCompact].Check
	p.form = textfield.NewForm(0, fields...)
	return p
}

// Prefill puts the command line's values in the form (the wizard of `etcd-dr restore` on a terminal).
func (p *Page) Prefill(q common.RestoreRequest) {
	p.form.Fields[fDataDir].SetValue(q.DataDir)
	p.form.Fields[fName].SetValue(q.Name)
	p.form.Fields[fCluster].SetValue(q.InitialCluster)
	p.form.Fields[fPeerURLs].SetValue(q.InitialAdvertisePeerURLs)
	p.form.Fields[fToken].SetValue(q.InitialClusterToken)
	if q.BumpRevision > 0 {
		p.form.Fields[fBump].SetValue(strconv.FormatInt(q.BumpRevision, 10))
	}
	if q.MarkCompacted {
		p.form.Fields[fCompact].SetValue("yes")
	}
	if q.AllMembers {
		p.form.Fields[fAll].SetValue("yes")
	}
	if q.MoveAside {
		p.form.Fields[fMove].SetValue("yes")
	}
}

func (p *Page) Init() tea.Cmd { return nil }
func (p *Page) Title() string { return "Restore" }
func (p *Page) Capturing() bool {
	return p.job.State() == job.Editing || p.job.State() == job.Confirming
}
func (p *Page) Busy() bool       { return p.job.Busy() }
func (p *Page) SetSize(w, h int) { p.w, p.h = w, h }

func (p *Page) Bindings() []keymap.Binding {
	k := p.c.Keys
	return p.job.Footer([]keymap.Binding{k.NextField, {Keys: k.Enter.Keys, Desc: "review and confirm"}, {Keys: []string{"esc"}, Desc: "back"}}, nil)
}

func (p *Page) Update(msg tea.Msg) (common.Page, tea.Cmd) {
	if used, cmd := p.job.Update(msg); used {
		return p, cmd
	}
	cmd, edited := p.job.UpdateForm(msg, &p.form, func() tea.Cmd { p.review(); return nil })
	if edited {
		p.refusal = ""
	}
	return p, cmd
}

// review checks the form and the target, and opens the confirmation only when both are fine.
// fieldOf is the form field behind each setting the engine refuses (fault.BadSetting.Setting).
var fieldOf = map[string]int{
	"data dir":                         fDataDir,
	"member name":                      fName,
	"initial cluster":                  fCluster,
	"peer URLs":                        fPeerURLs,
	"revision bump and mark-compacted": fBump,
}

func (p *Page) review() {
	v := func(f int) string { return strings.TrimSpace(p.form.Fields[f].Value()) }
	req := common.RestoreRequest{DataDir: v(fDataDir), Name: v(fName), InitialCluster: v(fCluster),
		InitialAdvertisePeerURLs: v(fPeerURLs), InitialClusterToken: v(fToken)}
	for f := range p.form.Fields {
		if c := p.form.Fields[f].Check; c != nil && c(p.form.Fields[f].Value()) != "" {
			p.refusal = p.form.Fields[f].Label + ": " + c(p.form.Fields[f].Value())
			p.form.Focus(f)
			return
		}
	}
	if req.DataDir == "" {
		p.refusal = "data dir: give a new directory to restore into"
		return
	}
	req.MoveAside = strings.HasPrefix(strings.ToLower(v(fMove)), "y")
	// The engine's one rule for a target, before the confirmation; occupied = there is data that move aside renames.
	if err := engine.CheckTarget(req.DataDir, req.MoveAside); err != nil {
		p.refusal = common.Worded(err).Error()
		p.form.Focus(fDataDir)
		return
	}
	p.occupied = req.MoveAside && engine.CheckTarget(req.DataDir, false) != nil
	req.AllMembers = strings.HasPrefix(strings.ToLower(v(fAll)), "y")
	req.BumpRevision, _ = strconv.ParseInt(v(fBump), 10, 64)
	req.MarkCompacted = strings.HasPrefix(strings.ToLower(v(fCompact)), "y")
	if !req.AllMembers && (req.InitialCluster != "" || req.InitialAdvertisePeerURLs != "") && req.Name == "" {
		// The engine would take etcd's default name; a console form that gives a cluster means a member of it.
		p.refusal = "member name: required with an initial cluster or peer URLs"
		p.form.Focus(fName)
		return
	}
	// The engine's one rule for membership and the revision bump, the same the restore applies.
	if err := engine.CheckRestoreSettings(req.Config()); err != nil {
		var bad *fault.BadSetting
		p.refusal = common.Worded(err).Error()
		if errors.As(err, &bad) {
			p.form.Focus(fieldOf[bad.Setting])
		}
		return
	}
	repo := p.src.Repo
	if repo == nil {
		p.refusal = "the store has not been read; go back and reload it (r)"
		return
	}
	p.req = req
	p.refusal = ""
	point, cfg := p.res, req.Config()
	p.job.Ask("Restore into a new data directory", ConfirmWord, p.plan(p.occupied), func(ctx context.Context, r progress.Reporter) (any, error) {
		cfg.Progress = r
		return repo.Restore(ctx, engine.RestoreRequest{Point: point, Config: cfg})
	})
}

func (p *Page) View() string {
	st := p.c.Styles
	w := min(p.w, 100)
	head := fmt.Sprintf("Restore point %s · chain %s · %d objects", st.Value.Render(fmt.Sprint(p.res.Revision)), common.BaseName(p.res.Chain.Base.Key), len(p.res.Snapshots()))
	lines := []string{head, ""}
	switch p.job.State() {
	case job.Editing:
		for i := range p.form.Fields {
			lines = append(lines, p.form.Fields[i].View(st, 16, w))
		}
		lines = append(lines, "")
		if p.refusal != "" {
			lines = append(lines, common.Wrap(st.Danger.Render("✗ "+p.refusal), w)...)
		} else {
			lines = append(lines, st.Muted.Render("tab next field · enter review and confirm · esc back"))
		}
	case job.Confirming:
		lines = append(lines, p.job.DialogView(w))
	case job.Running, job.Cancelling:
		last := p.job.Last
		lines = append(lines, p.job.RunningView(w, strings.TrimSpace(last.Phase+" "+common.Safe(last.Item)), p.job.Fraction(),
			progressbar.Stats(last, last.Done, last.Total, last.ETA)))
	case job.Failed:
		lines = append(lines, p.job.FailedView(w, "Restore did not run", "Restore cancelled; no data directory was left behind.",
			[]string{"No data directory was written. The same restore from a shell:", CLICommand(p.src.URL, p.res.Revision, p.req)}), st.Muted.Render("esc back"))
	case job.Finished:
		lines = append(lines, p.finishedView()...)
	}
	return strings.Join(lines, "\n")
}

func (p *Page) finishedView() []string {
	st := p.c.Styles
	o, ok := p.job.Value().(*restore.Result)
	if !ok {
		return nil
	}
	lines := []string{
		st.OK.Render(fmt.Sprintf("✓ Restored revision %d into %s", o.Revision, o.DataDir)),
		fmt.Sprintf("  %s, %d events applied in %s; revision checked", common.Plural(o.DeltasApplied, "delta", "deltas"), o.EventsApplied, (time.Duration(o.Seconds * float64(time.Second))).Round(10*time.Millisecond)),
	}
	if o.Keys != nil {
		lines = append(lines, fmt.Sprintf("  %s at revision %d", common.Plural(int(*o.Keys), "key", "keys"), o.Revision))
	}
	if o.ServedRevision != 0 && o.ServedRevision != o.Revision {
		lines = append(lines, fmt.Sprintf("  etcd will serve revision %d (bumped, marked compacted)", o.ServedRevision))
	}
	if o.MovedAside != "" {
		lines = append(lines, st.Warn.Render("  the old data dir was moved aside to "+o.MovedAside+" (nothing was deleted)"))
	}
	for _, n := range o.Notes {
		lines = append(lines, st.Muted.Render("  note: "+n))
	}
	lines = append(lines,
		"",
		st.Header.Render("Start the restored member:"),
	)
	if len(o.Members) > 1 {
		lines[len(lines)-1] = st.Header.Render("Start the restored members, each on its host:")
		for _, m := range o.Members {
			lines = append(lines, "  "+MemberCommand(p.req, m))
		}
	} else {
		lines = append(lines, "  "+EtcdCommand(p.req))
	}
	return append(lines,
		"",
		st.Muted.Render("enter/esc back"),
	)
}
