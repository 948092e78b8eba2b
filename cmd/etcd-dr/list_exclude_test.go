package main

import (
	"bytes"
	"encoding/json"
	"strings"
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

// An excluded snapshot is listed, with a line saying it is never picked and why, and "excluded" in JSON.
func TestListShowsExcluded(t *testing.T) {
	const key = "v2/Full-00000000-00000300-1700000120.gz"
	cat := catalog.Build("gs://br", []store.Object{{Key: key, Size: 10, Metadata: map[string]string{catalog.MetaExclude: "true"}}})
	var b bytes.Buffer
	printCatalog(&b, cat, time.Unix(1700000200, 0))
	require.Contains(t, b.String(), "chain 1 excluded, never picked: x-etcd-snapshot-exclude=true")
	cat.Chains[0].Base.Warning = "cluster-backup.sh marked this snapshot __POSSIBLY_DIRTY__"
	b.Reset()
	printCatalog(&b, cat, time.Unix(1700000200, 0))
	require.Contains(t, b.String(), "chain 1 warning: cluster-backup.sh marked this snapshot __POSSIBLY_DIRTY__", "what pick would warn about shows in list")
	js, err := json.Marshal(cat.Chains[0])
	require.NoError(t, err)
	require.Contains(t, string(js), `"excluded":"x-etcd-snapshot-exclude=true`)
}

// On a real S3 server (versitygw) the exclude mark is an object tag, which the listing does not bring: list reads
// it, shows the chain as excluded and reports the older untagged chain as the newest restorable point.
func TestListShowsTaggedExcludedOnS3(t *testing.T) {
	const older, newer = "v2/Full-00000000-00000100-1700000000.gz", "v2/Full-00000000-00000300-1700000120.gz"
	s := testenv.StartS3(t)
	s.Env(t)
	s.CreateBucket(t, "brs")
	for _, key := range []string{older, newer} {
		_, err := s.Client().PutObject(t.Context(), &s3.PutObjectInput{Bucket: aws.String("brs"), Key: aws.String("shoot-x/" + key), Body: strings.NewReader("listed, not read")})
		require.NoError(t, err)
	}
	_, err := s.Client().PutObjectTagging(t.Context(), &s3.PutObjectTaggingInput{Bucket: aws.String("brs"), Key: aws.String("shoot-x/" + newer),
		Tagging: &s3types.Tagging{TagSet: []s3types.Tag{{Key: aws.String(catalog.MetaExclude), Value: aws.String("true")}}}})
	require.NoError(t, err)
	url := s.URL("brs", "shoot-x")

	out, stderr, code := runCLI(t, "list", "--store", url)
	require.Equal(t, 0, code, stderr)
	require.Contains(t, out, "chain 2 excluded, never picked: x-etcd-snapshot-exclude=true is tagged on it")

	out, stderr, code = runCLI(t, "list", "--store", url, "-o", "json")
	require.Equal(t, 0, code, stderr)
	var got listJSON
	require.NoError(t, json.Unmarshal([]byte(out), &got))
	require.Len(t, got.Chains, 2)
	require.Equal(t, newer, got.Chains[1].Base.Key)
	require.Contains(t, got.Chains[1].Base.Excluded, "tagged")
	require.Empty(t, got.Chains[0].Base.Excluded)
	require.Len(t, got.Clusters, 1)
	require.Equal(t, int64(100), got.Clusters[0].RestorableRevision)
}
