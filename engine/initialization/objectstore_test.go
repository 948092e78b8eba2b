package initialization_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/stretchr/testify/require"

	"github.com/etcd-dr/etcd-dr/internal/fixture"
	"github.com/etcd-dr/etcd-dr/internal/testenv"
	"github.com/etcd-dr/etcd-dr/internal/testkit/restoretest"
)

// The same handshake against a real S3 store (versitygw): an empty data dir is restored from it and etcd serves
// exactly the chain's state.
func TestHandshakeS3EmptyDataDirRestored(t *testing.T) {
	srv := testenv.StartS3(t)
	srv.Env(t)
	srv.CreateBucket(t, "backups")
	src := filepath.Join(restoretest.Root(t), filepath.FromSlash(fixture.StoreBRv1))
	cli := srv.Client()
	require.NoError(t, filepath.Walk(src, func(p string, info os.FileInfo, err error) error {
		if err != nil || info.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		_, err = cli.PutObject(context.Background(), &s3.PutObjectInput{Bucket: aws.String("backups"),
			Key: aws.String("etcd/" + filepath.ToSlash(rel)), Body: bytes.NewReader(b)})
		return err
	}))
	dataDir := filepath.Join(t.TempDir(), "etcd")
	p := startPod(t, srv.URL("backups", "etcd"), dataDir, 0)
	restoretest.CheckServes(t, p.client(t), 195, restoretest.State(t, fixture.StoreBRv1, 195))
}
