package store

import (
	"context"
	"fmt"

	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/container"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// Tags reads an object's tags: S3 object tags (GetObjectTagging) or Azure blob index tags (GetTags), one request
// each, so callers read them only for the few objects that need them (pick's candidates), never at list time.
// Other stores have no tags: nil. etcd-backup-restore marks snapshots its restore must skip with a tag there.
func (s *Store) Tags(ctx context.Context, key string) (map[string]string, error) {
	if err := CheckKey(key); err != nil {
		return nil, err
	}
	full := key
	if s.loc.Prefix != "" {
		full = s.loc.Prefix + "/" + key
	}
	var s3c *s3.Client
	var az *container.Client
	switch {
	case s.bucket.As(&s3c):
		out, err := s3c.GetObjectTagging(ctx, &s3.GetObjectTaggingInput{Bucket: aws.String(s.loc.Bucket), Key: aws.String(full)})
		if err != nil {
			return nil, fmt.Errorf("read the tags of %s in %s: %s", key, s.url, RedactText(err.Error()))
		}
		tags := map[string]string{}
		for _, t := range out.TagSet {
			tags[aws.ToString(t.Key)] = aws.ToString(t.Value)
		}
		return tags, nil
	case s.bucket.As(&az):
		out, err := az.NewBlobClient(full).GetTags(ctx, nil)
		if err != nil {
			return nil, fmt.Errorf("read the tags of %s in %s: %s", key, s.url, RedactText(err.Error()))
		}
		tags := map[string]string{}
		for _, t := range out.BlobTagSet {
			if t != nil {
				tags[aws.ToString(t.Key)] = aws.ToString(t.Value)
			}
		}
		return tags, nil
	}
	return nil, nil
}
