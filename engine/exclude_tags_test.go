package engine

import (
	"context"
	"testing"

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
	for _, tc := range []struct {
		name  string
		setup func(t *testing.T) (url string, tag func(t *testing.T, key string))
	}{
		{"s3", func(t *testing.T) (string, func(*testing.T, string)) {
			s := testenv.StartS3(t)
			s.Env(t)
			s.CreateBucket(t, "brs")
			return s.URL("brs", "shoot-x"), func(t *testing.T, key string) {
				_, err := s.Client().PutObjectTagging(t.Context(), &s3.PutObjectTaggingInput{Bucket: aws.String("brs"), Key: aws.String("shoot-x/" + key),
					Tagging: &s3types.Tagging{TagSet: []s3types.Tag{{Key: aws.String(catalog.MetaExclude), Value: aws.String("true")}}}})
				require.NoError(t, err)
			}
		}},
		{"azure", func(t *testing.T) (string, func(*testing.T, string)) {
			a := testenv.StartAzure(t)
			a.Env(t)
			a.CreateContainer(t, "bra")
			return a.URL("bra", "shoot-x"), func(t *testing.T, key string) {
				_, err := a.Client(t).ServiceClient().NewContainerClient("bra").NewBlobClient("shoot-x/"+key).SetTags(t.Context(), map[string]string{catalog.MetaExclude: "true"}, nil)
				require.NoError(t, err)
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			url, tag := tc.setup(t)
			st, err := store.Open(ctx, url)
			require.NoError(t, err)
			defer st.Close()
			for _, key := range []string{older, newer} {
				w, err := st.NewWriter(ctx, key, store.WriteOptions{})
				require.NoError(t, err)
				_, err = w.Write([]byte("not read to pick " + key))
				require.NoError(t, err)
				require.NoError(t, w.Commit(), key)
			}
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
