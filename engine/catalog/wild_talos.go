package catalog

import (
	"path"
	"regexp"
	"strings"
	"time"

	"github.com/etcd-dr/etcd-dr/engine/format"
)

// talos-backup (pkg/talos/talos.go, pkg/compression/compression.go, pkg/encryption/encryption.go,
// cmd/talos-backup/service/service.go): <cluster>-<time.RFC3339>.snap, the raw EtcdSnapshot stream (db + sha256
// trailer), zstd-compressed to <name>.zst when compression is enabled, then age X25519-encrypted to <name>.age
// unless disabled; the object sits under the S3 prefix, by default the cluster name.
var talosName = regexp.MustCompile(`^(.+)-(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:Z|[+-]\d{2}:\d{2}))\.snap(\.zst)?(\.age)?$`)

// parseTalos recognises a talos-backup snapshot by its name.
func parseTalos(key string) (Snapshot, bool) {
	dir, base := path.Split(key)
	m := talosName.FindStringSubmatch(base)
	if m == nil {
		return Snapshot{}, false
	}
	ts, err := time.Parse(time.RFC3339, m[2])
	if err != nil {
		return Snapshot{}, false
	}
	codec := format.None
	if m[3] != "" {
		codec = format.Zstd
	}
	return Snapshot{Key: key, Kind: Full, Dir: strings.TrimSuffix(dir, "/"), Layout: Talos, Time: ts.UTC(),
		Codec: codec, Compression: codec.String(), Encrypted: m[4] != ""}, true
}
