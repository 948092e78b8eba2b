package snapshot_test

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/etcd-dr/etcd-dr/engine/catalog"
	"github.com/etcd-dr/etcd-dr/engine/format"
	"github.com/etcd-dr/etcd-dr/engine/snapshot"
	"github.com/etcd-dr/etcd-dr/internal/fixture"
	"github.com/etcd-dr/etcd-dr/internal/testenv"
	"github.com/etcd-dr/etcd-dr/internal/testkit/snapshottest"
	"github.com/etcd-dr/etcd-dr/store"
)

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

func newSnapshotter(t *testing.T, cli *clientv3.Client, url string, mod func(*snapshot.Config)) (*snapshot.Snapshotter, *store.Store) {
	t.Helper()
	st, err := store.Open(testCtx(t), url, store.OpenOptions{Create: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	cfg := snapshot.Config{Client: cli, Store: st, TempDir: t.TempDir(), Logger: slog.New(slog.NewTextHandler(t.Output(), nil))}
	if mod != nil {
		mod(&cfg)
	}
	s, err := snapshot.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return s, st
}

func fileURL(t *testing.T) string { return "file://" + filepath.Join(t.TempDir(), "store") }

func rev(t *testing.T, cli *clientv3.Client) int64 {
	r, err := fixture.Revision(testCtx(t), cli)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// A full snapshot is named for the revision inside it, carries etcd-dr metadata, restores to exactly the live
// keys, and is skipped while the revision stays the same.
func TestFullSnapshot(t *testing.T) {
	_, cli := testenv.StartEmbedded(t)
	ctx := testCtx(t)
	if err := fixture.Workload(ctx, cli, "/full", 60); err != nil {
		t.Fatal(err)
	}
	for _, c := range []format.Compression{format.Gzip, format.Zstd, format.None} {
		t.Run(c.String(), func(t *testing.T) {
			url := fileURL(t)
			s, st := newSnapshotter(t, cli, url, func(cfg *snapshot.Config) { cfg.Compression, cfg.CompressionSet = c, true })
			want := rev(t, cli)
			res, err := s.Full(ctx, snapshot.FullOptions{})
			if err != nil {
				t.Fatal(err)
			}
			wantKey := fmt.Sprintf("v2/Full-00000000-%08d-%d%s", want, res.Time.Unix(), c.Suffix())
			if res.Skipped || res.Key != wantKey || res.EndRevision != want {
				t.Fatalf("full snapshot %+v, want key %s at revision %d", res, wantKey, want)
			}
			a, err := st.Attributes(ctx, res.Key)
			if err != nil {
				t.Fatal(err)
			}
			if a.Metadata[catalog.MetaEtcdDR] == "" || a.Metadata[catalog.MetaEndRevision] != fmt.Sprint(want) || !strings.HasPrefix(a.Metadata[catalog.MetaEtcdVersion], "3.6.") {
				t.Errorf("metadata %v", a.Metadata)
			}
			again, err := s.Full(ctx, snapshot.FullOptions{})
			if err != nil || !again.Skipped {
				t.Fatalf("second full snapshot at an unchanged revision: %+v, %v; want skipped", again, err)
			}
			cat := snapshottest.Catalog(t, url)
			if len(cat.Chains) != 1 || cat.Chains[0].Layout != catalog.EtcdDR {
				t.Fatalf("chains %+v", cat.Chains)
			}
			if c == format.Gzip {
				snapshottest.Judge(t, url, 0, cli)
			}
		})
	}
}

// Writes during the stream move etcd's revision: the name must still be the revision inside the snapshot
// (restore refuses a snapshot whose name lies, so restoring is the check).
func TestFullSnapshotWhileWriting(t *testing.T) {
	_, cli := testenv.StartEmbedded(t)
	ctx := testCtx(t)
	big := strings.Repeat("x", 4096)
	for i := 0; i < 3000; i++ {
		if _, err := cli.Put(ctx, fmt.Sprintf("/big/%05d", i), big); err != nil {
			t.Fatal(err)
		}
	}
	url := fileURL(t)
	s, _ := newSnapshotter(t, cli, url, nil)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			_, _ = cli.Put(ctx, fmt.Sprintf("/moving/%d", i%50), fmt.Sprint(i))
		}
	}()
	var moved bool
	for i := 0; i < 3 && !moved; i++ {
		before := rev(t, cli)
		res, err := s.Full(ctx, snapshot.FullOptions{Force: true})
		if err != nil {
			t.Fatal(err)
		}
		moved = res.EndRevision != before
		t.Logf("revision %d before the stream, %d inside the snapshot", before, res.EndRevision)
	}
	close(stop)
	wg.Wait()
	if !moved {
		t.Log("etcd did not move during any snapshot; the fallback path was not exercised")
	}
	cat := snapshottest.Catalog(t, url)
	for _, ch := range cat.Chains {
		r := snapshottest.Judge(t, url, ch.Base.EndRevision, cli)
		if r.Revision != ch.Base.EndRevision {
			t.Errorf("restored %d, chain named %d", r.Revision, ch.Base.EndRevision)
		}
		if !moved {
			break
		}
	}
}
