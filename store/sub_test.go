package store

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestSubURL(t *testing.T) {
	for _, tc := range []struct{ name, raw, rel, want string }{
		{"file", "file:///var/etcd-backup", "shoot--a/etcd-main", "file:///var/etcd-backup/shoot--a/etcd-main"},
		{"file root slash", "file:///var/etcd-backup/", "main", "file:///var/etcd-backup/main"},
		{"s3 keeps its query", "s3://bkt/seed?endpoint=http://127.0.0.1:9000&use_path_style=true", "a/etcd-events", "s3://bkt/seed/a/etcd-events?endpoint=http://127.0.0.1:9000&use_path_style=true"},
		{"bucket without prefix", "s3://bkt", "main", "s3://bkt/main"},
		{"empty is the store", "s3://bkt/x", "", "s3://bkt/x"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := SubURL(tc.raw, tc.rel)
			require.NoError(t, err)
			require.Equal(t, tc.want, got)
			loc, err := ParseURL(got)
			require.NoError(t, err)
			require.NotEmpty(t, loc.Bucket)
		})
	}
	for _, rel := range []string{"../other", "a/../../b", "/abs"} {
		_, err := SubURL("file:///var/etcd-backup", rel)
		require.ErrorIs(t, err, ErrBadURL, rel)
	}
}
