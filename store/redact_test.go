package store_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/etcd-dr/etcd-dr/store"
)

// RedactText masks credentials wherever a message carries them: in URLs an SDK quotes (parameters reordered and
// escaped), in parameters outside URLs, and the values of credential variables and of extra secrets.
func TestRedactTextHidesSecrets(t *testing.T) {
	t.Setenv("AZURE_STORAGE_SAS_TOKEN", "sp=rl&sv=2022-11-02&sig=SASENV+abc=")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "awssecret-1234")
	t.Setenv("ETCDCTL_PASSWORD", "etcdpw-5678")
	cases := []struct{ name, msg, secret, keep string }{
		{name: "SAS in a quoted request URL", msg: `Get "http://127.0.0.1:1/acct/c?comp=list&restype=container&sig=SASENV%2Babc%3D&sp=rl&sv=2022-11-02": dial tcp`, secret: "SASENV", keep: "comp=list"},
		{name: "SAS in a store URL", msg: "open azblob://c/p?sv=2020&sig=URLSIG123, then", secret: "URLSIG123", keep: ", then"},
		{name: "presigned S3 URL", msg: "GET https://b.s3.amazonaws.com/k?X-Amz-Credential=AKIAXX%2F2026&X-Amz-Signature=deadbeef99&X-Amz-Date=2026", secret: "deadbeef99", keep: "X-Amz-Date=2026"},
		{name: "presigned credential", msg: "GET https://b.s3.amazonaws.com/k?X-Amz-Credential=AKIAXX%2F2026&X-Amz-Signature=deadbeef99", secret: "AKIAXX"},
		{name: "user info password", msg: "dial s3://user:hunter2hunter@bucket/p failed", secret: "hunter2hunter", keep: "failed"},
		{name: "SAS token alone", msg: "token is sv=2020&ss=b&sig=LONESIG456 here", secret: "LONESIG456", keep: "ss=b"},
		{name: "unparseable URL", msg: "parse \"s3://b/p?sig=BADSIG%zz\": invalid URL escape", secret: "BADSIG"},
		{name: "env value", msg: "signature mismatch for awssecret-1234", secret: "awssecret-1234"},
		{name: "env value escaped", msg: "body password=etcdpw-5678", secret: "etcdpw-5678"},
		{name: "extra secret", msg: "auth failed for flagpass-999", secret: "flagpass-999"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := store.RedactText(c.msg, "flagpass-999")
			require.NotContains(t, got, c.secret)
			require.Contains(t, got, "REDACTED")
			if c.keep != "" {
				require.Contains(t, got, c.keep)
			}
		})
	}
	require.Equal(t, "list v2/Full-00000000-00000022 key=v2/x: not found", store.RedactText("list v2/Full-00000000-00000022 key=v2/x: not found"), "ordinary text is left alone")
}

// A store error quoting the request URL of an SDK (here Azure, whose SAS the SDK reorders) names no signature.
func TestAzureErrorNamesNoSAS(t *testing.T) {
	t.Setenv("AZURE_STORAGE_ACCOUNT", "acct")
	t.Setenv("AZURE_STORAGE_DOMAIN", "127.0.0.1:1") // nothing listens: the SDK fails quoting its URL
	t.Setenv("AZURE_STORAGE_PROTOCOL", "http")
	t.Setenv("AZURE_STORAGE_SAS_TOKEN", "sp=rl&sv=2022-11-02&sig=SASENV%2Babc%3D")
	t.Setenv("AZURE_STORAGE_KEY", "")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute) // the SDK retries a refused connection for a few seconds
	defer cancel()
	st, err := store.Open(ctx, "azblob://c/p")
	require.NoError(t, err)
	defer st.Close()
	_, err = st.List(ctx)
	require.Error(t, err)
	require.NotContains(t, err.Error(), "SASENV")
	require.NotContains(t, err.Error(), "Babc")
	require.Contains(t, err.Error(), "127.0.0.1:1", "the error still says where")
	t.Log(err)
}

// With no AWS credentials anywhere the error says so and what to set, never "access denied" (the EC2 metadata
// endpoint's refusal off EC2 used to read as one).
func TestS3WithoutCredentialsSaysWhatToSet(t *testing.T) {
	home := t.TempDir()
	t.Setenv("HOME", home)
	for _, v := range []string{"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE", "AWS_ROLE_ARN", "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_CONTAINER_CREDENTIALS_FULL_URI", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"} {
		t.Setenv(v, "")
	}
	t.Setenv("AWS_CONFIG_FILE", home+"/none")
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", home+"/none")
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true") // off EC2 the endpoint may refuse (403) or time out
	st, err := store.Open(context.Background(), "s3://bucket/p?endpoint=http://127.0.0.1:1&region=us-east-1&use_path_style=true")
	require.NoError(t, err)
	defer st.Close()
	_, err = st.List(context.Background())
	require.Error(t, err)
	require.True(t, errors.Is(err, store.ErrNoCredentials), "%v", err)
	require.False(t, errors.Is(err, store.ErrAccessDenied), "%v", err)
	require.False(t, strings.Contains(err.Error(), "access denied"), "%v", err)
	for _, want := range []string{"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_PROFILE", "IAM role"} {
		require.Contains(t, err.Error(), want)
	}
}

// URLs without credentials are left exactly as written (help texts list schemes as "file://, s3://").
func TestRedactTextLeavesPlainURLs(t *testing.T) {
	for _, msg := range []string{
		"supported schemes: file://, s3://, gs://, azblob://, mem://",
		"open s3://bucket/p?endpoint=http://127.0.0.1:9000&region=us-east-1: not found",
		"file:///var/etcd-backup/v1/etcd-cluster.",
	} {
		require.Equal(t, msg, store.RedactText(msg))
	}
}
