package restoretest

import (
	"bytes"
	"context"
	"fmt"
	"path/filepath"
	"sort"
	"testing"
	"time"

	"go.etcd.io/etcd/api/v3/mvccpb"
	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/etcd-dr/etcd-dr/engine/catalog"
	"github.com/etcd-dr/etcd-dr/engine/format"
	"github.com/etcd-dr/etcd-dr/internal/fixture"
	"github.com/etcd-dr/etcd-dr/internal/testenv"
)

// Chain is a generated etcd-backup-restore v2 chain and what a restore of it must serve.
type Chain struct {
	Store        string // folder of the store (file://<Store>)
	Revision     int64  // last revision
	FullRevision int64  // revision of the full snapshot
	Events       int    // delta events
	Deletes      int    // of which deletes
	State        []fixture.KV
}

// SyntheticChain writes a large etcd-backup-restore v2 chain into a new store folder: a real full snapshot of an
// embedded etcd holding baseKeys keys (some on a lease), then events delta events in deltas of perDelta events,
// continuing that snapshot exactly as etcd would have (create revisions, versions, overwrites, deletes,
// transactions of three keys in one revision, a lease the snapshot does not hold), their values valueSize bytes
// (base keys at most 1 KiB). The final state is computed
// alongside, so a restore can be judged without replaying the events anywhere else.
func SyntheticChain(t testing.TB, baseKeys, events, perDelta, valueSize int) *Chain {
	t.Helper()
	_, cli := testenv.StartEmbedded(t)
	return SyntheticChainOf(t, cli, baseKeys, events, perDelta, valueSize)
}

// SyntheticChainOf is SyntheticChain with the full snapshot taken of the etcd behind cli, which must be empty
// (an etcd 3.5 binary, say, for a tool that cannot read 3.6 snapshots).
func SyntheticChainOf(t testing.TB, cli *clientv3.Client, baseKeys, events, perDelta, valueSize int) *Chain {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	snapLease, err := cli.Grant(ctx, 600)
	if err != nil {
		t.Fatal(err)
	}
	value := bytes.Repeat([]byte("v"), valueSize)
	baseValue := value[:min(valueSize, 1024)] // base keys go through gRPC, 64 to a request
	for i := 0; i < baseKeys; i += 64 {
		var ops []clientv3.Op
		for j := i; j < min(i+64, baseKeys); j++ {
			k := fmt.Sprintf("/registry/base/key-%07d", j)
			if j%10 == 0 {
				ops = append(ops, clientv3.OpPut(k, string(baseValue), clientv3.WithLease(snapLease.ID)))
			} else {
				ops = append(ops, clientv3.OpPut(k, string(baseValue)))
			}
		}
		if _, err := cli.Txn(ctx).Then(ops...).Commit(); err != nil {
			t.Fatal(err)
		}
	}
	full, rev, err := fixture.FullSnapshot(ctx, cli)
	if err != nil {
		t.Fatal(err)
	}
	start, err := fixture.State(ctx, cli, rev)
	if err != nil {
		t.Fatal(err)
	}
	state := map[string]fixture.KV{}
	for _, kv := range start {
		state[kv.Key] = kv
	}
	dir := filepath.Join(t.TempDir(), "store")
	clock := time.Unix(1763900000, 0).UTC()
	if err := fixture.WriteFile(dir, "v2/"+catalog.Name(catalog.Full, 0, rev, clock, format.None, false, false), full); err != nil {
		t.Fatal(err)
	}
	const newLease = 0x7e57
	g := &synth{state: state, rev: rev, value: value, keys: max(events/4, 1), lease: int64(snapLease.ID)}
	var batch []format.DeltaEvent
	from := rev + 1
	flush := func() {
		if len(batch) == 0 {
			return
		}
		var raw bytes.Buffer
		if err := format.EncodeDelta(&raw, batch); err != nil {
			t.Fatal(err)
		}
		clock = clock.Add(time.Minute)
		name := catalog.Name(catalog.Delta, from, g.rev, clock, format.None, false, false)
		if err := fixture.WriteFile(dir, "v2/"+name, raw.Bytes()); err != nil {
			t.Fatal(err)
		}
		batch, from = batch[:0], g.rev+1
	}
	n := 0
	for n < events {
		evs := g.next(newLease)
		for i := range evs {
			batch = append(batch, format.DeltaEvent{EtcdEvent: evs[i], Time: clock})
		}
		n += len(evs)
		if len(batch) >= perDelta {
			flush()
		}
	}
	flush()
	out := make([]fixture.KV, 0, len(state))
	for _, kv := range state {
		out = append(out, kv)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return &Chain{Store: dir, Revision: g.rev, FullRevision: rev, Events: n, Deletes: g.deletes, State: out}
}

// synth makes the events of one revision at a time and keeps the state they lead to.
type synth struct {
	state map[string]fixture.KV
	rev   int64
	value []byte
	keys  int
	lease int64
	i     int

	deletes int
}

func (g *synth) put(key string, lease int64) *mvccpb.Event {
	kv, ok := g.state[key]
	if !ok {
		kv = fixture.KV{Key: key, CreateRevision: g.rev}
	}
	kv.Value, kv.ModRevision, kv.Version, kv.Lease = string(g.value), g.rev, kv.Version+1, lease
	g.state[key] = kv
	return &mvccpb.Event{Type: mvccpb.PUT, Kv: &mvccpb.KeyValue{Key: []byte(key), Value: g.value, CreateRevision: kv.CreateRevision, ModRevision: g.rev, Version: kv.Version, Lease: lease}}
}

func (g *synth) next(newLease int64) []*mvccpb.Event {
	g.i++
	g.rev++
	k := g.i % g.keys // every key comes back events/keys times: overwrites, and deletes of existing keys
	key := fmt.Sprintf("/registry/pods/ns-%03d/pod-%07d", k%97, k)
	switch {
	case g.i%50 == 0: // a transaction: three keys in one revision
		return []*mvccpb.Event{g.put(key+"/a", 0), g.put(key+"/b", 0), g.put(key+"/c", 0)}
	case g.i%23 == 0: // delete the key if it exists, else put it with a lease the snapshot does not hold
		if _, ok := g.state[key]; ok {
			delete(g.state, key)
			g.deletes++
			return []*mvccpb.Event{{Type: mvccpb.DELETE, Kv: &mvccpb.KeyValue{Key: []byte(key), ModRevision: g.rev}}}
		}
		return []*mvccpb.Event{g.put(key, newLease)}
	case g.i%31 == 0:
		return []*mvccpb.Event{g.put(key, g.lease)}
	}
	return []*mvccpb.Event{g.put(key, 0)}
}
