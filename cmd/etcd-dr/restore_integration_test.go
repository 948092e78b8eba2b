package main

import (
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/etcd-dr/etcd-dr/engine/restore"
	"github.com/etcd-dr/etcd-dr/engine/validate"
	"github.com/etcd-dr/etcd-dr/internal/fixture"
	"github.com/etcd-dr/etcd-dr/internal/testenv"
	"github.com/etcd-dr/etcd-dr/internal/testkit/restoretest"
)

// requireNothingBeside fails if anything but the names in keep sits in dir (no data dir, no staging leftovers).
func requireNothingBeside(t *testing.T, dir string, keep ...string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	require.ElementsMatch(t, keep, names, "entries of %s", dir)
}

// flipBit flips one bit in the middle of a file.
func flipBit(t *testing.T, path string) {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	b[len(b)/2] ^= 0x10
	require.NoError(t, os.WriteFile(path, b, 0o644))
}

// withTrailer returns body followed by its sha256, as etcd-backup-restore writes a delta.
func withTrailer(body []byte) []byte {
	sum := sha256.Sum256(body)
	return append(append([]byte{}, body...), sum[:]...)
}

// Bad input is refused or reported with the contract's exit code, and never leaves a --data-dir behind.
func TestRestoreBadInput(t *testing.T) {
	type damage func(t *testing.T, store string)
	cases := []struct {
		name   string
		store  string
		damage damage
		args   []string
		code   int
		stderr string
	}{
		{name: "truncated gzip full snapshot", store: fixture.StoreBRv2, args: []string{"--revision", "72"}, code: 3, stderr: "Full-00000000-00000022-1763900060.gz is corrupt",
			damage: func(t *testing.T, s string) {
				p := filepath.Join(s, "v2", "Full-00000000-00000022-1763900060.gz")
				fi, err := os.Stat(p)
				require.NoError(t, err)
				require.NoError(t, os.Truncate(p, fi.Size()/2))
			}},
		{name: "truncated gzip delta", store: fixture.StoreBRv2, args: []string{"--revision", "72"}, code: 3, stderr: "Incr-00000023-00000032-1763900120.gz is corrupt",
			damage: func(t *testing.T, s string) {
				p := filepath.Join(s, "v2", "Incr-00000023-00000032-1763900120.gz")
				fi, err := os.Stat(p)
				require.NoError(t, err)
				require.NoError(t, os.Truncate(p, fi.Size()-20))
			}},
		{name: "one flipped bit in a full snapshot", store: fixture.StoreBRv2, args: []string{"--revision", "103"}, code: 3, stderr: "failed its checksum",
			damage: func(t *testing.T, s string) { flipBit(t, filepath.Join(s, "v2", "Full-00000000-00000093-1763900420")) }},
		{name: "one flipped bit in a plain snapshot read in place", store: fixture.StoreOperator, args: []string{"--revision", "209"}, code: 3, stderr: "failed its checksum",
			damage: func(t *testing.T, s string) { flipBit(t, filepath.Join(s, "3.6.16_00000000000000d1_etcd.backup")) }},
		{name: "truncated plain snapshot read in place", store: fixture.StoreOperator, args: []string{"--revision", "209"}, code: 3, stderr: "not a whole etcd snapshot",
			damage: func(t *testing.T, s string) {
				p := filepath.Join(s, "3.6.16_00000000000000d1_etcd.backup")
				fi, err := os.Stat(p)
				require.NoError(t, err)
				require.NoError(t, os.Truncate(p, fi.Size()-100))
			}},
		{name: "delta whose checksum fails", store: fixture.StoreBRv2, args: []string{"--revision", "72"}, code: 3, stderr: "Incr-00000053-00000062-1763900300 (revisions 53-62) failed its checksum",
			damage: func(t *testing.T, s string) {
				p := filepath.Join(s, "v2", "Incr-00000053-00000062-1763900300")
				b, err := os.ReadFile(p)
				require.NoError(t, err)
				i := strings.Index(string(b), "dmFsdWU") // base64 of "value": still JSON, different content
				require.Greater(t, i, 0)
				b[i] = 'e'
				require.NoError(t, os.WriteFile(p, b, 0o644))
			}},
		{name: "delta that is not JSON", store: fixture.StoreBRv2, args: []string{"--revision", "72"}, code: 3, stderr: "not a JSON array of events",
			damage: func(t *testing.T, s string) {
				p := filepath.Join(s, "v2", "Incr-00000053-00000062-1763900300")
				require.NoError(t, os.WriteFile(p, withTrailer([]byte("this is not json")), 0o644))
			}},
		{name: "delta that inflates past what its events can be", store: fixture.StoreBRv2, args: []string{"--revision", "72"}, code: 3,
			stderr: "Incr-00000053-00000062-1763900300.gz: delta (revisions 53-62) refused before being read to its end",
			damage: func(t *testing.T, s string) {
				p := filepath.Join(s, "v2", "Incr-00000053-00000062-1763900300")
				require.NoError(t, os.Remove(p))
				restoretest.WriteBomb(t, p+".gz", 53, 64<<20)
			}},
		{name: "missing delta makes a gap", store: fixture.StoreBRv1, args: []string{"--revision", "164"}, code: 3, stderr: "--revision 144",
			damage: func(t *testing.T, s string) {
				require.NoError(t, os.Remove(filepath.Join(s, "v1", "Backup-1763900660", "Incr-00000145-00000154-1763900720.zlib")))
			}},
		{name: "full snapshot named past its revision", store: fixture.StoreBRv2, args: []string{"--revision", "72"}, code: 3, stderr: "its name lies",
			damage: func(t *testing.T, s string) {
				require.NoError(t, os.Rename(filepath.Join(s, "v2", "Full-00000000-00000022-1763900060.gz"), filepath.Join(s, "v2", "Full-00000000-00000025-1763900060.gz")))
			}},
		{name: "full snapshot named before its revision", store: fixture.StoreBRv2, args: []string{"--revision", "20"}, code: 3, stderr: "its name lies",
			damage: func(t *testing.T, s string) {
				require.NoError(t, os.Rename(filepath.Join(s, "v2", "Full-00000000-00000022-1763900060.gz"), filepath.Join(s, "v2", "Full-00000000-00000020-1763900060.gz")))
			}},
		{name: "newest chain has a gap", store: fixture.StoreBRv2, code: 3, stderr: "--revision 103"},
		{name: "revision inside a gap", store: fixture.StoreBRv2, args: []string{"--revision", "110"}, code: 3, stderr: "--revision 103"},
		{name: "revision below the full snapshot", store: fixture.StoreBRv2, args: []string{"--revision", "10"}, code: 4, stderr: "no backup in"},
		{name: "bump without mark-compacted", store: fixture.StoreOperator, args: []string{"--bump-revision", "1000"}, code: 2, stderr: "--mark-compacted"},
		{name: "name not in initial cluster", store: fixture.StoreOperator, args: []string{"--name", "m9", "--initial-cluster", "m0=http://127.0.0.1:2380"}, code: 2, stderr: "is not in the initial cluster"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			store := filepath.Join(restoretest.Root(t), tc.store)
			if tc.damage != nil {
				store = testenv.CopyStore(t, tc.store)
				tc.damage(t, store)
			}
			parent := t.TempDir()
			dataDir := filepath.Join(parent, "new", "folders", "etcd") // parents the failed restore must take back
			args := append([]string{"restore", "--store", "file://" + store, "--data-dir", dataDir}, tc.args...)
			out, errs, code := runCLI(t, args...)
			require.Equal(t, tc.code, code, "stdout: %s\nstderr: %s", out, errs)
			require.Contains(t, errs, tc.stderr)
			requireNothingBeside(t, parent)
		})
	}
}

// An occupied --data-dir is refused and left as it was; --move-aside renames it and restores.
func TestRestoreOccupiedTarget(t *testing.T) {
	parent := t.TempDir()
	dataDir := filepath.Join(parent, "etcd")
	require.NoError(t, os.MkdirAll(filepath.Join(dataDir, "member"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(dataDir, "member", "precious"), []byte("keep me"), 0o644))
	store := restoretest.StoreURL(t, fixture.StoreOperator)

	out, errs, code := runCLI(t, "restore", "--store", store, "--data-dir", dataDir)
	require.Equal(t, 2, code, "stdout: %s\nstderr: %s", out, errs)
	require.Contains(t, errs, "--move-aside")
	requireNothingBeside(t, parent, "etcd")
	b, err := os.ReadFile(filepath.Join(dataDir, "member", "precious"))
	require.NoError(t, err)
	require.Equal(t, "keep me", string(b))

	out, errs, code = runCLI(t, "restore", "--store", store, "--data-dir", dataDir, "--move-aside", "-o", "json")
	require.Equal(t, 0, code, "stdout: %s\nstderr: %s", out, errs)
	var res restore.Result
	require.NoError(t, json.Unmarshal([]byte(out), &res))
	require.Equal(t, int64(223), res.Revision)
	require.True(t, strings.HasPrefix(res.MovedAside, dataDir+".broken-"), res.MovedAside)
	b, err = os.ReadFile(filepath.Join(res.MovedAside, "member", "precious"))
	require.NoError(t, err)
	require.Equal(t, "keep me", string(b), "the moved-aside data dir keeps its files")
	requireNothingBeside(t, parent, "etcd", filepath.Base(res.MovedAside))
	restoretest.Judge(t, testenv.Binary(t, "etcd"), dataDir, restore.DefaultName, 223, restoretest.State(t, fixture.StoreOperator, 223))
}

// readOnlyDir returns a directory nobody can create entries in: a read-only tmpfs (root), or a mode 0555 folder.
func readOnlyDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	if os.Geteuid() != 0 {
		require.NoError(t, os.Chmod(dir, 0o555))
		t.Cleanup(func() { _ = os.Chmod(dir, 0o755) })
		return dir
	}
	if err := exec.Command("mount", "-t", "tmpfs", "-o", "ro,size=1m", "etcd-dr-ro", dir).Run(); err != nil {
		t.Skipf("running as root and cannot mount a read-only tmpfs: %v", err)
	}
	t.Cleanup(func() { _ = exec.Command("umount", dir).Run() })
	return dir
}

// A --data-dir on a read-only path is refused before anything is downloaded.
func TestRestoreReadOnlyTarget(t *testing.T) {
	ro := readOnlyDir(t)
	out, errs, code := runCLI(t, "restore", "--store", restoretest.StoreURL(t, fixture.StoreOperator), "--data-dir", filepath.Join(ro, "etcd"))
	require.Equal(t, 2, code, "stdout: %s\nstderr: %s", out, errs)
	require.Contains(t, errs, "writable")
	requireNothingBeside(t, ro)
}

// Restores straight from real object stores (versitygw S3, fake-gcs-server GCS): a chain with deltas in every
// compression, and a lone full snapshot (downloaded, since it is not a local file), each judged by the real etcd.
func TestRestoreFromObjectStores(t *testing.T) {
	stores := fixtureStores(t, true)
	type restoreCase struct {
		name, store, layout string
		revision            int64
	}
	var cases []restoreCase
	for _, scheme := range []string{"s3", "gs"} {
		cases = append(cases,
			restoreCase{name: scheme + "/etcdbr-v2 chain", store: fixture.StoreBRv2, layout: scheme + "/etcdbr-v2", revision: 72},
			restoreCase{name: scheme + "/etcdbr-v1 chain", store: fixture.StoreBRv1, layout: scheme + "/etcdbr-v1", revision: 195},
			restoreCase{name: scheme + "/operator snapshot", store: fixture.StoreOperator, layout: scheme + "/operator", revision: 223})
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dataDir := filepath.Join(t.TempDir(), "etcd")
			out, errs, code := runCLI(t, "restore", "--store", stores[tc.layout], "--data-dir", dataDir, "--revision", fmt.Sprint(tc.revision), "-o", "json")
			require.Equal(t, 0, code, "stdout: %s\nstderr: %s", out, errs)
			var res restore.Result
			require.NoError(t, json.Unmarshal([]byte(out), &res))
			require.Equal(t, tc.revision, res.Revision)
			restoretest.Judge(t, testenv.Binary(t, "etcd"), dataDir, restore.DefaultName, tc.revision, restoretest.State(t, tc.store, tc.revision))
		})
	}
}

// Multi-member flags as etcdutl: --name writes one member's data dir (run once per host); --all-members writes
// every member's from one replay.
func TestRestoreMemberFlags(t *testing.T) {
	store := restoretest.StoreURL(t, fixture.StoreBRv2)
	cluster := "m0=http://127.0.0.1:2380,m1=http://127.0.0.1:2381,m2=http://127.0.0.1:2382"

	one := filepath.Join(t.TempDir(), "m1.etcd")
	out, errs, code := runCLI(t, "restore", "--store", store, "--revision", "72", "--data-dir", one, "--name", "m1",
		"--initial-cluster", cluster, "--initial-advertise-peer-urls", "http://127.0.0.1:2381", "--initial-cluster-token", "tok")
	require.Equal(t, 0, code, "stdout: %s\nstderr: %s", out, errs)
	require.Contains(t, out, "m1: --name m1 --data-dir "+one)
	rep := validate.DataDir(one, validate.DataDirConfig{})
	require.True(t, rep.OK, "%+v", rep.Problems)
	require.Equal(t, []string{"m0", "m1", "m2"}, rep.Members)

	all := filepath.Join(t.TempDir(), "cluster")
	out, errs, code = runCLI(t, "restore", "--store", store, "--revision", "72", "--data-dir", all, "--all-members",
		"--initial-cluster", cluster, "--initial-cluster-token", "tok", "-o", "json")
	require.Equal(t, 0, code, "stdout: %s\nstderr: %s", out, errs)
	var res restore.Result
	require.NoError(t, json.Unmarshal([]byte(out), &res))
	require.Len(t, res.Members, 3)
	ids := map[string]string{}
	for _, m := range res.Members {
		require.Equal(t, filepath.Join(all, m.Name+".etcd"), m.DataDir)
		r := validate.DataDir(m.DataDir, validate.DataDirConfig{})
		require.True(t, r.OK, "%s: %+v", m.Name, r.Problems)
		require.Equal(t, int64(72), r.Revision)
		ids[m.Name] = r.MemberID
		require.Equal(t, rep.ClusterID, r.ClusterID, "same cluster id as the --name restore with the same flags")
	}
	require.Len(t, map[string]bool{ids["m0"]: true, ids["m1"]: true, ids["m2"]: true}, 3)
	require.Equal(t, rep.MemberID, ids["m1"])

	_, errs, code = runCLI(t, "restore", "--store", store, "--revision", "72", "--data-dir", filepath.Join(t.TempDir(), "x"), "--all-members", "--name", "m0", "--initial-cluster", cluster)
	require.Equal(t, 2, code)
	require.Contains(t, errs, "drop --name")
}

// The JSON fields the CLI contract promises for restore and validate are there, with the contract's types — for a
// store on a directory, on S3 and on GCS.
func TestRestoreAndValidateJSONContract(t *testing.T) {
	// Per store: the etcd-backup-restore v1 fixture (restored) and the v2 one (validated, with its gap).
	stores := map[string][2]string{"file": {restoretest.StoreURL(t, fixture.StoreBRv1), restoretest.StoreURL(t, fixture.StoreBRv2)}}
	for _, backend := range testenv.ObjectStores {
		b := testenv.StartBucket(t, backend, "contract")
		var urls [2]string
		for i, f := range stores["file"] {
			urls[i] = b.URL(path.Base(f))
			testenv.UploadDir(t, urls[i], strings.TrimPrefix(f, "file://"), "")
		}
		stores[backend] = urls
	}
	for name, urls := range stores {
		t.Run(name, func(t *testing.T) {
			dataDir := filepath.Join(t.TempDir(), "etcd")
			out, errs, code := runCLI(t, "restore", "--store", urls[0], "--data-dir", dataDir, "-o", "json")
			require.Equal(t, 0, code, errs)
			var m map[string]any
			require.NoError(t, json.Unmarshal([]byte(out), &m))
			for key, kind := range map[string]string{"dataDir": "string", "revision": "float64", "fullSnapshot": "string", "deltasApplied": "float64", "eventsApplied": "float64", "seconds": "float64"} {
				require.Contains(t, m, key)
				require.Equal(t, kind, fmt.Sprintf("%T", m[key]), key)
			}
			for _, args := range [][]string{
				{"validate", "--store", urls[1], "-o", "json"},
				{"validate", "--data-dir", dataDir, "-o", "json"},
			} {
				out, _, _ := runCLI(t, args...)
				var v struct {
					OK       *bool            `json:"ok"`
					Problems []map[string]any `json:"problems"`
				}
				require.NoError(t, json.Unmarshal([]byte(out), &v), out)
				require.NotNil(t, v.OK, out)
				require.NotNil(t, v.Problems, "problems is a list, never null: %s", out)
				for _, p := range v.Problems {
					require.Contains(t, p, "what")
					_, hasObject := p["object"]
					_, hasPath := p["path"]
					require.True(t, hasObject || hasPath, "%v", p)
				}
			}
		})
	}
}
