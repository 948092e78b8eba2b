package download

import (
	"context"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/etcd-dr/etcd-dr/engine/catalog"
	"github.com/etcd-dr/etcd-dr/engine/pick"
	"github.com/etcd-dr/etcd-dr/engine/progress"
	"github.com/etcd-dr/etcd-dr/tui/common"
	"github.com/etcd-dr/etcd-dr/tui/components/job"
	"github.com/etcd-dr/etcd-dr/tui/keymap"
	"github.com/etcd-dr/etcd-dr/tui/styles"
)

// Progress events of the engine become the bar, amounts, rate and ETA; the last object's Finished moves on.
func TestProgressView(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	c := &common.Common{Styles: styles.New(true), Keys: keymap.Default(), Now: time.Now, Ctx: ctx}
	full := catalog.Snapshot{Key: "v2/Full-00000000-00000100-1", Kind: catalog.Full, EndRevision: 100, Size: 100 << 20}
	delta := catalog.Snapshot{Key: "v2/Incr-00000101-00000200-2", Kind: catalog.Delta, StartRevision: 101, EndRevision: 200, Size: 100 << 20}
	res := &pick.Result{Revision: 200, Chain: catalog.Chain{Base: full, Deltas: []catalog.Snapshot{delta}}}
	p := New(c, &common.Source{URL: "mem://x"}, res, "/tmp/target")
	p.SetSize(80, 22)
	// A job the test feeds: each update it is handed is reported, then it waits for the cancel.
	feed := make(chan progress.Update)
	cmd := p.job.Start(func(ctx context.Context, r progress.Reporter) (any, error) {
		for {
			select {
			case u := <-feed:
				r.Report(u)
			case <-ctx.Done():
				return nil, ctx.Err()
			}
		}
	})
	// step hands u to the job and runs the page until it has taken it.
	step := func(u progress.Update) {
		t.Helper()
		feed <- u
		for {
			msg := cmd()
			_, cmd = p.Update(msg)
			if _, ok := msg.(common.JobProgressMsg); ok {
				return
			}
		}
	}
	step(progress.Update{Phase: "download", Unit: "bytes", Done: 50 << 20, Rate: 10 << 20})
	v := ansi.Strip(p.View())
	for _, want := range []string{"object 1 of 2: Full-00000000-00000100-1", " 25%", "50.0 MiB of ~200.0 MiB", "10.0 MiB/s", "ETA 15s", "esc or ctrl+c cancels"} {
		if !strings.Contains(v, want) {
			t.Fatalf("lacks %q:\n%s", want, v)
		}
	}
	step(progress.Update{Phase: "download", Unit: "bytes", Done: 100 << 20, Rate: 10 << 20, Finished: true})
	step(progress.Update{Phase: "download", Unit: "bytes", Done: 50 << 20, Rate: 10 << 20})
	v = ansi.Strip(p.View())
	for _, want := range []string{"object 2 of 2: Incr-00000101-00000200-2", " 75%", "ETA 5s"} {
		if !strings.Contains(v, want) {
			t.Fatalf("lacks %q:\n%s", want, v)
		}
	}
	// A message of another job changes nothing.
	p.Update(common.JobDoneMsg{ID: -1})
	if p.job.State() != job.Running {
		t.Fatal("another job's end ended this one")
	}
	p.Update(tea.KeyPressMsg{Code: tea.KeyEscape})
	if p.job.State() != job.Cancelling || !strings.Contains(ansi.Strip(p.View()), "cancelling") {
		t.Fatalf("esc did not cancel: %v", p.job.State())
	}
	for p.job.State() == job.Cancelling {
		_, cmd = p.Update(cmd())
	}
	if v := ansi.Strip(p.View()); !strings.Contains(v, "Download cancelled; nothing was left at the target.") {
		t.Fatalf("after the cancel:\n%s", v)
	}
}
