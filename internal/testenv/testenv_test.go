package testenv_test

import (
	"bytes"
	"context"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"gocloud.dev/blob"
	_ "gocloud.dev/blob/s3blob"

	"github.com/etcd-dr/etcd-dr/internal/testenv"
)

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	return c
}

func TestS3(t *testing.T) {
	s := testenv.StartS3(t)
	s.CreateBucket(t, "backups")

	t.Run("sdk round trip", func(t *testing.T) {
		c := s.Client()
		body := []byte("hello etcd-dr")
		_, err := c.PutObject(ctx(t), &s3.PutObjectInput{Bucket: aws.String("backups"), Key: aws.String("a/b.txt"), Body: bytes.NewReader(body)})
		if err != nil {
			t.Fatalf("put: %v", err)
		}
		out, err := c.GetObject(ctx(t), &s3.GetObjectInput{Bucket: aws.String("backups"), Key: aws.String("a/b.txt")})
		if err != nil {
			t.Fatalf("get: %v", err)
		}
		got, _ := io.ReadAll(out.Body)
		out.Body.Close()
		if !bytes.Equal(got, body) {
			t.Fatalf("got %q, want %q", got, body)
		}
	})

	t.Run("gocloud URL", func(t *testing.T) {
		s.Env(t)
		u := s.URL("backups", "cluster-a")
		if !strings.HasPrefix(u, "s3://backups/cluster-a?") {
			t.Fatalf("URL %q", u)
		}
		b := openPrefixed(t, u)
		if err := b.WriteAll(ctx(t), "v2/x", []byte("via gocloud"), nil); err != nil {
			t.Fatalf("write through %s: %v", u, err)
		}
		// The object is under the prefix, seen through the plain SDK too.
		out, err := s.Client().GetObject(ctx(t), &s3.GetObjectInput{Bucket: aws.String("backups"), Key: aws.String("cluster-a/v2/x")})
		if err != nil {
			t.Fatalf("get cluster-a/v2/x: %v", err)
		}
		out.Body.Close()
	})

	t.Run("stop and start", func(t *testing.T) {
		s.Stop()
		if s.Running() {
			t.Fatal("running after Stop")
		}
		c, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		defer cancel()
		if _, err := s.Client().ListBuckets(c, &s3.ListBucketsInput{}, func(o *s3.Options) { o.RetryMaxAttempts = 1 }); err == nil {
			t.Fatal("S3 answered while stopped")
		}
		if err := s.Start(); err != nil {
			t.Fatal(err)
		}
		out, err := s.Client().GetObject(ctx(t), &s3.GetObjectInput{Bucket: aws.String("backups"), Key: aws.String("a/b.txt")})
		if err != nil {
			t.Fatalf("get after restart: %v", err)
		}
		out.Body.Close()
	})
}

// openPrefixed opens an s3://bucket/prefix?... store URL with gocloud, moving
// the path into gocloud's prefix parameter as the store package does.
func openPrefixed(t *testing.T, raw string) *blob.Bucket {
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	if p := strings.Trim(u.Path, "/"); p != "" {
		q.Set("prefix", p+"/")
	}
	u.Path, u.RawQuery = "", q.Encode()
	b, err := blob.OpenBucket(ctx(t), u.String())
	if err != nil {
		t.Fatalf("open %s: %v", u, err)
	}
	t.Cleanup(func() { b.Close() })
	return b
}

func TestEmbedded(t *testing.T) {
	_, cli := testenv.StartEmbedded(t)
	if _, err := cli.Put(ctx(t), "k", "v"); err != nil {
		t.Fatal(err)
	}
	resp, err := cli.Get(ctx(t), "k")
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.Kvs) != 1 || string(resp.Kvs[0].Value) != "v" {
		t.Fatalf("got %v", resp.Kvs)
	}
}

func TestCluster(t *testing.T) {
	c := testenv.StartCluster(t, testenv.Binary(t, "etcd"), 3)
	m0, m2 := c.Members[0].Client(t), c.Members[2].Client(t)
	if _, err := m0.Put(ctx(t), "greeting", "hello"); err != nil {
		t.Fatal(err)
	}
	resp, err := m2.Get(ctx(t), "greeting")
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.Kvs) != 1 || string(resp.Kvs[0].Value) != "hello" {
		t.Fatalf("member m2 read %v", resp.Kvs)
	}

	// Kill one member, write with the other two, bring it back: it catches up.
	c.Members[1].Kill()
	if c.Members[1].Running() {
		t.Fatal("m1 running after Kill")
	}
	// A write sent while the old leader is dead can hang for etcd's request
	// timeout (7s): wait for the survivors to elect a leader first.
	c.WaitHealthy(t)
	if _, err := m0.Put(ctx(t), "while-down", "x"); err != nil {
		t.Fatal(err)
	}
	c.Members[1].Restart(t)
	c.WaitHealthy(t)
	resp, err = c.Members[1].Client(t).Get(ctx(t), "while-down")
	if err != nil || len(resp.Kvs) != 1 {
		t.Fatalf("m1 after restart: %v %v", resp, err)
	}

	out := testenv.Etcdctl(t, "--endpoints", strings.Join(c.Endpoints(), ","), "get", "greeting", "--print-value-only")
	if strings.TrimSpace(string(out)) != "hello" {
		t.Fatalf("etcdctl get: %q", out)
	}
	l := c.Leader(t)
	for _, m := range c.Members {
		if m.ID() == 0 {
			t.Fatalf("member %s has no ID", m.Name)
		}
	}
	if l.ID() == 0 {
		t.Fatal("leader has no ID")
	}
}

func TestOtherVersions(t *testing.T) {
	for _, tool := range []string{"etcd-3.5", "etcd-3.7"} {
		t.Run(tool, func(t *testing.T) {
			c := testenv.StartCluster(t, testenv.Binary(t, tool), 1)
			cli := c.Client(t)
			if _, err := cli.Put(ctx(t), "k", tool); err != nil {
				t.Fatal(err)
			}
			st, err := cli.Status(ctx(t), c.Endpoints()[0])
			if err != nil {
				t.Fatal(err)
			}
			if want := strings.TrimPrefix(tool, "etcd-"); !strings.HasPrefix(st.Version, want+".") {
				t.Fatalf("%s reports version %s", tool, st.Version)
			}
		})
	}
}

// A snapshot of the embedded etcd, restored with etcdutl and started with the
// etcd binary, serves the data: the path the restore tests take.
func TestRestoreOnDataDir(t *testing.T) {
	_, cli := testenv.StartEmbedded(t)
	if _, err := cli.Put(ctx(t), "restored", "yes"); err != nil {
		t.Fatal(err)
	}
	rc, err := cli.Snapshot(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	db := filepath.Join(dir, "snap.db")
	f, err := os.Create(db)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(f, rc); err != nil {
		t.Fatal(err)
	}
	rc.Close()
	f.Close()

	dataDir := filepath.Join(dir, "restored.etcd")
	testenv.Etcdutl(t, "snapshot", "restore", db, "--data-dir", dataDir, "--name", "r0",
		"--initial-cluster", "r0=http://127.0.0.1:1", "--initial-advertise-peer-urls", "http://127.0.0.1:1")
	m := testenv.StartEtcdOnDataDir(t, testenv.Binary(t, "etcd"), dataDir, "r0")
	resp, err := m.Client(t).Get(ctx(t), "restored")
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.Kvs) != 1 || string(resp.Kvs[0].Value) != "yes" {
		t.Fatalf("restored member read %v", resp.Kvs)
	}
}
