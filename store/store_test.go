package store_test

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"gocloud.dev/blob"
	"gocloud.dev/blob/fileblob"

	"github.com/etcd-dr/etcd-dr/internal/testenv"
	"github.com/etcd-dr/etcd-dr/store"
)

func TestParseURL(t *testing.T) {
	cases := []struct {
		name, url     string
		err           string
		bucket, prefx string
	}{
		{name: "file", url: "file:///var/etcd-backup/v1/etcd-cluster", bucket: "/var/etcd-backup/v1/etcd-cluster"},
		{name: "s3 with prefix", url: "s3://bucket/etcd-main?region=eu-west-1", bucket: "bucket", prefx: "etcd-main"},
		{name: "gs", url: "gs://b/a/b/", bucket: "b", prefx: "a/b"},
		{name: "unknown scheme", url: "foo://x", err: "supported schemes: file://, s3://, gs://, azblob://, mem://"},
		{name: "no scheme", url: "/var/etcd-backup", err: "no scheme"},
		{name: "relative file", url: "file://var/etcd-backup", err: "three slashes"},
		{name: "s3 without bucket", url: "s3:///prefix", err: "missing bucket"},
		{name: "prefix escapes", url: "s3://b/../other", err: "escape"},
		{name: "empty", url: "", err: "ETCD_DR_STORE"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			loc, err := store.ParseURL(c.url)
			if c.err != "" {
				require.Error(t, err)
				require.True(t, errors.Is(err, store.ErrBadURL))
				require.Contains(t, err.Error(), c.err)
				return
			}
			require.NoError(t, err)
			require.Equal(t, c.bucket, loc.Bucket)
			require.Equal(t, c.prefx, loc.Prefix)
		})
	}
}

func TestRedactHidesSecrets(t *testing.T) {
	r := store.Redact("azblob://c/p?sas_token=s3cr3t&endpoint=http://x&access_key_id=AKIA")
	require.NotContains(t, r, "s3cr3t")
	require.NotContains(t, r, "AKIA")
	require.Contains(t, r, "endpoint=")
	require.NotContains(t, store.Redact("s3://user:pw@bucket/p"), "pw")
}

func TestCheckKey(t *testing.T) {
	for _, bad := range []string{"", "/abs", "a/../b", "..", "./x", "a\\b"} {
		require.Error(t, store.CheckKey(bad), bad)
	}
	require.NoError(t, store.CheckKey("v2/Full-00000000-00000001-1.gz"))
}

// exercise runs the same behaviour checks against any store URL.
func exercise(t *testing.T, url string) {
	ctx := context.Background()
	st, err := store.Open(ctx, url)
	require.NoError(t, err)
	defer st.Close()

	w, err := st.NewWriter(ctx, "v2/Full-1", store.WriteOptions{Metadata: map[string]string{"etcd-version": "3.6.16"}})
	require.NoError(t, err)
	_, err = w.Write([]byte("hello"))
	require.NoError(t, err)
	// Not visible before Commit.
	objs, err := st.List(ctx)
	require.NoError(t, err)
	require.Empty(t, objs)
	require.NoError(t, w.Commit())

	aborted, err := st.NewWriter(ctx, "v2/Full-2", store.WriteOptions{})
	require.NoError(t, err)
	_, err = aborted.Write([]byte(strings.Repeat("x", 1<<20)))
	require.NoError(t, err)
	aborted.Abort()

	objs, err = st.List(ctx)
	require.NoError(t, err)
	require.Len(t, objs, 1, "an aborted write leaves nothing visible: %v", objs)
	require.Equal(t, "v2/Full-1", objs[0].Key)
	require.Equal(t, int64(5), objs[0].Size)
	require.False(t, objs[0].ModTime.IsZero())

	require.NoError(t, st.FetchMetadata(ctx, objs, nil))
	require.Equal(t, "3.6.16", objs[0].Metadata["etcd-version"])

	r, err := st.NewReader(ctx, "v2/Full-1")
	require.NoError(t, err)
	b, err := io.ReadAll(r)
	require.NoError(t, err)
	require.NoError(t, r.Close())
	require.Equal(t, "hello", string(b))

	_, err = st.NewReader(ctx, "v2/missing")
	require.True(t, errors.Is(err, store.ErrNotFound), "%v", err)
	_, err = st.NewReader(ctx, "../escape")
	require.Error(t, err)
	_, err = st.NewWriter(ctx, "/abs", store.WriteOptions{})
	require.Error(t, err)

	require.NoError(t, st.Delete(ctx, "v2/Full-1"))
	objs, err = st.List(ctx)
	require.NoError(t, err)
	require.Empty(t, objs)
}

func TestFileStore(t *testing.T) {
	dir := t.TempDir()
	exercise(t, "file://"+dir)
	// The prefix check holds on disk too: nothing was written outside dir.
	entries, err := os.ReadDir(filepath.Dir(dir))
	require.NoError(t, err)
	require.NotEmpty(t, entries)
}

func TestFileStoreMissingDirectory(t *testing.T) {
	_, err := store.Open(context.Background(), "file:///nonexistent/etcd-backup")
	require.True(t, errors.Is(err, store.ErrNotFound), "%v", err)
	require.Contains(t, err.Error(), "/nonexistent/etcd-backup")
}

func TestMemStoreIsSharedByName(t *testing.T) {
	exercise(t, "mem://store-test")
	ctx := context.Background()
	a, err := store.Open(ctx, "mem://shared")
	require.NoError(t, err)
	w, err := a.NewWriter(ctx, "k", store.WriteOptions{})
	require.NoError(t, err)
	require.NoError(t, w.Commit())
	require.NoError(t, a.Close())
	b, err := store.Open(ctx, "mem://shared")
	require.NoError(t, err)
	objs, err := b.List(ctx)
	require.NoError(t, err)
	require.Len(t, objs, 1)
}

func TestS3Store(t *testing.T) {
	s3 := testenv.StartS3(t)
	s3.Env(t)
	s3.CreateBucket(t, "backups")
	exercise(t, s3.URL("backups", "etcd-main"))
}

// A bucket that does not exist is ErrNotFound naming it, on S3 (versitygw) and GCS (fake-gcs-server).
func TestMissingBucket(t *testing.T) {
	for _, backend := range testenv.ObjectStores {
		t.Run(backend, func(t *testing.T) {
			var url string
			if backend == "s3" {
				s3 := testenv.StartS3(t)
				s3.Env(t)
				url = s3.URL("no-such-bucket", "p")
			} else {
				g := testenv.StartGCS(t)
				g.Env(t)
				url = g.URL("no-such-bucket", "p")
			}
			st, err := store.Open(context.Background(), url)
			require.NoError(t, err)
			defer st.Close()
			_, err = st.List(context.Background())
			require.True(t, errors.Is(err, store.ErrNotFound), "%v", err)
			require.Contains(t, err.Error(), "no-such-bucket")
		})
	}
}

func TestS3BadCredentialsNamesNoSecret(t *testing.T) {
	s3 := testenv.StartS3(t)
	s3.Env(t)
	s3.CreateBucket(t, "backups")
	const secret = "wrong-secret-value-1234"
	t.Setenv("AWS_SECRET_ACCESS_KEY", secret)
	st, err := store.Open(context.Background(), s3.URL("backups", "p"))
	require.NoError(t, err)
	_, err = st.List(context.Background())
	require.Error(t, err)
	require.True(t, errors.Is(err, store.ErrAccessDenied), "%v", err)
	require.NotContains(t, err.Error(), secret)
	require.Contains(t, err.Error(), "AWS_SECRET_ACCESS_KEY")
}

func TestCloudStoresWithoutCredentialsSayWhatToSet(t *testing.T) {
	t.Setenv("HOME", t.TempDir()) // no gcloud application-default credentials file
	t.Setenv("GOOGLE_APPLICATION_CREDENTIALS", "")
	t.Setenv("AZURE_STORAGE_ACCOUNT", "")
	t.Setenv("STORAGE_EMULATOR_HOST", "")
	t.Setenv("GCE_METADATA_HOST", "") // off GCP: the metadata server's name does not resolve
	_, err := store.Open(context.Background(), "gs://bucket/prefix")
	require.True(t, errors.Is(err, store.ErrNoCredentials), "%v", err)
	require.Contains(t, err.Error(), "STORAGE_EMULATOR_HOST")
	require.Contains(t, err.Error(), "GOOGLE_APPLICATION_CREDENTIALS")

	_, err = store.Open(context.Background(), "azblob://container/prefix")
	require.True(t, errors.Is(err, store.ErrBadURL), "%v", err)
	require.Contains(t, err.Error(), "AZURE_STORAGE_ACCOUNT")
}

func TestAzureStore(t *testing.T) {
	az := testenv.StartAzure(t)
	az.Env(t)
	az.CreateContainer(t, "backups")
	exercise(t, az.URL("backups", "etcd-main"))
}

// A directory store keeps metadata in an extended attribute, not in fileblob's "<object>.attrs" sidecar, which
// etcd-backup-restore would parse as one more snapshot; sidecars written earlier are still read, and replaced
// with the object they describe.
func TestFileStoreMetadataWithoutSidecars(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	const key = "v2/Full-00000000-00000262-1700000000.gz"
	// An object written by an older etcd-dr, through fileblob with its sidecar.
	old, err := fileblob.OpenBucket(dir, nil)
	require.NoError(t, err)
	require.NoError(t, old.WriteAll(ctx, "v2/Full-00000000-00000100-1600000000.gz", []byte("old"), &blob.WriterOptions{Metadata: map[string]string{"etcd-version": "3.5.9"}}))
	require.NoError(t, old.WriteAll(ctx, key, []byte("stale"), &blob.WriterOptions{Metadata: map[string]string{"etcd-version": "3.4.0"}}))
	require.NoError(t, old.Close())
	require.FileExists(t, filepath.Join(dir, key+".attrs"))

	st, err := store.Open(ctx, "file://"+dir)
	require.NoError(t, err)
	defer st.Close()
	w, err := st.NewWriter(ctx, key, store.WriteOptions{Metadata: map[string]string{"etcd-version": "3.6.16", "etcd-dr": "dev"}})
	require.NoError(t, err)
	_, err = w.Write([]byte("new"))
	require.NoError(t, err)
	require.NoError(t, w.Commit())

	entries, err := os.ReadDir(filepath.Join(dir, "v2"))
	require.NoError(t, err)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	require.Equal(t, []string{"Full-00000000-00000100-1600000000.gz", "Full-00000000-00000100-1600000000.gz.attrs", "Full-00000000-00000262-1700000000.gz"}, names,
		"the new object has no sidecar, and the stale one of the object it replaced is gone")

	objs, err := st.List(ctx)
	require.NoError(t, err)
	require.Len(t, objs, 2, "sidecars are never listed as objects")
	require.NoError(t, st.FetchMetadata(ctx, objs, nil))
	require.Equal(t, "3.5.9", objs[0].Metadata["etcd-version"], "an older sidecar is still read")
	require.Equal(t, map[string]string{"etcd-version": "3.6.16", "etcd-dr": "dev"}, objs[1].Metadata)
}

// A write whose context ends before Commit leaves nothing behind: no object, no temporary file.
func TestFileStoreCanceledWriteLeavesNothing(t *testing.T) {
	dir := t.TempDir()
	st, err := store.Open(context.Background(), "file://"+dir)
	require.NoError(t, err)
	defer st.Close()
	ctx, cancel := context.WithCancel(context.Background())
	w, err := st.NewWriter(ctx, "v2/Full-1", store.WriteOptions{})
	require.NoError(t, err)
	_, err = w.Write([]byte("partial"))
	require.NoError(t, err)
	cancel()
	_, err = w.Write([]byte("more"))
	require.ErrorIs(t, err, context.Canceled)
	require.ErrorIs(t, w.Commit(), context.Canceled)
	entries, err := os.ReadDir(filepath.Join(dir, "v2"))
	require.NoError(t, err)
	require.Empty(t, entries)
}
