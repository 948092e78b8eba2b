package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/etcd-dr/etcd-dr/engine/restore"
	"github.com/etcd-dr/etcd-dr/internal/fixture"
	"github.com/etcd-dr/etcd-dr/internal/testenv"
	"github.com/etcd-dr/etcd-dr/internal/testkit/restoretest"
)

// fleetRoots builds one store root that holds three clusters of three layouts, from the real fixtures — a seed
// bucket in miniature — on file://, on versitygw S3 and on fake-gcs-server GCS. It returns the root URLs and the file root's path.
func fleetRoots(t *testing.T) (map[string]string, string) {
	root := filepath.Join(t.TempDir(), "seed")
	for dst, src := range map[string]string{
		"shoot--a/etcd-main": "stores/etcdbr-v2",
		"shoot--a/etcd-evts": "stores/etcdbr-v1",
		"kops":               "stores/operator",
	} {
		copyTree(t, filepath.Join(testenv.Testdata(t), src), filepath.Join(root, dst))
	}
	urls := map[string]string{"file": "file://" + root}
	for _, backend := range testenv.ObjectStores {
		u := testenv.StartBucket(t, backend, "seed-backups").URL("seed")
		testenv.UploadDir(t, u, root, "")
		urls[backend] = u
	}
	return urls, root
}

func copyTree(t *testing.T, src, dst string) {
	t.Helper()
	require.NoError(t, filepath.Walk(src, func(p string, info os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		if info.IsDir() {
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), b, 0o644)
	}))
}

// treeState is every file below dir with its size: what a refused verb must leave as it was.
func treeState(t *testing.T, dir string) map[string]int64 {
	out := map[string]int64{}
	require.NoError(t, filepath.Walk(dir, func(p string, info os.FileInfo, err error) error {
		if err == nil && !info.IsDir() {
			out[p] = info.Size()
		}
		return err
	}))
	return out
}

var fleetClusters = []string{"kops/v1/etcd-cluster", "shoot--a/etcd-evts", "shoot--a/etcd-main"}

func TestFleetListGroupsByCluster(t *testing.T) {
	urls, _ := fleetRoots(t)
	for name, url := range urls {
		t.Run(name, func(t *testing.T) {
			out, errs, code := runCLI(t, "list", "--store", url, "-o", "json")
			require.Equal(t, 0, code, errs)
			var l struct {
				Clusters []struct {
					Cluster            string
					Layout             string
					Chains             int
					RestorableRevision int64
					Gaps               int
					LastBackup         time.Time
				}
				Chains []struct {
					Cluster string
					Layout  string
				}
			}
			require.NoError(t, json.Unmarshal([]byte(out), &l))
			var names []string
			for _, c := range l.Clusters {
				names = append(names, c.Cluster)
			}
			sort.Strings(names)
			require.Equal(t, fleetClusters, names)
			require.Equal(t, "shoot--a/etcd-main", l.Clusters[0].Cluster, "the cluster with a gap comes first")
			byCluster := map[string]string{}
			for _, ch := range l.Chains {
				byCluster[ch.Cluster] = ch.Layout
			}
			require.Equal(t, map[string]string{"kops/v1/etcd-cluster": "operator", "shoot--a/etcd-evts": "etcdbr-v1", "shoot--a/etcd-main": "etcdbr-v2"}, byCluster)
			for _, c := range l.Clusters {
				require.NotZero(t, c.Chains, c.Cluster)
				require.False(t, c.LastBackup.IsZero(), c.Cluster)
			}

			text, _, code := runCLI(t, "list", "--store", url)
			require.Equal(t, 0, code)
			require.Contains(t, text, "3 clusters")
			require.Contains(t, text, "Cluster shoot--a/etcd-evts:")
		})
	}
}

func TestFleetRefusesAmbiguousJobs(t *testing.T) {
	urls, root := fleetRoots(t)
	before := treeState(t, root)
	target := filepath.Join(t.TempDir(), "restored")
	for _, args := range [][]string{
		{"pick"},
		{"download", "--to", filepath.Join(t.TempDir(), "dl")},
		{"restore", "--data-dir", target},
		{"initialize", "--data-dir", target},
		{"gc", "--gc-policy", "limit", "--max-backups", "1"},
		{"validate", "--data-dir", target},
	} {
		for name, url := range urls {
			t.Run(args[0]+"/"+name, func(t *testing.T) {
				_, errs, code := runCLI(t, append(args, "--store", url)...)
				require.Equal(t, 2, code, errs)
				for _, c := range fleetClusters {
					require.Contains(t, errs, c)
				}
				require.Contains(t, errs, "--cluster")
				require.NoDirExists(t, target)
			})
		}
	}
	require.Equal(t, before, treeState(t, root), "a refused job changes nothing")
}

func TestFleetClusterFlagEqualsNarrowStore(t *testing.T) {
	urls, root := fleetRoots(t)
	for name, url := range urls {
		t.Run(name, func(t *testing.T) {
			byFlag, errs, code := runCLI(t, "pick", "--store", url, "--cluster", "shoot--a/etcd-evts", "-o", "json")
			require.Equal(t, 0, code, errs)
			narrow := "file://" + filepath.Join(root, "shoot--a/etcd-evts")
			if name != "file" {
				base, query, _ := strings.Cut(url, "?") // s3:// carries endpoint and region after the path
				narrow = base + "/shoot--a/etcd-evts"
				if query != "" {
					narrow += "?" + query
				}
			}
			byStore, errs, code := runCLI(t, "pick", "--store", narrow, "-o", "json")
			require.Equal(t, 0, code, errs)
			var a, b struct {
				Revision int64
				Objects  []string
			}
			require.NoError(t, json.Unmarshal([]byte(byFlag), &a))
			require.NoError(t, json.Unmarshal([]byte(byStore), &b))
			require.Equal(t, int64(195), a.Revision)
			require.Equal(t, b, a)

			// The gap rule holds inside the chosen cluster; the restore point of one cluster is never another's.
			_, errs, code = runCLI(t, "pick", "--store", url, "--cluster", "shoot--a/etcd-main")
			require.Equal(t, 3, code, errs)
			require.Contains(t, errs, "--revision 103")
		})
	}
}

func TestFleetBadClusterAndMaxAge(t *testing.T) {
	urls, _ := fleetRoots(t)
	url := urls["file"]
	_, errs, code := runCLI(t, "pick", "--store", url, "--cluster", "shoot--a/etcd-mian")
	require.Equal(t, 2, code, errs)
	require.Contains(t, errs, "--cluster")
	first := strings.Index(errs, "shoot--a/etcd-main")
	require.True(t, first >= 0 && first < strings.Index(errs, "kops/v1/etcd-cluster"), "nearest first: %s", errs)
	for _, bad := range []string{"../x", "/abs", "a/../../b"} {
		_, errs, code = runCLI(t, "list", "--store", url, "--cluster", bad)
		require.Equal(t, 2, code, "%s: %s", bad, errs)
	}
	_, errs, code = runCLI(t, "list", "--store", url, "--max-age", "soon")
	require.Equal(t, 2, code, errs)

	// The etcd-backup-restore fixtures were named long ago: older than an hour, not older than a century. The
	// operator's names carry no time, so their objects' modification time (the copy, just now) dates them.
	out, errs, code := runCLI(t, "list", "--store", url, "--max-age", "1h")
	require.Equal(t, 3, code, errs)
	require.Contains(t, out, "OLDER THAN 1h0m0s")
	require.Contains(t, errs, "2 clusters' newest backups are older than 1h0m0s")
	require.NotContains(t, errs, "kops")
	_, errs, code = runCLI(t, "list", "--store", url, "--max-age", "876000h")
	require.Equal(t, 0, code, errs)

	// A store with no cluster at all: list says so (exit 0), pick finds nothing (exit 4).
	empty := "file://" + t.TempDir()
	out, _, code = runCLI(t, "list", "--store", empty)
	require.Equal(t, 0, code)
	require.Contains(t, out, "0 chains")
	_, _, code = runCLI(t, "pick", "--store", empty)
	require.Equal(t, 4, code)
}

func TestFleetHeartbeatsBelongToTheirCluster(t *testing.T) {
	urls, root := fleetRoots(t)
	// One daemon's heartbeat in one cluster's members/ folder, put beside that cluster's objects in each store.
	beat := t.TempDir()
	dir := filepath.Join(beat, "shoot--a/etcd-main/members")
	require.NoError(t, os.MkdirAll(dir, 0o755))
	hb := `{"name":"etcd-main-0","role":"Leader","time":"` + time.Now().UTC().Format(time.RFC3339) + `","periodSeconds":30}`
	require.NoError(t, os.WriteFile(filepath.Join(dir, "etcd-main-0.json"), []byte(hb), 0o644))
	copyTree(t, beat, root)
	for name, url := range urls {
		t.Run(name, func(t *testing.T) {
			if name != "file" {
				testenv.UploadDir(t, url, beat, "")
			}
			out, errs, code := runCLI(t, "list", "--store", url, "-o", "json")
			require.Equal(t, 0, code, errs)
			var l struct {
				Clusters []struct{ Cluster, Leader string }
				Members  []struct{ Name, Cluster string }
			}
			require.NoError(t, json.Unmarshal([]byte(out), &l))
			require.Len(t, l.Members, 1)
			require.Equal(t, "shoot--a/etcd-main", l.Members[0].Cluster)
			for _, c := range l.Clusters {
				if c.Cluster == "shoot--a/etcd-main" {
					require.Equal(t, "etcd-main-0", c.Leader)
				} else {
					require.Empty(t, c.Leader, c.Cluster)
				}
			}
		})
	}
}

func TestFleetWritersRefuseAnotherClustersFolder(t *testing.T) {
	_, cli := testenv.StartEmbedded(t)
	ep := cli.Endpoints()[0]
	urls, root := fleetRoots(t)
	before := treeState(t, root)
	_, errs, code := runCLI(t, "snapshot", "--endpoints", ep, "--store", urls["file"])
	require.Equal(t, 2, code, errs)
	require.Contains(t, errs, "--cluster")
	// One cluster in a folder below the store: writing at the root would start a second cluster beside it.
	_, errs, code = runCLI(t, "snapshot", "--endpoints", ep, "--store", "file://"+filepath.Join(root, "kops"))
	require.Equal(t, 2, code, errs)
	require.Contains(t, errs, "--cluster v1/etcd-cluster")
	// The daemon is a writer too: refused before it starts anything.
	_, errs, code = runCLI(t, "--daemon", "--endpoints", ep, "--store", urls["file"], "--listen", "")
	require.Equal(t, 2, code, errs)
	require.Contains(t, errs, "--cluster")
	require.Equal(t, before, treeState(t, root), "a refused writer writes nothing")
	// Chosen: the snapshot lands in that cluster's chain.
	out, errs, code := runCLI(t, "snapshot", "--endpoints", ep, "--store", urls["file"], "--cluster", "shoot--a/etcd-evts", "-o", "json")
	require.Equal(t, 0, code, errs)
	require.Contains(t, out, `"key": "v2/Full-`)
	entries, err := os.ReadDir(filepath.Join(root, "shoot--a/etcd-evts/v2"))
	require.NoError(t, err)
	require.Len(t, entries, 1)
}

func TestFleetValidateReportsPerCluster(t *testing.T) {
	urls, _ := fleetRoots(t)
	for name, url := range urls {
		t.Run(name, func(t *testing.T) {
			out, errs, code := runCLI(t, "validate", "--store", url, "-o", "json")
			require.Equal(t, 3, code, errs) // etcd-main's chain has a gap
			var rep struct {
				OK       bool
				Clusters []struct {
					Cluster  string
					OK       bool
					Chains   int
					Objects  int
					Problems int
				}
			}
			require.NoError(t, json.Unmarshal([]byte(out), &rep))
			require.False(t, rep.OK)
			require.Len(t, rep.Clusters, 3)
			for _, c := range rep.Clusters {
				require.NotZero(t, c.Objects, c.Cluster)
				require.Equal(t, c.Cluster != "shoot--a/etcd-main", c.OK, "only etcd-main has problems: %+v", c)
			}
			text, _, _ := runCLI(t, "validate", "--store", url)
			require.Contains(t, text, "cluster kops/v1/etcd-cluster: 3 chains, 3 objects checked: ok")
			_, errs, code = runCLI(t, "validate", "--store", url, "--trial-restore")
			require.Equal(t, 2, code, errs)
			require.Contains(t, errs, "--cluster")
		})
	}
}

// A restore with --cluster and one from a --store narrowed to that cluster restore the same data, judged by a
// real etcd against the state the fixture recorded at that revision.
func TestFleetRestoreByClusterIsTheCluster(t *testing.T) {
	urls, root := fleetRoots(t)
	etcd := testenv.Binary(t, "etcd")
	want := restoretest.State(t, fixture.StoreBRv1, 195)
	for name, url := range map[string]string{"cluster-flag-file": urls["file"], "cluster-flag-s3": urls["s3"], "narrow-store": "file://" + filepath.Join(root, "shoot--a/etcd-evts")} {
		t.Run(name, func(t *testing.T) {
			dataDir := filepath.Join(t.TempDir(), "etcd")
			args := []string{"restore", "--store", url, "--data-dir", dataDir, "-o", "json"}
			if name != "narrow-store" {
				args = append(args, "--cluster", "shoot--a/etcd-evts")
			}
			out, errs, code := runCLI(t, args...)
			require.Equal(t, 0, code, errs)
			require.Contains(t, out, `"revision": 195`)
			restoretest.Judge(t, etcd, dataDir, restore.DefaultName, 195, want)
		})
	}
}
