package catalog

import (
	"path"
	"regexp"
	"strings"
	"time"

	"github.com/etcd-dr/etcd-dr/engine/format"
)

// talos-backup (pkg/talos/talos.go, pkg/encryption/encryption.go): <cluster>-<time.RFC3339>.snap, the raw
// EtcdSnapshot stream (db + sha256 trailer), then age X25519-encrypted to <name>.snap.age unless disabled; the
// object sits under the S3 prefix, by default the cluster name.
var talosName = regexp.MustCompile(`^(.+)-(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:Z|[+-]\d{2}:\d{2}))\.snap(\.age)?$`)

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
	return Snapshot{Key: key, Kind: Full, Dir: strings.TrimSuffix(dir, "/"), Layout: Talos, Time: ts.UTC(),
		Codec: format.None, Compression: format.None.String(), Encrypted: m[3] != ""}, true
}
