package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/etcd-dr/etcd-dr/engine"
	"github.com/etcd-dr/etcd-dr/engine/catalog"
	"github.com/etcd-dr/etcd-dr/engine/restore"
	"github.com/etcd-dr/etcd-dr/internal/fixture"
	"github.com/etcd-dr/etcd-dr/internal/testenv"
	"github.com/etcd-dr/etcd-dr/internal/testkit/restoretest"
)

// brStore is one bucket as both tools name it: etcd-dr's store URL, and etcdbrctl's flags and environment for
// the same place (etcd-backup-restore appends "v2" to --store-prefix itself).
type brStore struct {
	name  string
	url   string
	flags []string
	env   []string
}

// brStores gives a directory store (etcdbrctl's Local provider lives under $HOME), an S3 bucket on versitygw
// (etcdbrctl reads its endpoint and keys from a JSON file, as on a Gardener shoot) and a GCS bucket on
// fake-gcs-server.
//
// GCS: etcdbrctl v0.40.0 runs in its emulator mode, configured as its own hack/config/gcp_config.sh does for
// fake-gcs-server: files "storageAPIEndpoint" and "emulatorEnabled" beside a GOOGLE_APPLICATION_CREDENTIALS key
// file that has a project and no key (pkg/snapstore/gcs_snapstore.go: NewGCSSnapStore, isEmulatorEnabled; the
// snapshotter reads the key file before every snapshot, GetGCSCredentialsLastModifiedTime). In that mode it names
// the components "<snapshot>.chunk/%010d"; with plain STORAGE_EMULATOR_HOST it would name them "<snapshot>/%010d"
// as on real GCS, and the compose into "<snapshot>" fails on the emulator's filesystem backend (a name cannot be
// a file and a folder: "Error running compose", the reason for ChunkDirSuffix). catalog's chunk tests cover that
// naming.
func brStores(t *testing.T, prefix string) []brStore {
	t.Helper()
	home := t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(home, "backups"), 0o755))
	s3 := testenv.StartS3(t)
	s3.Env(t)
	s3.CreateBucket(t, "backups")
	creds := filepath.Join(t.TempDir(), "s3.json")
	b, err := json.Marshal(map[string]any{"accessKeyID": s3.AccessKey, "secretAccessKey": s3.SecretKey, "region": s3.Region, "endpoint": s3.Endpoint, "s3ForcePathStyle": true})
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(creds, b, 0o600))
	gcs := testenv.StartGCS(t)
	gcs.Env(t)
	gcs.CreateBucket(t, "backups")
	gcp := t.TempDir()
	gcsKey := filepath.Join(gcp, "service-account.json")
	for name, body := range map[string]string{
		"service-account.json": `{"type":"service_account","project_id":"etcd-dr-test"}`,
		"storageAPIEndpoint":   "http://" + gcs.Host + "/storage/v1/",
		"emulatorEnabled":      "true",
	} {
		require.NoError(t, os.WriteFile(filepath.Join(gcp, name), []byte(body), 0o600))
	}
	return []brStore{
		{
			name:  "file",
			url:   "file://" + filepath.Join(home, "backups", prefix),
			flags: []string{"--storage-provider", "Local", "--store-container", "backups", "--store-prefix", prefix},
			env:   []string{"HOME=" + home},
		},
		{
			name:  "s3",
			url:   s3.URL("backups", prefix),
			flags: []string{"--storage-provider", "S3", "--store-container", "backups", "--store-prefix", prefix},
			// etcdbrctl hands the SDK a plain http.Client, which cannot take a CA bundle: a host-wide
			// AWS_CA_BUNDLE (set on some machines) would make it refuse to start.
			env: []string{"AWS_APPLICATION_CREDENTIALS_JSON=" + creds, "AWS_CA_BUNDLE="},
		},
		{
			name:  "gs",
			url:   gcs.URL("backups", prefix),
			flags: []string{"--storage-provider", "GCS", "--store-container", "backups", "--store-prefix", prefix},
			env:   []string{"GOOGLE_APPLICATION_CREDENTIALS=" + gcsKey},
		},
	}
}

func revisionOf(t *testing.T, cli *clientv3.Client) int64 {
	t.Helper()
	rev, err := fixture.Revision(t.Context(), cli)
	require.NoError(t, err)
	return rev
}

// etcd-dr writes the etcd-backup-restore v2 naming so that etcdbrctl restores from etcd-dr's bucket: a full
// snapshot (gzip) and a delta written by etcd-dr, restored by etcdbrctl v0.40 from a directory store, from S3 and
// from GCS, then served by a real etcd 3.5 with every key, value, revision and version of the source.
func TestEtcdbrctlRestoresWhatEtcdDRWrote(t *testing.T) {
	etcd35 := testenv.Binary(t, "etcd-3.5")
	testenv.Binary(t, "etcdbrctl") // skip (or fail in CI) before starting anything
	c := testenv.StartCluster(t, etcd35, 1)
	cli := c.Client(t)
	ep := c.Endpoints()[0]
	ctx := t.Context()
	stores := brStores(t, "etcd-main")

	require.NoError(t, fixture.Workload(ctx, cli, "/before-full", 30))
	fullRev := revisionOf(t, cli)
	for _, s := range stores {
		_, errOut, code := runCLI(t, "snapshot", "--endpoints", ep, "--store", s.url, "--full")
		require.Equal(t, exitOK, code, "%s: %s", s.name, errOut)
	}
	require.NoError(t, fixture.Workload(ctx, cli, "/after-full", 30))
	for _, s := range stores {
		_, errOut, code := runCLI(t, "snapshot", "--endpoints", ep, "--store", s.url, "--delta")
		require.Equal(t, exitOK, code, "%s: %s", s.name, errOut)
	}
	rev := revisionOf(t, cli)
	want, err := fixture.State(ctx, cli, rev)
	require.NoError(t, err)
	// etcdbrctl replays deltas without their leases; etcd-dr's own restore keeps them (tested against the source).
	want = restoretest.WithoutDeltaLeases(want, fullRev)

	for _, s := range stores {
		t.Run(s.name, func(t *testing.T) {
			if s.name == "file" {
				// Nothing beside the objects that etcdbrctl's local store would take for one more snapshot.
				dir := strings.TrimPrefix(s.url, "file://")
				entries, err := os.ReadDir(filepath.Join(dir, "v2"))
				require.NoError(t, err)
				require.Len(t, entries, 2, "one full and one delta object, no sidecar files: %v", entries)
			}
			work := t.TempDir()
			dataDir := filepath.Join(work, "etcd")
			testenv.Etcdbrctl(t, s.env, append([]string{"restore", "--data-dir", dataDir,
				"--snapstore-temp-directory", filepath.Join(work, "snapstore-tmp"),
				"--restoration-temp-snapshots-dir", filepath.Join(work, "restoration-tmp"),
				"--embedded-etcd-quota-bytes", fmt.Sprint(256 << 20)}, s.flags...)...)
			restoretest.Judge(t, etcd35, dataDir, "default", rev, want)
		})
	}
}

// etcdbrctl's own snapshotter, run against a real etcd, writes a full snapshot and deltas; etcd-dr lists them as
// one etcd-backup-restore chain without problems, picks the newest revision and restores a data dir that a real
// etcd 3.5 serves exactly as the source was — from a directory store (gzip), from S3 and from GCS (uncompressed;
// on GCS each snapshot is etcdbrctl's composite of component objects, which it leaves beside it).
func TestEtcdDRRestoresWhatEtcdbrctlWrote(t *testing.T) {
	etcd35 := testenv.Binary(t, "etcd-3.5")
	testenv.Binary(t, "etcdbrctl") // skip (or fail in CI) before starting anything
	c := testenv.StartCluster(t, etcd35, 1)
	cli := c.Client(t)
	ep := c.Endpoints()[0]
	ctx := t.Context()
	require.NoError(t, fixture.Workload(ctx, cli, "/before-full", 30))

	for i, s := range brStores(t, "etcd-main") {
		t.Run(s.name, func(t *testing.T) {
			args := append([]string{"snapshot", "--endpoints", ep,
				"--schedule", "0 0 1 1 *", // one full snapshot at start, the rest deltas
				"--delta-snapshot-period", "1s",
				"--garbage-collection-period", "0",
				"--defragmentation-schedule", "0 0 1 1 *",
				"--snapstore-temp-directory", t.TempDir()}, s.flags...)
			if i == 0 {
				args = append(args, "--compress-snapshots", "--compression-policy", "gzip")
			}
			p := testenv.StartTool(t, "etcdbrctl", s.env, args...)

			// Wait for its full snapshot, write more, and wait until its deltas hold the newest revision.
			waitChain := func(rev int64) catalog.Chain {
				var ch catalog.Chain
				stored := assert.Eventually(t, func() bool {
					repo, err := engine.Open(ctx, s.url, engine.Options{})
					if err != nil {
						return false
					}
					cat := repo.Catalog()
					repo.Close()
					if len(cat.Chains) != 1 {
						return false
					}
					ch = cat.Chains[0]
					return ch.EndRevision >= rev
				}, 90*time.Second, 250*time.Millisecond, "etcdbrctl never stored revision %d", rev)
				if !stored {
					t.FailNow() // StartTool's cleanup shows etcdbrctl's log
				}
				return ch
			}
			waitChain(revisionOf(t, cli))
			require.NoError(t, fixture.Workload(ctx, cli, fmt.Sprintf("/after-full-%d", i), 30))
			rev := revisionOf(t, cli)
			ch := waitChain(rev)
			p.Stop(30 * time.Second)
			require.NotEmpty(t, ch.Deltas, "etcdbrctl wrote deltas")
			want, err := fixture.State(ctx, cli, rev)
			require.NoError(t, err)

			out, errOut, code := runCLI(t, "list", "--store", s.url, "-o", "json")
			require.Equal(t, exitOK, code, errOut)
			var cat catalog.Catalog
			require.NoError(t, json.Unmarshal([]byte(out), &cat))
			require.Empty(t, cat.Problems, "etcdbrctl's bucket holds only objects etcd-dr understands")
			require.Len(t, cat.Chains, 1)
			require.Equal(t, catalog.EtcdBRv2, cat.Chains[0].Layout)
			require.Empty(t, cat.Chains[0].Gaps)
			if s.name == "gs" {
				// etcdbrctl composes each snapshot from components and leaves them for its GC: a note, not a problem.
				require.Contains(t, strings.Join(cat.Chains[0].Notes, "\n"), "leftover chunks of "+path.Base(cat.Chains[0].Base.Key), "notes: %v", cat.Chains[0].Notes)
			}
			if i == 0 {
				require.Equal(t, "gzip", cat.Chains[0].Base.Compression, "etcdbrctl --compression-policy gzip")
			}

			dataDir := filepath.Join(t.TempDir(), "etcd")
			out, errOut, code = runCLI(t, "restore", "--store", s.url, "--data-dir", dataDir, "--revision", fmt.Sprint(rev), "-o", "json")
			require.Equal(t, exitOK, code, "stdout: %s\nstderr: %s", out, errOut)
			var res restore.Result
			require.NoError(t, json.Unmarshal([]byte(out), &res))
			require.Equal(t, rev, res.Revision)
			restoretest.Judge(t, etcd35, dataDir, restore.DefaultName, rev, want)
		})
	}
}
