package tui

import (
	"context"
	"fmt"
	"os"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/etcd-dr/etcd-dr/internal/fixture"
	"github.com/etcd-dr/etcd-dr/internal/testenv"
	catalogpage "github.com/etcd-dr/etcd-dr/tui/pages/catalog"
	downloadpage "github.com/etcd-dr/etcd-dr/tui/pages/download"
)

// sizes matches the sizes of objects on the wild screens: the snapshots come from an etcd started for the test,
// whose member id (from its random ports) changes a few bytes of every db, so compressed sizes move by a byte or
// two from run to run. The goldens keep the text around them, and the columns (a mask is as wide as the size).
var sizes = regexp.MustCompile(`\d+(\.\d)? (KiB|B)\b|\d+ bytes stored`)

func maskSizes(frame string) string {
	return sizes.ReplaceAllStringFunc(frame, func(s string) string { return strings.Repeat("#", len(s)) })
}

// wildNow is the clock of the wild-layout screens: a day after internal/fixture's wild snapshots were "taken".
var wildNow = time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)

var (
	wildOnce sync.Once
	wildFix  *fixture.Wild
	wildErr  error
)

// wildStore is internal/fixture's store of other tools' backups (k3s with its .metadata record, OpenShift with
// static pod resources and a dirty snapshot, talos-backup encrypted with age, kops, a plain etcdctl snapshot),
// made once from an embedded etcd and copied into mem://name so that screens show a stable URL.
func wildStore(t *testing.T, name string) (string, *fixture.Wild) {
	t.Helper()
	wildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "etcd-dr-tui-wild-")
		if err != nil {
			wildErr = err
			return
		}
		wildFix, wildErr = fixture.WriteWild(context.Background(), dir)
	})
	if wildErr != nil {
		t.Fatal(wildErr)
	}
	url := "mem://" + name
	testenv.UploadDir(t, url, wildFix.Dir, "")
	return url, wildFix
}

// wildModel is a console on the wild clock, without colours.
func wildModel(t *testing.T, stores ...string) *Model {
	nc := true
	m := New(context.Background(), Config{Stores: stores, Now: func() time.Time { return wildNow }, NoColor: &nc, Refresh: -1})
	t.Cleanup(m.cancel)
	return m
}

// TestWildGolden: the catalog and object screens of other tools' layouts name the layout and the node (k3s),
// list the companion files (k3s .metadata, OpenShift static_kuberesources), say "revision on demand" for a
// compressed snapshot whose name carries no revision, warn of a dirty OpenShift snapshot, and give the encrypted
// state with what to do without an identity (talos-backup), at 80x24 and 160x45.
func TestWildGolden(t *testing.T) {
	url, _ := wildStore(t, "wild")
	cases := []struct {
		name, folder string
		steps        func(a *app) string
	}{
		{"K3sCatalog", fixture.WildK3sDir, func(a *app) string {
			a.waitFor("Layout      ")
			a.press("enter")
			return a.waitFor("on demand", "with")
		}},
		{"K3sObject", fixture.WildK3sDir, func(a *app) string {
			a.waitFor("Layout      ")
			a.press("enter", "down", "enter")
			return a.waitFor("Kept beside", "Node")
		}},
		{"OpenShiftCatalog", fixture.WildOpenShiftDir, func(a *app) string {
			a.waitFor("Layout      ")
			a.press("enter")
			return a.waitFor("__POSSIBLY_DIRTY__", "static_kuberesources")
		}},
		{"TalosCatalog", fixture.WildTalosDir, func(a *app) string {
			a.waitFor("Layout      ")
			a.press("enter")
			return a.waitFor("on demand", "zstd", "+age")
		}},
		{"TalosObject", fixture.WildTalosDir, func(a *app) string {
			a.waitFor("Layout      ")
			a.press("enter", "down", "enter")
			return a.waitFor("no identity: quit", "on demand: not in its name")
		}},
	}
	for _, tc := range cases {
		for _, size := range [][2]int{{80, 24}, {160, 45}} {
			t.Run(fmt.Sprintf("%s%dx%d", tc.name, size[0], size[1]), func(t *testing.T) {
				a := startApp(t, wildModel(t, url+"/"+tc.folder), size[0], size[1])
				goldenCompare(t, maskSizes(tc.steps(a)))
			})
		}
	}
}

// A pick reads an on-demand revision (k3s's zipped snapshot names none): the download wizard opens at the
// revision inside the zip, and back on the catalog the row shows that revision instead of "on demand".
func TestWildOnDemandRevisionRead(t *testing.T) {
	url, w := wildStore(t, "wild-read")
	m := wildModel(t, url+"/"+fixture.WildK3sDir)
	start(m, 160, 45)
	drive(m, key("enter"))
	mustContain(t, m, "revision read when picked", "on demand  ")
	drive(m, keys("down", "down", "down", "d")...)
	topIs[*downloadpage.Page](t, m)
	rev := w.Revisions[w.Zip]
	mustContain(t, m, fmt.Sprint(rev))
	drive(m, key("esc"))
	topIs[*catalogpage.Page](t, m)
	mustContain(t, m, fmt.Sprintf("restorable to %d (read at pick)", rev), fmt.Sprintf("@%d read", rev))
}

// The fleet screen of a root of other tools' backups says what list says of a cluster whose newest backup is read
// only when picked: "on demand" when no revision is known yet (talos-backup, age), "<known>+" when older
// snapshots give a lower bound (k3s: a .zip newer than the plain snapshot).
func TestWildFleetRevisionOnDemand(t *testing.T) {
	url, w := wildStore(t, "wildfleet")
	a := startApp(t, wildModel(t, url), 160, 45)
	frame := a.waitFor("CLUSTER", fixture.WildTalosDir, fixture.WildK3sDir)
	row := func(cluster string) string {
		for _, line := range strings.Split(frame, "\n") {
			if f := strings.Fields(strings.TrimPrefix(strings.TrimSpace(line), "▸")); len(f) > 2 && f[0] == cluster {
				return line
			}
		}
		t.Fatalf("no row for %s:\n%s", cluster, frame)
		return ""
	}
	if k3s, want := row(fixture.WildK3sDir), fmt.Sprintf(" %d+ ", w.Revisions[w.K3s]); !strings.Contains(k3s, want) {
		t.Errorf("k3s row %q lacks %q", k3s, want)
	}
	if talos := row(fixture.WildTalosDir); !strings.Contains(talos, " on demand ") {
		t.Errorf("talos row %q lacks \"on demand\"", talos)
	}
}
