package testenv

import (
	"bytes"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// GCS is a fake-gcs-server (GCS emulator, built by make tools) on 127.0.0.1.
type GCS struct {
	Host string // 127.0.0.1:PORT, what STORAGE_EMULATOR_HOST takes

	mu           sync.Mutex
	proc         *proc
	bin, logPath string
	args         []string
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
	g := &GCS{bin: bin, logPath: logPath}
	g.proc, g.Host = startHTTPServer(t, "fake-gcs-server", bin, logPath, "/storage/v1/b", func(port int, host string) []string {
		g.args = []string{"-scheme", "http", "-host", "127.0.0.1", "-port", fmt.Sprint(port),
			"-backend", "filesystem", "-filesystem-root", root, "-public-host", host, "-log-level", "warn"}
		return g.args
	})
	t.Cleanup(func() { g.Stop() }) // a server restarted by Start
	return g
}

// Stop kills the emulator (SIGKILL, like a crash or an outage). The data stays; Start brings the same server
// back on the same port.
func (g *GCS) Stop() {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.proc.stop(os.Kill, 0)
}

// Start (re)starts the emulator on the same address and folder after Stop, and returns once it answers; it is
// a no-op if it runs.
func (g *GCS) Start() error {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.proc != nil && !g.proc.exited() {
		return nil
	}
	p, err := startProc(g.bin, g.args, nil, g.logPath)
	if err != nil {
		return fmt.Errorf("restart fake-gcs-server on %s: %w", g.Host, err)
	}
	g.proc = p
	if err := waitHTTP(p, "http://"+g.Host+"/storage/v1/b", 30*time.Second); err != nil {
		p.stop(os.Kill, 0)
		return fmt.Errorf("fake-gcs-server on %s not answering after restart: %w\n%s", g.Host, err, logTail(g.logPath, 20))
	}
	return nil
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
