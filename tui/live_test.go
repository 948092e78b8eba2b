package tui

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/etcd-dr/etcd-dr/engine/heartbeat"
	"github.com/etcd-dr/etcd-dr/store"
)

// tickingClock starts at fixedNow and moves a second on every read, so that reads are "later" than the last
// load (a fixed clock makes every catalog look read this very moment). Safe for the program's goroutines.
func tickingClock() func() time.Time {
	var n atomic.Int64
	return func() time.Time { return fixedNow.Add(time.Duration(n.Add(1)) * time.Second) }
}

// liveModel is a root model on the ticking clock with the given refresh period.
func liveModel(t *testing.T, refresh time.Duration, stores ...string) *Model {
	nc := true
	m := New(context.Background(), Config{Stores: stores, Now: tickingClock(), NoColor: &nc, Refresh: refresh})
	t.Cleanup(func() { m.cancel() })
	return m
}

// emptyMem opens mem://name (empty) so that the console reads a store that holds nothing yet.
func emptyMem(t *testing.T, name string) string {
	t.Helper()
	st, err := store.Open(context.Background(), "mem://"+name)
	if err != nil {
		t.Fatal(err)
	}
	st.Close()
	return "mem://" + name
}

// Opening a store's catalog lists it afresh: a daemon's backups stored after the console read the store show
// up (make run used to say "No backups in this store" while etcd-dr list showed a chain).
func TestCatalogListsAfresh(t *testing.T) {
	url := emptyMem(t, "afresh")
	m := liveModel(t, -1, url)
	start(m, 80, 24)
	mustContain(t, m, "mem://afresh", "No backups found")
	memStore(t, "etcdbr-v2", "afresh") // the daemon stores its backups meanwhile
	drive(m, key("enter"))
	mustContain(t, m, "2 chains", "GAP revisions 104-113")
}

// The Stores screen reads every store again on its own every --refresh while it is shown.
func TestStoresRefreshOnTheirOwn(t *testing.T) {
	url := emptyMem(t, "refresh-own")
	a := startApp(t, liveModel(t, 100*time.Millisecond, url), 80, 24)
	a.waitFor("mem://refresh-own", "No backups found")
	memStore(t, "etcdbr-v2", "refresh-own")
	a.waitFor("etcdbr-v2", "revision 103")
}

// The Catalog refreshes on its own too, and keeps the cursor on the object it was on when new chains arrive.
func TestCatalogRefreshKeepsCursor(t *testing.T) {
	url := memStore(t, "etcdbr-v2", "refresh-cursor")
	a := startApp(t, liveModel(t, 100*time.Millisecond, url), 80, 24)
	a.waitFor("etcdbr-v2")
	a.press("enter")
	a.waitFor("GAP revisions 104-113")
	a.press("down", "down")
	a.waitFor("Incr-00000094-00000103")
	memStore(t, "etcdbr-v1", "refresh-cursor") // a second layout's chains, newer: they sort first
	a.waitFor("4 chains", "v2/Incr-00000094-00000103")
}

// r on the Stores screen reads every store again, not only the selected one.
func TestReloadReadsAllStores(t *testing.T) {
	a, b := emptyMem(t, "reload-a"), emptyMem(t, "reload-b")
	m := liveModel(t, -1, a, b)
	start(m, 80, 24)
	memStore(t, "etcdbr-v2", "reload-a")
	memStore(t, "etcdbr-v1", "reload-b")
	drive(m, key("r"))
	mustContain(t, m, "etcdbr-v2", "etcdbr-v1")
}

// The Members screen shows the daemons' roles changing while it is shown, and a daemon that starts writing
// heartbeats after the screen opened.
func TestMembersRolesChangeLive(t *testing.T) {
	url := memStore(t, "etcdbr-v2", "members-live")
	st, err := store.Open(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	write := func(name string, role heartbeat.Role) {
		t.Helper()
		hb := heartbeat.Heartbeat{Name: name, Role: role, Time: fixedNow, PeriodSeconds: 3600, EtcdDRVersion: "test"}
		if err := heartbeat.Write(context.Background(), st, hb); err != nil {
			t.Fatal(err)
		}
	}
	write("etcd-0", heartbeat.Leader)
	a := startApp(t, liveModel(t, 100*time.Millisecond, url), 80, 24)
	a.waitFor("etcdbr-v2")
	a.press("m")
	a.waitFor("etcd-0         Leader")
	write("etcd-0", heartbeat.Follower)
	write("etcd-1", heartbeat.Leader) // a daemon that was not there when the screen opened
	a.waitFor("etcd-0         Follower", "etcd-1         Leader")
}
