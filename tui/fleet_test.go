package tui

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/etcd-dr/etcd-dr/engine/heartbeat"
	"github.com/etcd-dr/etcd-dr/internal/testenv"
	"github.com/etcd-dr/etcd-dr/store"
)

// fleetStore is a seed bucket in miniature at mem://name: three clusters from the real fixtures (one with a
// gap), one with a backup leader's fresh heartbeat. (Layouts whose names carry no time, like etcd-operator's,
// would take the upload time and make the goldens depend on the clock.)
func fleetStore(t testing.TB, name string) string {
	t.Helper()
	url := "mem://" + name
	stores := filepath.Join("..", "testdata", "stores")
	testenv.UploadDir(t, url, filepath.Join(stores, "etcdbr-v2"), "shoot--a/etcd-main")
	testenv.UploadDir(t, url, filepath.Join(stores, "etcdbr-v1"), "shoot--a/etcd-evts")
	testenv.UploadDir(t, url, filepath.Join(stores, "etcdbr-v1"), "shoot--b/etcd-main")
	sub, err := store.Open(context.Background(), url+"/shoot--a/etcd-evts")
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	hb := heartbeat.Heartbeat{Name: "etcd-evts-0", Role: heartbeat.Leader, Time: fixedNow.Add(-10 * time.Second), PeriodSeconds: 30, EtcdDRVersion: "test"}
	if err := heartbeat.Write(context.Background(), sub, hb); err != nil {
		t.Fatal(err)
	}
	return url
}

// TestFleetScreen: a store root of several clusters opens on the Fleet screen (one row per cluster, worst
// first: the cluster with a gap on top), at 80x24 and 160x45 against testdata/TestFleetScreen/*.golden.
func TestFleetScreen(t *testing.T) {
	url := fleetStore(t, "fleet-golden")
	for _, size := range [][2]int{{80, 24}, {160, 45}} {
		t.Run(fmt.Sprintf("%dx%d", size[0], size[1]), func(t *testing.T) {
			m := newModel(t, false, url)
			m.c.MaxAge = 30 * 24 * time.Hour
			a := startApp(t, m, size[0], size[1])
			got := a.waitFor("Stores › Fleet", "3 clusters", "shoot--b/etcd-main", "etcd-evts-0")
			goldenCompare(t, got)
		})
	}
}

// The Fleet screen: worst first, / filters, enter opens that cluster's catalog narrowed to its folder (so a
// pick there is not refused as ambiguous), esc comes back.
func TestFleetFilterAndEnter(t *testing.T) {
	url := fleetStore(t, "fleet-enter")
	m := newModel(t, false, url)
	start(m, 100, 30)
	s := screen(m)
	mustContain(t, m, "Stores › Fleet", "3 clusters", "1 with gaps")
	if i, j := strings.Index(s, "shoot--a/etcd-main"), strings.Index(s, "shoot--b/etcd-main"); i < 0 || j < 0 || i > j {
		t.Fatalf("the cluster with a gap is not first:\n%s", s)
	}
	drive(m, key("/"))
	drive(m, typeText("evts")...)
	mustContain(t, m, "1 of 3", "shoot--a/etcd-evts")
	drive(m, key("enter"), key("enter"))
	mustContain(t, m, "Stores › Fleet › Catalog", "cluster shoot--a/etcd-evts", "2 chains", "newest restorable 195")
	drive(m, key("p"))
	mustContain(t, m, "revision 195")
	drive(m, key("esc"), key("esc"))
	mustContain(t, m, "Stores › Fleet")
}

// Several stores given: the Stores screen says which one is a fleet, and enter on it opens the Fleet screen.
func TestFleetFromStores(t *testing.T) {
	url := fleetStore(t, "fleet-stores")
	m := newModel(t, false, url, memStore(t, "etcdbr-v1", "fleet-stores-single"))
	start(m, 100, 30)
	mustContain(t, m, "3 clusters", "each restored on its own")
	drive(m, key("enter"))
	mustContain(t, m, "Stores › Fleet", "3 clusters")
}

// seedKeys are a seed bucket of n clusters of one full snapshot and two deltas each, every tenth with a gap.
func seedKeys(n int) []string {
	var keys []string
	for c := 0; c < n; c++ {
		dir := fmt.Sprintf("shoot--p%03d--c%04d/etcd-main/v2", c%100, c)
		ts := 1763900000 + c*60
		next := 1001
		if c%10 == 0 {
			next = 1005
		}
		keys = append(keys, fmt.Sprintf("%s/Full-00000000-00001000-%d.gz", dir, ts),
			fmt.Sprintf("%s/Incr-%08d-00001010-%d.gz", dir, next, ts+30), fmt.Sprintf("%s/Incr-00001011-00001020-%d.gz", dir, ts+60))
	}
	return keys
}

// BenchmarkFleetView renders one full frame (title, Fleet screen, footer) at 160x45 of a store root of 1 000
// clusters, the cursor in the middle. Goal: under 16 ms.
func BenchmarkFleetView(b *testing.B) {
	url := "mem://fleet-bench"
	st, err := store.Open(context.Background(), url)
	if err != nil {
		b.Fatal(err)
	}
	for _, k := range seedKeys(1000) {
		w, err := st.NewWriter(context.Background(), k, store.WriteOptions{})
		if err != nil {
			b.Fatal(err)
		}
		_, _ = w.Write([]byte("x"))
		if err := w.Commit(); err != nil {
			b.Fatal(err)
		}
	}
	st.Close()
	m := newModel(b, true, url)
	m.c.MaxAge = time.Hour
	start(m, 160, 45)
	for i := 0; i < 12; i++ {
		drive(m, key("pgdown"))
	}
	if s := screen(m); !strings.Contains(s, "1000 clusters") || !strings.Contains(s, "shoot--p") {
		b.Fatalf("not the Fleet screen of 1000 clusters:\n%s", s)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		_ = m.View()
	}
}

var _ tea.Model = (*Model)(nil)
