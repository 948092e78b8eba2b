package restore_test

import (
	"bytes"
	"path/filepath"
	"testing"
	"time"

	"github.com/etcd-dr/etcd-dr/engine/catalog"
	"github.com/etcd-dr/etcd-dr/engine/format"
	"github.com/etcd-dr/etcd-dr/engine/restore"
	"github.com/etcd-dr/etcd-dr/internal/fixture"
	"github.com/etcd-dr/etcd-dr/internal/testenv"
	"github.com/etcd-dr/etcd-dr/internal/testkit/restoretest"
)

// A chain (full snapshot + a delta with deletes, transactions and leases) taken from a real etcd 3.5 server
// restores and runs under etcd 3.6 with the 3.5 server's keys.
func TestRestoreChainFromEtcd35IntoEtcd36(t *testing.T) {
	ctx := testCtx(t)
	c := testenv.StartCluster(t, testenv.Binary(t, "etcd-3.5"), 1)
	cli := c.Client(t)
	if err := fixture.Workload(ctx, cli, "/registry/before", 12); err != nil {
		t.Fatal(err)
	}
	full, rev, err := fixture.FullSnapshot(ctx, cli)
	if err != nil {
		t.Fatal(err)
	}
	if err := fixture.Workload(ctx, cli, "/registry/after", 12); err != nil {
		t.Fatal(err)
	}
	end, err := fixture.Revision(ctx, cli)
	if err != nil {
		t.Fatal(err)
	}
	clock := time.Unix(1763900000, 0).UTC()
	events, err := fixture.Events(ctx, cli, rev+1, end, func() time.Time { return clock })
	if err != nil {
		t.Fatal(err)
	}
	want, err := fixture.State(ctx, cli, end)
	if err != nil {
		t.Fatal(err)
	}
	var raw bytes.Buffer
	if err := format.EncodeDelta(&raw, events); err != nil {
		t.Fatal(err)
	}
	delta, err := fixture.Compress(raw.Bytes(), format.Gzip)
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "store")
	if err := fixture.WriteFile(dir, "v2/"+catalog.Name(catalog.Full, 0, rev, clock, format.None, false, false), full); err != nil {
		t.Fatal(err)
	}
	if err := fixture.WriteFile(dir, "v2/"+catalog.Name(catalog.Delta, rev+1, end, clock.Add(time.Minute), format.Gzip, false, false), delta); err != nil {
		t.Fatal(err)
	}
	dataDir := filepath.Join(t.TempDir(), "etcd")
	res, err := restoreFrom(t, "file://"+dir, 0, restore.Config{DataDir: dataDir})
	if err != nil {
		t.Fatalf("restore: %v", err)
	}
	if res.Revision != end || res.EventsApplied != int64(len(events)) {
		t.Fatalf("restored revision %d with %d events, want %d with %d", res.Revision, res.EventsApplied, end, len(events))
	}
	restoretest.Judge(t, testenv.Binary(t, "etcd"), dataDir, restore.DefaultName, end, want)
}
