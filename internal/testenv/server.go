package testenv

import (
	"fmt"
	"net/http"
	"os"
	"testing"
	"time"
)

// startHTTPServer starts bin on a free loopback port (args gets the port and host:port), waits until
// http://host:port+probe answers (any HTTP status), retries on a port taken meanwhile, shows the log tail when the
// test fails and stops the server at cleanup. It returns the process and its host:port.
func startHTTPServer(t testing.TB, name, bin, logPath, probe string, args func(port int, host string) []string) (*proc, string) {
	t.Helper()
	var lastErr error
	for attempt := 0; attempt < 3; attempt++ {
		port := FreePort(t)
		host := fmt.Sprintf("127.0.0.1:%d", port)
		p, err := startProc(bin, args(port, host), nil, logPath)
		if err != nil {
			t.Fatalf("start %s: %v", name, err)
		}
		t.Cleanup(func() {
			if t.Failed() {
				t.Logf("log of %s (%s):\n%s", name, logPath, logTail(logPath, 30))
			}
			p.stop(os.Kill, 0)
		})
		if lastErr = waitHTTP(p, "http://"+host+probe, 30*time.Second); lastErr == nil {
			return p, host
		}
		p.stop(os.Kill, 0)
		if !isBindClash(logTail(logPath, 20)) {
			break
		}
	}
	t.Fatalf("%s did not start: %v\n%s", name, lastErr, logTail(logPath, 20))
	return nil, ""
}

// waitHTTP waits until url gives any HTTP answer, the process exits or timeout passes.
func waitHTTP(p *proc, url string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		resp, err := http.Get(url)
		if err == nil {
			resp.Body.Close()
			return nil
		}
		if p.exited() || time.Now().After(deadline) {
			return err
		}
		time.Sleep(50 * time.Millisecond)
	}
}
