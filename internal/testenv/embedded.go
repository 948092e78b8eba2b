package testenv

import (
	"fmt"
	"net/url"
	"path/filepath"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.etcd.io/etcd/server/v3/embed"
	"go.uber.org/zap"
)

// StartEmbedded starts a one-member etcd in this process (the etcd version of
// go.mod) on 127.0.0.1 free ports, with its data in a t.TempDir(), fsync off
// and error-level logs to a file (shown if the test fails), and returns it
// with a client. Both are closed at cleanup.
func StartEmbedded(t testing.TB) (*embed.Etcd, *clientv3.Client) {
	t.Helper()
	var lastErr error
	for attempt := 0; attempt < 3; attempt++ {
		e, err := startEmbedded(t)
		if err != nil {
			lastErr = err
			continue // most likely a port taken between FreePort and bind
		}
		t.Cleanup(e.Close)
		cli := newClient(t, []string{e.Config().AdvertiseClientUrls[0].String()})
		return e, cli
	}
	t.Fatalf("start embedded etcd: %v", lastErr)
	return nil, nil
}

func startEmbedded(t testing.TB) (*embed.Etcd, error) {
	cfg := embed.NewConfig()
	cfg.Name = "embedded"
	dir := t.TempDir()
	cfg.Dir = filepath.Join(dir, "embedded.etcd")
	// Logs go to a file (shown if the test fails): etcd logs errors even on
	// a normal Close.
	logPath := filepath.Join(dir, "embedded.log")
	cfg.LogOutputs = []string{logPath}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("log of embedded etcd (%s):\n%s", logPath, logTail(logPath, 20))
		}
	})
	curl := url.URL{Scheme: "http", Host: fmt.Sprintf("127.0.0.1:%d", FreePort(t))}
	purl := url.URL{Scheme: "http", Host: fmt.Sprintf("127.0.0.1:%d", FreePort(t))}
	cfg.ListenClientUrls, cfg.AdvertiseClientUrls = []url.URL{curl}, []url.URL{curl}
	cfg.ListenPeerUrls, cfg.AdvertisePeerUrls = []url.URL{purl}, []url.URL{purl}
	cfg.InitialCluster = cfg.InitialClusterFromName(cfg.Name)
	cfg.InitialClusterToken = "etcd-dr-embedded"
	cfg.LogLevel = "error"
	cfg.UnsafeNoFsync = true
	e, err := embed.StartEtcd(cfg)
	if err != nil {
		return nil, err
	}
	select {
	case <-e.Server.ReadyNotify():
		return e, nil
	case err := <-e.Err():
		e.Close()
		return nil, err
	case <-time.After(60 * time.Second):
		e.Close()
		return nil, fmt.Errorf("embedded etcd not ready after 60s")
	}
}

// newClient returns a quiet client for endpoints, closed at cleanup.
func newClient(t testing.TB, endpoints []string) *clientv3.Client {
	t.Helper()
	cli, err := clientv3.New(clientv3.Config{
		Endpoints:   endpoints,
		DialTimeout: 5 * time.Second,
		Logger:      quietLogger,
	})
	if err != nil {
		t.Fatalf("etcd client for %v: %v", endpoints, err)
	}
	t.Cleanup(func() { _ = cli.Close() })
	return cli
}

var quietLogger = zap.NewNop()
