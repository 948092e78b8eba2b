package testenv

import "testing"

// ObjectStores names the object-store back ends that integration tests run over, one sub-test each, so that
// gs:// is tried wherever s3:// is: "s3" (versitygw) and "gs" (fake-gcs-server).
var ObjectStores = []string{"s3", "gs"}

// Bucket is one bucket on a started object-store server of either kind.
type Bucket struct {
	Backend string // "s3" or "gs"
	Name    string
	// Server is the emulator itself: Stop kills it (like an outage), Start brings it back on the same address
	// with the same data.
	Server interface {
		Stop()
		Start() error
	}
	url func(bucket, prefix string) string
}

// StartBucket starts the server named by backend (see ObjectStores), points its SDK at it for the rest of the
// test (the server's Env: t.Setenv, so not for parallel tests) and creates bucket on it.
func StartBucket(t testing.TB, backend, bucket string) *Bucket {
	t.Helper()
	switch backend {
	case "s3":
		s := StartS3(t)
		s.Env(t)
		s.CreateBucket(t, bucket)
		return &Bucket{Backend: backend, Name: bucket, Server: s, url: s.URL}
	case "gs":
		g := StartGCS(t)
		g.Env(t)
		g.CreateBucket(t, bucket)
		return &Bucket{Backend: backend, Name: bucket, Server: g, url: g.URL}
	}
	t.Fatalf("unknown object store %q (want one of %v)", backend, ObjectStores)
	return nil
}

// URL is the store URL of prefix in the bucket.
func (b *Bucket) URL(prefix string) string { return b.url(b.Name, prefix) }
