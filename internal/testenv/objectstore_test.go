package testenv_test

import (
	"context"
	"io"
	"testing"
	"time"

	"github.com/etcd-dr/etcd-dr/internal/testenv"
	"github.com/etcd-dr/etcd-dr/store"
)

// StartBucket gives, on each object store, a bucket the store package writes to and reads back; Stop makes the
// server unreachable and Start brings it back with the same objects (what outage tests rely on).
func TestStartBucket(t *testing.T) {
	for _, backend := range testenv.ObjectStores {
		t.Run(backend, func(t *testing.T) {
			b := testenv.StartBucket(t, backend, "harness")
			url := b.URL("cluster-a")
			put := func() error {
				st, err := store.Open(ctx(t), url)
				if err != nil {
					return err
				}
				defer st.Close()
				w, err := st.NewWriter(ctx(t), "v2/x", store.WriteOptions{})
				if err != nil {
					return err
				}
				if _, err := w.Write([]byte("kept across a restart")); err != nil {
					w.Abort()
					return err
				}
				return w.Commit()
			}
			list := func(c context.Context) ([]store.Object, error) {
				st, err := store.Open(c, url)
				if err != nil {
					return nil, err
				}
				defer st.Close()
				return st.List(c)
			}
			if err := put(); err != nil {
				t.Fatalf("write to %s: %v", url, err)
			}
			b.Server.Stop()
			c, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			if _, err := list(c); err == nil {
				t.Fatalf("%s listed while its server was stopped", url)
			}
			if err := b.Server.Start(); err != nil {
				t.Fatal(err)
			}
			objs, err := list(ctx(t))
			if err != nil || len(objs) != 1 || objs[0].Key != "v2/x" {
				t.Fatalf("after restart: %+v, %v; want v2/x", objs, err)
			}
			st, err := store.Open(ctx(t), url)
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			rc, err := st.NewReader(ctx(t), "v2/x")
			if err != nil {
				t.Fatal(err)
			}
			got, err := io.ReadAll(rc)
			rc.Close()
			if err != nil || string(got) != "kept across a restart" {
				t.Fatalf("read after restart: %q, %v", got, err)
			}
		})
	}
}
