package restore_test

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/etcd-dr/etcd-dr/engine/format"
	"github.com/etcd-dr/etcd-dr/engine/restore"
	"github.com/etcd-dr/etcd-dr/internal/fixture"
	"github.com/etcd-dr/etcd-dr/internal/testenv"
	"github.com/etcd-dr/etcd-dr/internal/testkit/restoretest"
)

// readDelta decodes one delta file of a store folder.
func readDelta(t *testing.T, path string, c format.Compression) []format.DeltaEvent {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r, err := format.NewDecompressor(f, c)
	if err != nil {
		t.Fatal(err)
	}
	events, err := format.DecodeDelta(r)
	if err != nil {
		t.Fatal(err)
	}
	return events
}

// Overlapping deltas (two writers after a leader handover) apply each revision once: the restore skips what an
// earlier object already held and ends with the source's keys.
func TestRestoreOverlappingDeltas(t *testing.T) {
	dir := testenv.CopyStore(t, fixture.StoreBRv2)
	v2 := filepath.Join(dir, "v2")
	events := append(readDelta(t, filepath.Join(v2, "Incr-00000033-00000042-1763900180.zlib"), format.Zlib),
		readDelta(t, filepath.Join(v2, "Incr-00000043-00000052-1763900240.Z"), format.LZW)...)
	var overlap []format.DeltaEvent
	for _, e := range events {
		if r := e.Revision(); r >= 38 && r <= 47 {
			overlap = append(overlap, e)
		}
	}
	var raw bytes.Buffer
	if err := format.EncodeDelta(&raw, overlap); err != nil {
		t.Fatal(err)
	}
	data, err := fixture.Compress(raw.Bytes(), format.Gzip)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(v2, "Incr-00000038-00000047-1763900200.gz"), data, 0o644); err != nil {
		t.Fatal(err)
	}
	dataDir := filepath.Join(t.TempDir(), "etcd")
	res, err := restoreFrom(t, "file://"+dir, 72, restore.Config{DataDir: dataDir})
	if err != nil {
		t.Fatalf("restore: %v", err)
	}
	if res.EventsSkipped == 0 || res.DeltasApplied != 6 {
		t.Fatalf("skipped %d events, applied %d deltas; want the overlap skipped, and 6 deltas contributing (38-47 brings 43-47)", res.EventsSkipped, res.DeltasApplied)
	}
	restoretest.Judge(t, testenv.Binary(t, "etcd"), dataDir, restore.DefaultName, 72, restoretest.State(t, fixture.StoreBRv2, 72))
}
