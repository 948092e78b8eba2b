// Package restoretest holds test helpers for restores: the committed testdata stores and their recorded states,
// corrupted copies of them, and the judge of a restore — the pinned etcd binary started on the restored data dir.
package restoretest

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/etcd-dr/etcd-dr/internal/fixture"
	"github.com/etcd-dr/etcd-dr/internal/testenv"
)

// Root is the committed testdata folder (damage copies of its stores made with testenv.CopyStore, never it).
func Root(t testing.TB) string {
	t.Helper()
	return testenv.Testdata(t)
}

// Manifest loads testdata/manifest.json.
func Manifest(t testing.TB) *fixture.Manifest {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(Root(t), "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	var m fixture.Manifest
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return &m
}

// State is the recorded state of store (e.g. fixture.StoreBRv2) at rev.
func State(t testing.TB, store string, rev int64) []fixture.KV {
	t.Helper()
	rel, ok := Manifest(t).States[fmt.Sprintf("%s@%d", store, rev)]
	if !ok {
		t.Fatalf("no recorded state of %s at revision %d", store, rev)
	}
	b, err := os.ReadFile(filepath.Join(Root(t), rel))
	if err != nil {
		t.Fatal(err)
	}
	var kvs []fixture.KV
	if err := json.Unmarshal(b, &kvs); err != nil {
		t.Fatal(err)
	}
	return kvs
}

// StoreURL is the file:// URL of a committed store (read only: never write through it).
func StoreURL(t testing.TB, store string) string {
	t.Helper()
	return "file://" + filepath.Join(Root(t), filepath.FromSlash(store))
}

// Judge starts the etcd binary on a restored single-member data dir (member name) and checks, with
// etcdctl get "" --prefix -w json, that it serves exactly want at header revision rev.
func Judge(t testing.TB, binary, dataDir, name string, rev int64, want []fixture.KV) {
	t.Helper()
	m := testenv.StartEtcdOnDataDir(t, binary, dataDir, name)
	out := testenv.Etcdctl(t, "--endpoints", m.ClientURL, "get", "", "--prefix", "-w", "json")
	var resp struct {
		Header struct {
			Revision int64 `json:"revision"`
		} `json:"header"`
		Kvs []struct {
			Key            []byte `json:"key"`
			Value          []byte `json:"value"`
			CreateRevision int64  `json:"create_revision"`
			ModRevision    int64  `json:"mod_revision"`
			Version        int64  `json:"version"`
			Lease          int64  `json:"lease"`
		} `json:"kvs"`
	}
	if err := json.Unmarshal(out, &resp); err != nil {
		t.Fatalf("etcdctl get -w json: %v\n%s", err, out)
	}
	if resp.Header.Revision != rev {
		t.Errorf("restored etcd is at revision %d, want %d", resp.Header.Revision, rev)
	}
	got := make([]fixture.KV, 0, len(resp.Kvs))
	for _, kv := range resp.Kvs {
		got = append(got, fixture.KV{Key: string(kv.Key), Value: string(kv.Value), CreateRevision: kv.CreateRevision, ModRevision: kv.ModRevision, Version: kv.Version, Lease: kv.Lease})
	}
	Compare(t, got, want)
	m.Stop()
}

// CheckServes checks that cli serves exactly want, at header revision rev.
func CheckServes(t testing.TB, cli *clientv3.Client, rev int64, want []fixture.KV) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	resp, err := cli.Get(ctx, "", clientv3.WithPrefix())
	if err != nil {
		t.Fatalf("read restored etcd: %v", err)
	}
	if resp.Header.Revision != rev {
		t.Errorf("restored etcd is at revision %d, want %d", resp.Header.Revision, rev)
	}
	got := make([]fixture.KV, 0, len(resp.Kvs))
	for _, kv := range resp.Kvs {
		got = append(got, fixture.KV{Key: string(kv.Key), Value: string(kv.Value), CreateRevision: kv.CreateRevision, ModRevision: kv.ModRevision, Version: kv.Version, Lease: kv.Lease})
	}
	sort.Slice(got, func(i, j int) bool { return got[i].Key < got[j].Key })
	Compare(t, got, want)
}

// WithoutDeltaLeases is what gardener's etcdbrctl restores of a chain whose state is kvs: it replays delta events
// as puts without their lease (pkg/snapshot/restorer/restorer.go, "//, clientv3.WithLease(...)" commented out),
// so a key last written after the full snapshot at fullRev comes back unleased. etcd-dr keeps the leases.
func WithoutDeltaLeases(kvs []fixture.KV, fullRev int64) []fixture.KV {
	out := slices.Clone(kvs)
	for i := range out {
		if out[i].ModRevision > fullRev {
			out[i].Lease = 0
		}
	}
	return out
}

// Compare reports every difference between two key lists.
func Compare(t testing.TB, got, want []fixture.KV) {
	t.Helper()
	wm := map[string]fixture.KV{}
	for _, kv := range want {
		wm[kv.Key] = kv
	}
	gm := map[string]fixture.KV{}
	for _, kv := range got {
		gm[kv.Key] = kv
		w, ok := wm[kv.Key]
		switch {
		case !ok:
			t.Errorf("restored etcd has key %q the source did not have", kv.Key)
		case w != kv:
			t.Errorf("key %q: restored %+v, source %+v", kv.Key, kv, w)
		}
	}
	for _, kv := range want {
		if _, ok := gm[kv.Key]; !ok {
			t.Errorf("restored etcd lacks key %q", kv.Key)
		}
	}
	if len(got) != len(want) {
		t.Errorf("restored etcd has %d keys, the source %d", len(got), len(want))
	}
}
