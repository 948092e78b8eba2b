package engine

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/stretchr/testify/require"

	"github.com/etcd-dr/etcd-dr/engine/catalog"
	"github.com/etcd-dr/etcd-dr/internal/testenv"
	"github.com/etcd-dr/etcd-dr/store"
)

// etcd-backup-restore marks a snapshot its restore must skip with the tag x-etcd-snapshot-exclude=true on S3
// (PutObjectTagging, s3_snapstore.go) and Azure (blob index tags, abs_snapstore.go). On a real versitygw and a
// real Azurite: pick passes over the tagged newest snapshot, says so, and takes the older one; with every
// candidate tagged it picks nothing, naming the mark.
func TestPickSkipsTaggedExcluded(t *testing.T) {
	const older, newer = "v2/Full-00000000-00000100-1700000000.gz", "v2/Full-00000000-00000300-1700000120.gz"
	for _, tc := range taggingStores() {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			storeURL, tagKey := tc.setup(t)
			url, tag := storeURL("shoot-x"), func(t *testing.T, key string) { tagKey(t, "shoot-x/"+key) }
			putObject(t, url, older)
			putObject(t, url, newer)
			repo, err := Open(ctx, url, Options{})
			require.NoError(t, err)
			defer repo.Close()
			res, err := repo.Pick(ctx, PickRequest{TrustNames: true})
			require.NoError(t, err)
			require.Equal(t, newer, res.Chain.Base.Key, "untagged: the newest is picked")
			require.Empty(t, res.Warnings, "an object without tags reads as not excluded, without a warning")

			tag(t, newer)
			res, err = repo.Pick(ctx, PickRequest{TrustNames: true})
			require.NoError(t, err)
			require.Equal(t, older, res.Chain.Base.Key)
			require.Equal(t, int64(100), res.Revision)
			require.Contains(t, res.Warnings, "the newest backup "+newer+" is not used: excluded: "+catalog.MetaExclude+"=true is tagged on it (etcd-backup-restore marks snapshots its restore must skip)")

			tag(t, older)
			_, err = repo.Pick(ctx, PickRequest{TrustNames: true})
			require.ErrorContains(t, err, "can be picked")
			require.ErrorContains(t, err, catalog.MetaExclude)
			_, err = repo.Pick(ctx, PickRequest{TrustNames: true, Revision: 100})
			require.ErrorContains(t, err, "is excluded")
		})
	}
}

// list shows what pick skips: ReadExcludeTags marks every tagged chain of a one-cluster store (so its newest
// restorable revision is that of the newest untagged chain), and on a fleet root reads each cluster newest first
// only until a chain is not excluded (one request per cluster as a rule), never the older ones.
func TestReadExcludeTags(t *testing.T) {
	full := func(rev int) string { return fmt.Sprintf("v2/Full-00000000-%08d-%d.gz", rev, 1700000000+rev) }
	excludedIn := func(r *Repo) map[string]bool {
		m := map[string]bool{}
		for _, ch := range r.Catalog().Chains {
			m[ch.Cluster+":"+ch.Base.Key] = ch.Base.Excluded != ""
		}
		return m
	}
	for _, tc := range taggingStores() {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			url, tag := tc.setup(t)
			for _, rev := range []int{100, 200, 300} {
				putObject(t, url("one"), full(rev))
			}
			tag(t, "one/"+full(300))
			tag(t, "one/"+full(100))
			repo, err := Open(ctx, url("one"), Options{})
			require.NoError(t, err)
			defer repo.Close()
			require.Equal(t, int64(300), repo.NewestRestorable(), "the listing alone does not know the tags")
			require.NoError(t, repo.ReadExcludeTags(ctx))
			require.Equal(t, map[string]bool{":" + full(100): true, ":" + full(200): false, ":" + full(300): true}, excludedIn(repo))
			require.Equal(t, int64(200), repo.NewestRestorable())

			for _, k := range []string{"a/" + full(100), "a/" + full(200), "a/" + full(300), "b/" + full(100)} {
				putObject(t, url("fleet"), k)
			}
			for _, k := range []string{"a/" + full(300), "a/" + full(100), "b/" + full(100)} {
				tag(t, "fleet/"+k)
			}
			fleet, err := Open(ctx, url("fleet"), Options{})
			require.NoError(t, err)
			defer fleet.Close()
			require.NoError(t, fleet.ReadExcludeTags(ctx))
			require.Equal(t, map[string]bool{"a:a/" + full(100): false, "a:a/" + full(200): false, "a:a/" + full(300): true, "b:b/" + full(100): true}, excludedIn(fleet),
				"a: read newest first up to the first untagged chain (a/100 is tagged but never read); b: its only chain")
			health, _, _ := fleet.Health(ctx, time.Now(), 0)
			restorable := map[string]int64{}
			for _, h := range health {
				restorable[h.Cluster] = h.RestorableRevision
			}
			require.Equal(t, map[string]int64{"a": 200, "b": 0}, restorable)
		})
	}
}

// putObject writes a few bytes at key of the store at url: enough for a listing, never read.
func putObject(t *testing.T, url, key string) {
	t.Helper()
	st, err := store.Open(t.Context(), url, store.OpenOptions{Create: true})
	require.NoError(t, err)
	defer st.Close()
	w, err := st.NewWriter(t.Context(), key, store.WriteOptions{})
	require.NoError(t, err)
	_, err = w.Write([]byte("not read to list " + key))
	require.NoError(t, err)
	require.NoError(t, w.Commit(), key)
}

// taggingStore is a real object store with tags, and how to tag an object of it as etcd-backup-restore does.
type taggingStore struct {
	name string
	// setup starts the server; url gives the store URL of a prefix in its bucket; tag tags a bucket-relative key.
	setup func(t *testing.T) (url func(prefix string) string, tag func(t *testing.T, key string))
}

// taggingStores are versitygw (S3 PutObjectTagging) and Azurite (blob index tags).
func taggingStores() []taggingStore {
	return []taggingStore{
		{"s3", func(t *testing.T) (func(string) string, func(*testing.T, string)) {
			s := testenv.StartS3(t)
			s.Env(t)
			s.CreateBucket(t, "brs")
			return func(prefix string) string { return s.URL("brs", prefix) }, func(t *testing.T, key string) {
				_, err := s.Client().PutObjectTagging(t.Context(), &s3.PutObjectTaggingInput{Bucket: aws.String("brs"), Key: aws.String(key),
					Tagging: &s3types.Tagging{TagSet: []s3types.Tag{{Key: aws.String(catalog.MetaExclude), Value: aws.String("true")}}}})
				require.NoError(t, err)
			}
		}},
		{"azure", func(t *testing.T) (func(string) string, func(*testing.T, string)) {
			a := testenv.StartAzure(t)
			a.Env(t)
			a.CreateContainer(t, "bra")
			return func(prefix string) string { return a.URL("bra", prefix) }, func(t *testing.T, key string) {
				_, err := a.Client(t).ServiceClient().NewContainerClient("bra").NewBlobClient(key).SetTags(t.Context(), map[string]string{catalog.MetaExclude: "true"}, nil)
				require.NoError(t, err)
			}
		}},
	}
}
