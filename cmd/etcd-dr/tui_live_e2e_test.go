package main

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/etcd-dr/etcd-dr/internal/fixture"
	"github.com/etcd-dr/etcd-dr/internal/testenv"
)

// make run, in miniature: an etcd with writes going on, etcd-dr --daemon backing it up into an empty store, and
// the console opened on that store at the same moment (before any backup exists). With the default --refresh the
// console shows the daemon's chain within 30 s, and its catalog lists it.
func TestTUIEndToEndLiveStore(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and drives it in tmux")
	}
	bin := buildBinary(t)
	e, cli := testenv.StartEmbedded(t)
	ep := e.Config().AdvertiseClientUrls[0].String()
	live := filepath.Join(t.TempDir(), "live")
	if err := os.MkdirAll(live, 0o755); err != nil {
		t.Fatal(err)
	}
	stop := make(chan struct{})
	defer close(stop)
	go func() { // writes going on, as in make run
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			case <-time.After(500 * time.Millisecond):
			}
			_ = fixture.Workload(t.Context(), cli, fmt.Sprintf("/live/%04d", i), 2)
		}
	}()
	startDaemon(t, bin, "--endpoints", ep, "--store", "file://"+live, "--name", "embedded", "--delta-period", "1s", "--full-schedule", "@every 2m")
	tm := startTmux(t, 100, 30, []string{"TERM=xterm-256color"}, bin, "--store", "'file://"+live+"'", "--endpoints", ep)
	started := time.Now()
	tm.waitFor(30*time.Second, "Restorable  revision", "etcd-dr ")
	t.Logf("the live store showed a chain after %v", time.Since(started).Round(100*time.Millisecond))
	tm.keys("Enter")
	tm.waitFor(10*time.Second, "Stores › Catalog", "restorable to", "Full-00000000-")
}

// A store root of several clusters opens on the Fleet screen, and enter reaches the first cluster's catalog
// (the cluster with a gap: worst first). --max-age marks the two whose newest backup is a year old (the
// operator snapshots carry no time in their names: their age is the copy's).
func TestTUIEndToEndFleet(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and drives it in tmux")
	}
	bin := buildBinary(t)
	root := filepath.Join(t.TempDir(), "seed")
	for dst, src := range map[string]string{
		"shoot--a/etcd-main": "stores/etcdbr-v2",
		"shoot--a/etcd-evts": "stores/etcdbr-v1",
		"kops":               "stores/operator",
	} {
		copyTree(t, filepath.Join(testenv.Testdata(t), src), filepath.Join(root, dst))
	}
	tm := startTmux(t, 80, 24, []string{"TERM=xterm-256color"}, bin, "--store", "'file://"+root+"'", "--max-age", "24h")
	tm.waitFor(10*time.Second, "Stores › Fleet", "3 clusters", "2 older than 1d", "shoot--a/etcd-main", "kops/v1/etcd-cluster")
	tm.keys("Enter")
	tm.waitFor(10*time.Second, "Stores › Fleet › Catalog", "cluster shoot--a/etcd-main", "GAP revisions 104-113")
	tm.keys("Escape")
	tm.waitFor(5*time.Second, "Stores › Fleet", "3 clusters")
}
