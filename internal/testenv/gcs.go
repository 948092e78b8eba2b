package testenv

import (
	"bytes"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// GCS is a fake-gcs-server (GCS emulator, built by make tools) on 127.0.0.1.
type GCS struct {
	Host string // 127.0.0.1:PORT, what STORAGE_EMULATOR_HOST takes
	proc *proc
}

// StartGCS starts fake-gcs-server on a free port with its filesystem backend in a t.TempDir(), and stops it at
// cleanup.
func StartGCS(t testing.TB) *GCS {
	t.Helper()
	bin := Binary(t, "fake-gcs-server")
	dir := t.TempDir()
	logPath := filepath.Join(dir, "fake-gcs-server.log")
	root := filepath.Join(dir, "data")
	if err := os.MkdirAll(root, 0o755); err != nil {
		t.Fatal(err)
	}
	g := &GCS{}
	g.proc, g.Host = startHTTPServer(t, "fake-gcs-server", bin, logPath, "/storage/v1/b", func(port int, host string) []string {
		return []string{"-scheme", "http", "-host", "127.0.0.1", "-port", fmt.Sprint(port),
			"-backend", "filesystem", "-filesystem-root", root, "-public-host", host, "-log-level", "warn"}
	})
	return g
}

// Env points the Google client (and so gocloud's gs:// opener) at the emulator for the rest of the test.
func (g *GCS) Env(t testing.TB) {
	t.Setenv("STORAGE_EMULATOR_HOST", g.Host)
	t.Setenv("GOOGLE_APPLICATION_CREDENTIALS", "")
}

// CreateBucket makes a bucket through the JSON API; the test fails if it cannot.
func (g *GCS) CreateBucket(t testing.TB, name string) {
	t.Helper()
	resp, err := http.Post("http://"+g.Host+"/storage/v1/b?project=test", "application/json", bytes.NewReader([]byte(`{"name":"`+name+`"}`)))
	if err != nil {
		t.Fatalf("create bucket %s on %s: %v", name, g.Host, err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("create bucket %s on %s: %s", name, g.Host, resp.Status)
	}
}

// URL is the store URL for bucket and prefix (the emulator is found through STORAGE_EMULATOR_HOST: see Env).
func (g *GCS) URL(bucket, prefix string) string {
	return "gs://" + bucket + "/" + strings.Trim(prefix, "/")
}
