package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/etcd-dr/etcd-dr/engine/restore"
	"github.com/etcd-dr/etcd-dr/internal/fixture"
	"github.com/etcd-dr/etcd-dr/internal/testenv"
	"github.com/etcd-dr/etcd-dr/internal/testkit/restoretest"
	"github.com/etcd-dr/etcd-dr/store"
)

// wildTree writes the other tools' store (real etcd snapshots in each tool's shape) from an etcd of the given
// minor: the embedded 3.6, or the 3.5 binary (make testdata makes both).
func wildTree(t *testing.T, minor string) *fixture.Wild {
	t.Helper()
	var w *fixture.Wild
	var err error
	if minor == "3.5" {
		w, err = fixture.WriteWildBinary(context.Background(), t.TempDir(), testenv.Binary(t, "etcd-3.5"))
	} else {
		w, err = fixture.WriteWild(context.Background(), t.TempDir())
	}
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(w.Version, minor+"."), w.Version)
	return w
}

// wildStores serves the tree on file://, on versitygw S3 and on fake-gcs-server GCS, uploaded as its tools
// upload: k3s's objects with the user metadata k3s sets, and the cron folder's snapshots one after the other in
// the order the cron job wrote them (their names carry no date: on an object store the upload time dates them).
// It returns the upload window of the oldest cron snapshot too (the same on both object stores: each object is
// put to both before the next).
func wildStores(t *testing.T, w *fixture.Wild) (map[string]string, [2]time.Time) {
	t.Helper()
	s3 := testenv.StartS3(t)
	s3.Env(t)
	s3.CreateBucket(t, "wild")
	gcs := testenv.StartGCS(t)
	gcs.Env(t)
	gcs.CreateBucket(t, "wild")
	urls := map[string]string{"file": "file://" + w.Dir, "s3": s3.URL("wild", "backups"), "gs": gcs.URL("wild", "backups")}
	ctx := context.Background()
	var stores []*store.Store
	for _, name := range []string{"s3", "gs"} {
		st, err := store.Open(ctx, urls[name])
		require.NoError(t, err, name)
		defer st.Close()
		stores = append(stores, st)
	}
	put := func(key string) {
		b, err := os.ReadFile(filepath.Join(w.Dir, filepath.FromSlash(key)))
		require.NoError(t, err)
		for _, st := range stores {
			wr, err := st.NewWriter(ctx, key, store.WriteOptions{Metadata: w.Metadata[key]})
			require.NoError(t, err)
			_, err = wr.Write(b)
			require.NoError(t, err)
			require.NoError(t, wr.Commit())
		}
	}
	var window [2]time.Time
	cron := []string{w.Plain, w.Gzip, w.Truncated} // oldest first
	require.NoError(t, filepath.Walk(w.Dir, func(p string, info os.FileInfo, err error) error {
		if err != nil || info.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(w.Dir, p)
		if key := filepath.ToSlash(rel); !slices.Contains(cron, key) {
			put(key)
		}
		return nil
	}))
	for i, key := range cron {
		if i > 0 {
			time.Sleep(1100 * time.Millisecond) // S3 times are whole seconds
		}
		if i == 0 {
			window[0] = time.Now().Add(-time.Second)
		}
		put(key)
		if i == 0 {
			window[1] = time.Now().Add(time.Second)
		}
	}
	return urls, window
}

// etcdctl snapshot save output, k3s, OpenShift, kops etcd-manager and talos-backup backups made by real etcd 3.6
// and 3.5 servers are listed as chains at the revision their db holds, picked with --revision by that revision,
// and restored into a data dir a real etcd serves at exactly that state — on file://, S3 and GCS.
func TestWildListPickRestore(t *testing.T) {
	for _, minor := range []string{"3.6", "3.5"} {
		t.Run("etcd-"+minor, func(t *testing.T) {
			w := wildTree(t, minor)
			urls, window := wildStores(t, w)
			for name, url := range urls {
				t.Run(name, func(t *testing.T) { checkWildStore(t, w, name, url, window) })
			}
		})
	}
}

func checkWildStore(t *testing.T, w *fixture.Wild, name, url string, window [2]time.Time) {
	out, errs, code := runCLI(t, "list", "--store", url, "-o", "json")
	require.Equal(t, 0, code, errs)
	for _, l := range []string{"snapshot", "k3s", "openshift", "etcd-manager", "talos"} {
		require.Contains(t, out, `"layout": "`+l+`"`)
	}
	require.Equal(t, 10, strings.Count(out, `"base": {`), out)
	require.Equal(t, 6+4, strings.Count(out, `"revisionOnDemand": true`), "compressed snapshots are not read to list: 6 chains, and the 4 clusters whose newest backup they are")
	for _, k := range w.Damaged {
		require.Contains(t, out, `"object": "`+k+`"`)
	}
	require.NotContains(t, out, `"object": "k3s/.metadata/`, "k3s metadata records are companions, not problems")
	require.NotContains(t, out, `"object": "openshift/static_kuberesources_`)
	require.NotContains(t, out, `/control/`, "etcd-manager control files are known, never problems")
	require.Contains(t, out, `"companions": [`)
	var listed struct {
		Clusters []struct {
			Cluster            string
			RestorableRevision int64
			RevisionOnDemand   bool
		}
		Chains []struct {
			Cluster string
			Base    struct {
				Key  string
				Time time.Time
			}
		}
	}
	require.NoError(t, json.Unmarshal([]byte(out), &listed))
	k3sCluster := fixture.WildK3sDir
	if name != "file" {
		// k3s's uploads carry its cluster id: the cluster is named by folder and id.
		k3sCluster += "@" + fixture.WildK3sClusterID
		require.Contains(t, out, `"clusterId": "`+fixture.WildK3sClusterID+`"`)
	}
	clusters := map[string]bool{}
	for _, ch := range listed.Chains {
		clusters[ch.Cluster] = true
		if ch.Base.Key == w.Plain && name != "file" {
			// No date in the name: an object store dates it by its upload time.
			require.True(t, ch.Base.Time.After(window[0]) && ch.Base.Time.Before(window[1]), "%s dated %s, uploaded in %v", w.Plain, ch.Base.Time, window)
		}
	}
	require.True(t, clusters[k3sCluster], "%v", clusters)
	for _, c := range listed.Clusters {
		if c.Cluster == fixture.WildTalosDir {
			require.True(t, c.RevisionOnDemand, "only encrypted snapshots: the revision is read on demand")
			require.Zero(t, c.RestorableRevision)
		}
	}

	text, errs, code := runCLI(t, "list", "--store", url)
	require.Equal(t, 0, code, errs)
	require.Contains(t, text, "k3s")
	require.Contains(t, text, "on demand")
	require.Contains(t, text, path.Base(w.K3s)+" (node server-0)", "list text shows the node")
	text, errs, code = runCLI(t, "list", "--store", url, "--cluster", fixture.WildTalosDir)
	require.Equal(t, 0, code, errs)
	require.Contains(t, text, "Newest restorable revision: on demand")
	for _, c := range []string{fixture.WildK3sDir, k3sCluster} {
		text, errs, code = runCLI(t, "pick", "--store", url, "--cluster", c, "--revision", fmt.Sprint(w.Revisions[w.K3s]))
		require.Equal(t, 0, code, "%s: %s", c, errs)
		require.Contains(t, text, ".metadata/"+path.Base(w.K3s)+"  (kept beside it by k3s)")
	}

	// The newest of the cron folder is gzipped and cut short: pick reads it, skips it with a warning
	// naming it, and takes the next one, reading its revision from the db.
	out, errs, code = runCLI(t, "pick", "--store", url, "--cluster", fixture.WildPlainDir, "--revision", fmt.Sprint(w.Revisions[w.Gzip]), "-o", "json")
	require.Equal(t, 0, code, errs)
	require.Contains(t, out, `"objects": [`+"\n"+`    "`+path.Base(w.Gzip)+`"`)
	out, errs, code = runCLI(t, "pick", "--store", url, "--cluster", fixture.WildPlainDir, "-o", "json")
	require.Equal(t, 0, code, errs)
	require.Contains(t, out, fmt.Sprintf(`"revision": %d`, w.Revisions[w.Gzip]), "newest by upload time on S3 and GCS, by file time on file://")
	require.Contains(t, out, "skipped "+path.Base(w.Truncated))
	out, errs, code = runCLI(t, "pick", "--store", url, "--cluster", fixture.WildKopsDir, "-o", "json")
	require.Equal(t, 0, code, errs)
	require.Contains(t, out, `"etcdVersion": "`+w.EtcdManagerVersion+`"`, "etcd-manager's version comes from its meta")

	// talos-backup's .age snapshots: refused without the identity, restored with it; the newest has zstd inside.
	_, errs, code = runCLI(t, "pick", "--store", url, "--cluster", fixture.WildTalosDir)
	require.Equal(t, 2, code, errs)
	require.Contains(t, errs, "--identity")
	keyFile := filepath.Join(t.TempDir(), "key.txt")
	require.NoError(t, os.WriteFile(keyFile, []byte(w.TalosIdentity+"\n"), 0o600))
	rev := w.Revisions[w.TalosZst]
	dataDir := filepath.Join(t.TempDir(), "etcd")
	out, errs, code = runCLI(t, "restore", "--store", url, "--cluster", fixture.WildTalosDir, "--identity", keyFile, "--data-dir", dataDir, "-o", "json")
	require.Equal(t, 0, code, "stdout %s\nstderr %s", out, errs)
	require.Contains(t, out, fmt.Sprintf(`"revision": %d`, rev))
	restoretest.Judge(t, testenv.Binary(t, "etcd"), dataDir, restore.DefaultName, rev, w.State[rev])
	to := filepath.Join(t.TempDir(), "talos.db")
	out, errs, code = runCLI(t, "download", "--store", url, "--cluster", fixture.WildTalosDir, "--identity", keyFile, "--to", to, "-o", "json")
	require.Equal(t, 0, code, "download of zstd inside age: %s %s", out, errs)
	require.FileExists(t, to)
	rev = w.Revisions[w.Talos]
	dataDir = filepath.Join(t.TempDir(), "etcd")
	out, errs, code = runCLI(t, "restore", "--store", url, "--cluster", fixture.WildTalosDir, "--identity", keyFile, "--revision", fmt.Sprint(rev), "--data-dir", dataDir, "-o", "json")
	require.Equal(t, 0, code, "stdout %s\nstderr %s", out, errs)
	require.Contains(t, out, path.Base(w.Talos), "the older .snap.age, read after the newer .snap.zst.age")
	restoretest.Judge(t, testenv.Binary(t, "etcd"), dataDir, restore.DefaultName, rev, w.State[rev])

	out, _, code = runCLI(t, "pick", "--store", url, "--cluster", fixture.WildOpenShiftDir, "-o", "json")
	require.Equal(t, 0, code)
	require.Contains(t, out, "__POSSIBLY_DIRTY__", "the dirty snapshot is newest; pick warns")
	// restore and download say so too, before they start, and in their JSON.
	_, errs, code = runCLI(t, "restore", "--store", url, "--cluster", fixture.WildOpenShiftDir, "--data-dir", filepath.Join(t.TempDir(), "etcd"))
	require.Equal(t, 0, code, errs)
	require.Contains(t, errs, "warning: "+path.Base(w.Dirty)+": cluster-backup.sh marked this snapshot __POSSIBLY_DIRTY__")
	out, errs, code = runCLI(t, "download", "--store", url, "--cluster", fixture.WildOpenShiftDir, "--to", filepath.Join(t.TempDir(), "dirty.db"), "-o", "json")
	require.Equal(t, 0, code, errs)
	var warned struct{ Warnings []string }
	require.NoError(t, json.Unmarshal([]byte(out), &warned))
	require.Len(t, warned.Warnings, 1)
	require.Contains(t, warned.Warnings[0], "__POSSIBLY_DIRTY__")

	cases := []struct{ cluster, key string }{
		{fixture.WildPlainDir, w.Plain},
		{fixture.WildK3sDir, w.K3s},
		{fixture.WildOpenShiftDir, w.OpenShift},
		{fixture.WildPlainDir, w.Gzip},
		{fixture.WildK3sDir, w.Zip},
		{fixture.WildKopsDir, w.EtcdManager},
	}
	for _, c := range cases {
		rev := w.Revisions[c.key]
		out, errs, code := runCLI(t, "pick", "--store", url, "--cluster", c.cluster, "--revision", fmt.Sprint(rev), "-o", "json")
		require.Equal(t, 0, code, "%s: %s", c.key, errs)
		var res struct {
			Revision int64
			Objects  []string
		}
		require.NoError(t, json.Unmarshal([]byte(out), &res))
		require.Equal(t, rev, res.Revision)
		require.Equal(t, []string{strings.TrimPrefix(c.key, c.cluster+"/")}, res.Objects, "keys are relative to the cluster folder")

		dataDir := filepath.Join(t.TempDir(), "etcd")
		out, errs, code = runCLI(t, "restore", "--store", url, "--cluster", c.cluster, "--revision", fmt.Sprint(rev), "--data-dir", dataDir, "-o", "json")
		require.Equal(t, 0, code, "%s: stdout %s\nstderr %s", c.key, out, errs)
		var rr restore.Result
		require.NoError(t, json.Unmarshal([]byte(out), &rr))
		require.Equal(t, rev, rr.Revision)
		if c.key == w.OpenShift {
			// Download of this point brings the static pod resources beside the snapshot.
			to := filepath.Join(t.TempDir(), "snapshot.db")
			out, errs, code := runCLI(t, "download", "--store", url, "--cluster", c.cluster, "--revision", fmt.Sprint(rev), "--to", to, "-o", "json")
			require.Equal(t, 0, code, "%s %s", out, errs)
			require.FileExists(t, to)
			res := "static_kuberesources_" + strings.TrimSuffix(strings.TrimPrefix(path.Base(c.key), "snapshot_"), ".db") + ".tar.gz"
			b, err := os.ReadFile(filepath.Join(filepath.Dir(to), res))
			require.NoError(t, err)
			require.Equal(t, []byte{0x1f, 0x8b}, b)
			require.Contains(t, out, res)
			require.Len(t, rr.Notes, 1, "restore says where the static pod resources are")
			require.Contains(t, rr.Notes[0], "static_kuberesources_")
			require.Contains(t, rr.Notes[0], "/etc/kubernetes/static-pod-resources")
		}
		restoretest.Judge(t, testenv.Binary(t, "etcd"), dataDir, restore.DefaultName, rev, w.State[rev])
	}

	// A revision no snapshot holds is nothing compatible, not a guess.
	_, errs, code = runCLI(t, "pick", "--store", url, "--cluster", fixture.WildK3sDir, "--revision", fmt.Sprint(w.Revisions[w.K3s]+1))
	require.NotEqual(t, 0, code, errs)
}

// Other tools prune their own snapshots (k3s --etcd-snapshot-retention, cron jobs): etcd-dr's gc counts none of
// them and deletes none, even an unread "revision on demand" one that would otherwise look oldest.
func TestWildNeverCollected(t *testing.T) {
	w, err := fixture.WriteWild(context.Background(), t.TempDir())
	require.NoError(t, err)
	before := map[string]bool{}
	require.NoError(t, filepath.Walk(w.Dir, func(p string, info os.FileInfo, err error) error {
		if err == nil && !info.IsDir() {
			before[p] = true
		}
		return err
	}))
	for _, cluster := range []string{fixture.WildPlainDir, fixture.WildK3sDir, fixture.WildOpenShiftDir, fixture.WildKopsDir, fixture.WildTalosDir} {
		out, errs, code := runCLI(t, "gc", "--store", "file://"+w.Dir, "--cluster", cluster, "--gc-policy", "limit", "--max-backups", "1", "-o", "json")
		require.Equal(t, 0, code, "%s: %s %s", cluster, out, errs)
		require.Contains(t, out, "never deleted")
	}
	for p := range before {
		require.FileExists(t, p)
	}
}

// k3s and rke2 upload with S3 user metadata naming the node (rke2-… for rke2): the snapshot shows its node and,
// for rke2, its layout. S3 only: k3s and rke2 upload etcd snapshots to S3 and nowhere else (no GCS client).
func TestWildK3sS3Metadata(t *testing.T) {
	w, err := fixture.WriteWild(context.Background(), t.TempDir())
	require.NoError(t, err)
	s3 := testenv.StartS3(t)
	s3.Env(t)
	s3.CreateBucket(t, "k3s")
	data, err := os.ReadFile(filepath.Join(w.Dir, filepath.FromSlash(w.K3s)))
	require.NoError(t, err)
	ctx := context.Background()
	for _, tool := range []string{"k3s", "rke2"} {
		st, err := store.Open(ctx, s3.URL("k3s", tool))
		require.NoError(t, err)
		wr, err := st.NewWriter(ctx, path.Base(w.K3s), store.WriteOptions{Metadata: map[string]string{tool + "-node-name": "cp-" + tool, tool + "-cluster-id": "c0ffee"}})
		require.NoError(t, err)
		_, err = wr.Write(data)
		require.NoError(t, err)
		require.NoError(t, wr.Commit())
		require.NoError(t, st.Close())

		out, errs, code := runCLI(t, "list", "--store", s3.URL("k3s", tool), "-o", "json")
		require.Equal(t, 0, code, errs)
		require.Contains(t, out, `"layout": "`+tool+`"`)
		require.Contains(t, out, `"node": "cp-`+tool+`"`)
		require.Contains(t, out, fmt.Sprintf(`"endRevision": %d`, w.Revisions[w.K3s]))
	}
}

// The commonest backup there is: a cron job running `etcdctl snapshot save` against an etcd 3.5 server. The file,
// under a name of the operator's choosing, is a chain at the revision its db holds (no storage version before 3.6:
// the version stays unknown), and restores to exactly that state.
func TestWildEtcdctlSnapshotSave35(t *testing.T) {
	ctx := context.Background()
	c := testenv.StartCluster(t, testenv.Binary(t, "etcd-3.5"), 1)
	cli := c.Client(t)
	require.NoError(t, fixture.Workload(ctx, cli, "/cron", 8))
	rev, err := fixture.Revision(ctx, cli)
	require.NoError(t, err)
	want, err := fixture.State(ctx, cli, rev)
	require.NoError(t, err)
	dir := t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "nightly"), 0o755))
	testenv.Etcdctl(t, "--endpoints", c.Members[0].ClientURL, "snapshot", "save", filepath.Join(dir, "nightly", "etcd-2026-11-30.db"))

	url := "file://" + dir
	out, errs, code := runCLI(t, "list", "--store", url, "-o", "json")
	require.Equal(t, 0, code, errs)
	require.Contains(t, out, `"layout": "snapshot"`)
	require.Contains(t, out, fmt.Sprintf(`"restorableRevision": %d`, rev))
	require.Contains(t, out, `"problems": []`)

	dataDir := filepath.Join(t.TempDir(), "etcd")
	out, errs, code = runCLI(t, "restore", "--store", url, "--revision", fmt.Sprint(rev), "--data-dir", dataDir, "-o", "json")
	require.Equal(t, 0, code, "stdout %s\nstderr %s", out, errs)
	restoretest.Judge(t, testenv.Binary(t, "etcd"), dataDir, restore.DefaultName, rev, want)
}

// validate reads every snapshot of other tools whole (sha256 trailer, db) and compares it with what the catalog
// knows; a compressed one listed "revision on demand" is not a name that lies — on file://, S3 and GCS.
func TestWildValidate(t *testing.T) {
	w, err := fixture.WriteWild(context.Background(), t.TempDir())
	require.NoError(t, err)
	urls, _ := wildStores(t, w)
	for name, url := range urls {
		t.Run(name, func(t *testing.T) {
			out, errs, code := runCLI(t, "validate", "--store", url, "-o", "json")
			require.Equal(t, 3, code, "the damaged objects are problems: %s", errs)
			require.NotContains(t, out, "lies")
			var rep struct {
				Objects []struct {
					Object string
					OK     bool
					What   string
				}
			}
			require.NoError(t, json.Unmarshal([]byte(out), &rep))
			checked := map[string]string{}
			for _, o := range rep.Objects {
				if !o.OK {
					checked[o.Object] = o.What
				} else {
					checked[o.Object] = "ok"
				}
			}
			for _, k := range []string{w.Plain, w.Gzip, w.K3s, w.Zip, w.OpenShift, w.Dirty, w.EtcdManager} {
				require.Equal(t, "ok", checked[k], k)
			}
			require.Contains(t, checked[w.Truncated], "unexpected EOF", "a gzip cut short is found by reading it")
			require.Contains(t, checked[w.Talos], "encrypted", "without the identity")
		})
	}
}
