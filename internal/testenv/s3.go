package testenv

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// S3 is a real S3 server (versitygw with its posix backend) on 127.0.0.1.
type S3 struct {
	Endpoint  string // http://127.0.0.1:PORT
	Region    string
	AccessKey string
	SecretKey string

	bin, addr, root, logPath string

	mu   sync.Mutex
	proc *proc
}

// StartS3 starts versitygw on a free port with its buckets under a
// t.TempDir(), waits until it answers S3 requests, and stops it at cleanup.
func StartS3(t testing.TB) *S3 {
	t.Helper()
	bin := Binary(t, "versitygw")
	dir := t.TempDir()
	s := &S3{
		Region:    "us-east-1",
		AccessKey: "etcddrtestaccess",
		SecretKey: "etcddrtestsecret0123456789",
		bin:       bin,
		root:      filepath.Join(dir, "root"),
		logPath:   filepath.Join(dir, "versitygw.log"),
	}
	for _, d := range []string{s.root, filepath.Join(dir, "meta")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(s.Stop)
	var err error
	for attempt := 0; attempt < 3; attempt++ {
		port := FreePort(t)
		s.addr = fmt.Sprintf("127.0.0.1:%d", port)
		s.Endpoint = "http://" + s.addr
		if err = s.Start(); err == nil {
			return s
		}
		if !isBindClash(logTail(s.logPath, 20)) {
			break
		}
	}
	t.Fatalf("start S3 server: %v", err)
	return nil
}

// Start (re)starts the server on the same address and directory, after Stop.
// It returns once the server answers S3 requests; it is a no-op if running.
func (s *S3) Start() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.proc != nil && !s.proc.exited() {
		return nil
	}
	args := []string{
		"--port", s.addr,
		"--region", s.Region,
		"--quiet",
		"posix",
		// Metadata in a side directory rather than xattrs, so any
		// filesystem under TMPDIR works.
		"--sidecar", filepath.Join(filepath.Dir(s.root), "meta"),
		s.root,
	}
	env := []string{"ROOT_ACCESS_KEY=" + s.AccessKey, "ROOT_SECRET_KEY=" + s.SecretKey}
	p, err := startProc(s.bin, args, env, s.logPath)
	if err != nil {
		return err
	}
	s.proc = p
	client := s.Client()
	deadline := time.Now().Add(30 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		_, err = client.ListBuckets(ctx, &s3.ListBucketsInput{}, func(o *s3.Options) { o.RetryMaxAttempts = 1 })
		cancel()
		if err == nil {
			return nil
		}
		if p.exited() {
			return fmt.Errorf("versitygw on %s exited: %v\n%s", s.addr, p.err, logTail(s.logPath, 20))
		}
		if time.Now().After(deadline) {
			p.stop(os.Kill, 0)
			return fmt.Errorf("versitygw on %s not answering after 30s: %v\n%s", s.addr, err, logTail(s.logPath, 20))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Stop kills the server (SIGKILL, like a crash or an outage). The data stays;
// Start brings the same server back on the same port.
func (s *S3) Stop() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.proc.stop(os.Kill, 0)
}

// Client returns an AWS SDK v2 S3 client for the server (path-style,
// static credentials).
func (s *S3) Client() *s3.Client {
	return s3.New(s3.Options{
		Region:       s.Region,
		BaseEndpoint: aws.String(s.Endpoint),
		UsePathStyle: true,
		Credentials:  credentials.NewStaticCredentialsProvider(s.AccessKey, s.SecretKey, ""),
	})
}

// CreateBucket creates a bucket; the test fails if it cannot.
func (s *S3) CreateBucket(t testing.TB, name string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := s.Client().CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(name)}); err != nil {
		t.Fatalf("create bucket %s on %s: %v", name, s.Endpoint, err)
	}
}

// URL is the store URL for bucket and prefix on this server:
// s3://bucket/prefix?endpoint=http://127.0.0.1:PORT&region=us-east-1&use_path_style=true
// (gocloud.dev s3blob parameters; the path is the prefix, for the store
// package to split off). Credentials are not in the URL: see Env.
func (s *S3) URL(bucket, prefix string) string {
	q := url.Values{}
	q.Set("endpoint", s.Endpoint)
	q.Set("region", s.Region)
	q.Set("use_path_style", "true")
	u := url.URL{Scheme: "s3", Host: bucket, Path: "/" + strings.Trim(prefix, "/"), RawQuery: q.Encode()}
	if prefix == "" {
		u.Path = ""
	}
	return u.String()
}

// Env points the AWS SDK's default credential chain at this server's keys
// (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY) for the rest of the test; it
// also turns off the EC2 metadata lookup. Uses t.Setenv, so not for parallel
// tests.
func (s *S3) Env(t testing.TB) {
	t.Helper()
	t.Setenv("AWS_ACCESS_KEY_ID", s.AccessKey)
	t.Setenv("AWS_SECRET_ACCESS_KEY", s.SecretKey)
	t.Setenv("AWS_SESSION_TOKEN", "")
	t.Setenv("AWS_REGION", s.Region)
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	t.Setenv("AWS_PROFILE", "")
}

// LogTail returns the end of the server's log, for failure messages.
func (s *S3) LogTail() string { return logTail(s.logPath, 30) }

// Running tells whether the server process is up.
func (s *S3) Running() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.proc != nil && !s.proc.exited()
}
