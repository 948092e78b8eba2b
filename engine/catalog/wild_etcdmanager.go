package catalog

import (
	"encoding/json"
	"fmt"
	"path"
	"regexp"
	"strings"
	"time"

	"github.com/etcd-dr/etcd-dr/engine/format"
)

// kops etcd-manager (etcdadm etcd-manager/pkg/backup/store.go, vfsstore.go): each backup is a folder
// <RFC3339 UTC>-<sequence %06d>/ holding etcd.backup.gz (the gzipped snapshot, sha256 trailer included) and
// _etcd_backup.meta (BackupInfo as JSON), written last; control/ beside them holds the cluster's control files.
const (
	etcdManagerData    = "etcd.backup.gz"
	etcdManagerMeta    = "_etcd_backup.meta"
	etcdManagerControl = "control"
	// MaxMetaBytes bounds what is read of a meta file: etcd-manager's are a few hundred bytes.
	MaxMetaBytes = 64 << 10
)

var etcdManagerFolder = regexp.MustCompile(`^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z)-(\d{6})$`)

// parseEtcdManager recognises <cluster>/<ts>-<seq>/etcd.backup.gz.
func parseEtcdManager(key string) (Snapshot, bool) {
	dir, base := path.Split(key)
	dir = strings.TrimSuffix(dir, "/")
	m := etcdManagerFolder.FindStringSubmatch(path.Base(dir))
	if base != etcdManagerData || m == nil {
		return Snapshot{}, false
	}
	ts, err := time.Parse(time.RFC3339, m[1])
	if err != nil {
		return Snapshot{}, false
	}
	return Snapshot{Key: key, Kind: Full, Dir: dir, Layout: EtcdManager, Time: ts.UTC(), Codec: format.Gzip, Compression: format.Gzip.String()}, true
}

// IsEtcdManagerMeta reports an etcd-manager backup's meta file, read at list for the etcd version.
func IsEtcdManagerMeta(key string) bool {
	return path.Base(key) == etcdManagerMeta && etcdManagerFolder.MatchString(path.Base(path.Dir(key)))
}

// isEtcdManagerControl reports a file in a cluster's control/ folder (etcd-cluster-spec, etcd-cluster-created).
func isEtcdManagerControl(key string) bool {
	return path.Base(path.Dir(key)) == etcdManagerControl
}

// ParseEtcdManagerMeta reads the etcd version from a _etcd_backup.meta ({"etcdVersion": ..., "timestamp": "<unix>"
// (quoted: protobuf JSON of an int64), "clusterSpec": {...}}). Not JSON, or no version, is an error.
func ParseEtcdManagerMeta(b []byte) (string, error) {
	var meta struct {
		EtcdVersion string `json:"etcdVersion"`
		Timestamp   string `json:"timestamp"`
	}
	if err := json.Unmarshal(b, &meta); err != nil {
		return "", fmt.Errorf("not etcd-manager backup metadata (JSON): %v", err)
	}
	if meta.EtcdVersion == "" {
		return "", fmt.Errorf("etcd-manager backup metadata names no etcdVersion")
	}
	return strings.TrimPrefix(meta.EtcdVersion, "v"), nil
}

// etcdManagerMetaKey is the meta file beside an etcd-manager backup.
func etcdManagerMetaKey(dataKey string) string { return path.Join(path.Dir(dataKey), etcdManagerMeta) }
