package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/etcd-dr/etcd-dr/engine/restore"
	"github.com/etcd-dr/etcd-dr/internal/fixture"
	"github.com/etcd-dr/etcd-dr/internal/testenv"
	"github.com/etcd-dr/etcd-dr/internal/testkit/restoretest"
	"github.com/etcd-dr/etcd-dr/store"
)

// wildStores writes the other tools' store (real etcd snapshots in each tool's shape) and serves it on file://
// and on versitygw S3.
func wildStores(t *testing.T) (*fixture.Wild, map[string]string) {
	t.Helper()
	w, err := fixture.WriteWild(context.Background(), t.TempDir())
	require.NoError(t, err)
	s3 := testenv.StartS3(t)
	s3.Env(t)
	s3.CreateBucket(t, "wild")
	u := s3.URL("wild", "backups")
	uploadDir(t, u, w.Dir)
	return w, map[string]string{"file": "file://" + w.Dir, "s3": u}
}

// etcdctl snapshot save output, a k3s scheduled snapshot and OpenShift backups are listed as chains at the
// revision their db holds, picked with --revision by that revision, and restored into a data dir a real etcd
// serves at exactly that state — on file:// and on S3.
func TestWildListPickRestore(t *testing.T) {
	w, urls := wildStores(t)
	for name, url := range urls {
		t.Run(name, func(t *testing.T) {
			out, errs, code := runCLI(t, "list", "--store", url, "-o", "json")
			require.Equal(t, 0, code, errs)
			for _, l := range []string{"snapshot", "k3s", "openshift", "etcd-manager", "talos"} {
				require.Contains(t, out, `"layout": "`+l+`"`)
			}
			require.Equal(t, 9, strings.Count(out, `"base": {`), out)
			require.Equal(t, 5, strings.Count(out, `"revisionOnDemand": true`), "compressed snapshots are not read to list")
			for _, k := range w.Damaged {
				require.Contains(t, out, `"object": "`+k+`"`)
			}
			require.NotContains(t, out, `"object": "k3s/.metadata/`, "k3s metadata records are companions, not problems")
			require.NotContains(t, out, `"object": "openshift/static_kuberesources_`)
			require.NotContains(t, out, `/control/`, "etcd-manager control files are known, never problems")
			require.Contains(t, out, `"companions": [`)

			text, errs, code := runCLI(t, "list", "--store", url)
			require.Equal(t, 0, code, errs)
			require.Contains(t, text, "k3s")
			require.Contains(t, text, "on demand")
			text, errs, code = runCLI(t, "pick", "--store", url, "--cluster", fixture.WildK3sDir, "--revision", fmt.Sprint(w.Revisions[w.K3s]))
			require.Equal(t, 0, code, errs)
			require.Contains(t, text, ".metadata/"+path.Base(w.K3s)+"  (kept beside it by k3s)")

			// The newest of the cron folder is gzipped and cut short: pick reads it, skips it with a warning
			// naming it, and takes the next one, reading its revision from the db.
			out, errs, code = runCLI(t, "pick", "--store", url, "--cluster", fixture.WildPlainDir, "--revision", fmt.Sprint(w.Revisions[w.Gzip]), "-o", "json")
			require.Equal(t, 0, code, errs)
			require.Contains(t, out, `"objects": [`+"\n"+`    "`+path.Base(w.Gzip)+`"`)
			if name == "file" { // S3 times are upload times: only the file store knows which is newest
				out, errs, code = runCLI(t, "pick", "--store", url, "--cluster", fixture.WildPlainDir, "-o", "json")
				require.Equal(t, 0, code, errs)
				require.Contains(t, out, fmt.Sprintf(`"revision": %d`, w.Revisions[w.Gzip]))
				require.Contains(t, out, "skipped "+path.Base(w.Truncated))
			}
			out, errs, code = runCLI(t, "pick", "--store", url, "--cluster", fixture.WildKopsDir, "-o", "json")
			require.Equal(t, 0, code, errs)
			require.Contains(t, out, `"etcdVersion": "`+w.EtcdManagerVersion+`"`, "etcd-manager's version comes from its meta")

			// talos-backup's .age snapshot: refused without the identity, restored with it.
			_, errs, code = runCLI(t, "pick", "--store", url, "--cluster", fixture.WildTalosDir)
			require.Equal(t, 2, code, errs)
			require.Contains(t, errs, "--identity")
			keyFile := filepath.Join(t.TempDir(), "key.txt")
			require.NoError(t, os.WriteFile(keyFile, []byte(w.TalosIdentity+"\n"), 0o600))
			rev := w.Revisions[w.Talos]
			dataDir := filepath.Join(t.TempDir(), "etcd")
			out, errs, code = runCLI(t, "restore", "--store", url, "--cluster", fixture.WildTalosDir, "--identity", keyFile, "--data-dir", dataDir, "-o", "json")
			require.Equal(t, 0, code, "stdout %s\nstderr %s", out, errs)
			restoretest.Judge(t, testenv.Binary(t, "etcd"), dataDir, restore.DefaultName, rev, w.State[rev])

			out, _, code = runCLI(t, "pick", "--store", url, "--cluster", fixture.WildOpenShiftDir, "-o", "json")
			require.Equal(t, 0, code)
			require.Contains(t, out, "__POSSIBLY_DIRTY__", "the dirty snapshot is newest; pick warns")

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
		})
	}
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
// for rke2, its layout.
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
// knows; a compressed one listed "revision on demand" is not a name that lies.
func TestWildValidate(t *testing.T) {
	w, err := fixture.WriteWild(context.Background(), t.TempDir())
	require.NoError(t, err)
	out, errs, code := runCLI(t, "validate", "--store", "file://"+w.Dir, "-o", "json")
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
}
