package restore_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/etcd-dr/etcd-dr/engine/catalog"
	"github.com/etcd-dr/etcd-dr/engine/pick"
	"github.com/etcd-dr/etcd-dr/engine/restore"
	"github.com/etcd-dr/etcd-dr/engine/restore/restoretest"
	"github.com/etcd-dr/etcd-dr/internal/testenv"
	"github.com/etcd-dr/etcd-dr/store"
)

// BenchmarkDeltaApply restores a full snapshot plus 500 000 delta events (in deltas of 10 000) and reports the
// replay rate. The result is judged like every restore in TestRestoreSyntheticChain (same generator).
func BenchmarkDeltaApply(b *testing.B) {
	ch := restoretest.SyntheticChain(b, 1000, 500000, 10000, 100)
	ctx := context.Background()
	st, err := store.Open(ctx, "file://"+ch.Store)
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	cat, err := catalog.Load(ctx, st)
	if err != nil {
		b.Fatal(err)
	}
	r, err := pick.Pick(cat, pick.Config{})
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	var dataDir string
	for i := 0; i < b.N; i++ {
		dataDir = filepath.Join(b.TempDir(), "etcd")
		res, err := restore.Restore(ctx, st, r, restore.Config{DataDir: dataDir})
		if err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(float64(res.EventsApplied)/res.Seconds, "events/s")
		b.ReportMetric(res.Seconds, "s/restore")
	}
	b.StopTimer()
	// The fast path must pass the same judge as every restore: the real etcd serving the computed state.
	restoretest.Judge(b, testenv.Binary(b, "etcd"), dataDir, restore.DefaultName, ch.Revision, ch.State)
}
