package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// The exporter serves each cluster's health of a real store root over HTTP, behind its token, from one listing
// per refresh; a cluster that gets a new backup shows it at the next refresh.
func TestExporterMetricsPerCluster(t *testing.T) {
	urls, _ := fleetRoots(t)
	for name, url := range urls {
		t.Run(name, func(t *testing.T) {
			var errb bytes.Buffer
			g := &globalOptions{store: url, output: "text", logLevel: "warn", stdout: io.Discard, stderr: &errb}
			require.NoError(t, g.complete())
			ctx, cancel := context.WithCancel(context.Background())
			addrc := make(chan string, 1)
			done := make(chan error, 1)
			go func() {
				done <- runExporter(ctx, g, exporterOptions{listen: "127.0.0.1:0", refresh: time.Hour, token: "s3cret", ready: func(a string) { addrc <- a }})
			}()
			t.Cleanup(func() { cancel(); require.NoError(t, <-done) })
			var addr string
			select {
			case addr = <-addrc:
			case err := <-done:
				t.Fatalf("exporter stopped: %v\n%s", err, errb.String())
			case <-time.After(20 * time.Second):
				t.Fatal("exporter did not start")
			}
			get := func(token string) (int, string) {
				req, _ := http.NewRequest("GET", "http://"+addr+"/metrics", nil)
				if token != "" {
					req.Header.Set("Authorization", "bearer "+token)
				}
				resp, err := http.DefaultClient.Do(req)
				require.NoError(t, err)
				defer resp.Body.Close()
				b, _ := io.ReadAll(resp.Body)
				return resp.StatusCode, string(b)
			}
			code, _ := get("")
			require.Equal(t, http.StatusUnauthorized, code)
			var body string
			require.Eventually(t, func() bool {
				code, body = get("s3cret")
				return code == 200 && bytes.Contains([]byte(body), []byte("\netcddr_store_up 1\n"))
			}, 20*time.Second, 100*time.Millisecond, body)
			for _, want := range []string{
				`etcddr_cluster_gaps{cluster="shoot--a/etcd-main"} 1`,
				`etcddr_cluster_gaps{cluster="shoot--a/etcd-evts"} 0`,
				`etcddr_cluster_restorable_revision{cluster="shoot--a/etcd-evts"} 195`,
				`etcddr_cluster_restorable_revision{cluster="kops/v1/etcd-cluster"} 223`,
				`etcddr_cluster_chains{cluster="kops/v1/etcd-cluster"} 3`,
				`etcddr_cluster_backup_members{cluster="shoot--a/etcd-main",role="Leader"} 0`,
			} {
				require.Contains(t, body, want)
			}
			require.Contains(t, body, `etcddr_cluster_last_backup_timestamp_seconds{cluster="shoot--a/etcd-evts"} 1.7639009e+09`)
		})
	}
}
