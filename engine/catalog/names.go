package catalog

import (
	"fmt"
	"path"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/etcd-dr/etcd-dr/engine/format"
)

// Kind is what a backup object holds.
type Kind string

// Kinds of backup objects.
const (
	Full  Kind = "full"
	Delta Kind = "delta"
)

// Layout names the tool and naming scheme that wrote an object.
type Layout string

// Layouts the catalog recognises.
const (
	EtcdBRv2 Layout = "etcdbr-v2" // etcd-backup-restore: <prefix>/v2/Full-...|Incr-...
	EtcdBRv1 Layout = "etcdbr-v1" // etcd-backup-restore: <prefix>/v1/Backup-<ts>/Full-...|Incr-...
	Operator Layout = "operator"  // etcd-operator: <prefix>/v1/<cluster>/<ver>_<16 hex>_etcd.backup
	EtcdDR   Layout = "etcd-dr"   // etcd-dr's own: etcd-backup-restore v2 names, marked in metadata
	// Layouts of other tools' plain snapshots (wild_*.go): each snapshot is its own chain, its revision read
	// from the db itself.
	PlainSnapshot Layout = "snapshot"     // any object whose bytes are an etcd snapshot (etcdctl snapshot save)
	K3s           Layout = "k3s"          // k3s: <etcd-snapshot|on-demand>-<node>-<unix>[.zip]
	RKE2          Layout = "rke2"         // rke2: as k3s, metadata keys rke2-*
	OpenShift     Layout = "openshift"    // cluster-backup.sh: snapshot_<YYYY-MM-DD_HHMMSS>.db
	EtcdManager   Layout = "etcd-manager" // kops: <cluster>/<RFC3339>-<6 digits>/etcd.backup.gz
	Talos         Layout = "talos"        // talos-backup: <cluster>-<RFC3339>.snap[.age]
)

// Suffixes and naming parts shared with writers.
const (
	FinalSuffix   = ".final"
	AgeSuffix     = ".age"
	OperatorTail  = "_etcd.backup"
	fullPrefix    = "Full"
	deltaPrefix   = "Incr"
	v1FolderStart = "Backup-"
)

// etcd-backup-restore: Kind-%08d-%08d-<unix>[compression][.final] (etcd-dr may add .zst and .age).
var brName = regexp.MustCompile(`^(Full|Incr)-(\d+)-(\d+)-(\d+)((?:\.gz|\.zlib|\.Z|\.zst)?)((?:\.final|\.age){0,2})$`)

// etcd-operator: <etcd version>_<revision as 16 hex digits>_etcd.backup.
var operatorName = regexp.MustCompile(`^v?(\d+\.\d+\.\d+[0-9A-Za-z.+-]*)_([0-9a-fA-F]{16})_etcd\.backup$`)

// v1 folder of etcd-backup-restore.
var v1Folder = regexp.MustCompile(`^Backup-\d+$`)

// ParseName recognises a backup object by its key (the name, plus the folder for the v1 layout).
// It reports ok=false for keys that are not backup objects.
func ParseName(key string) (Snapshot, bool) {
	dir, base := path.Split(key)
	dir = strings.TrimSuffix(dir, "/")
	if m := brName.FindStringSubmatch(base); m != nil {
		start, err1 := strconv.ParseInt(m[2], 10, 64)
		end, err2 := strconv.ParseInt(m[3], 10, 64)
		ts, err3 := strconv.ParseInt(m[4], 10, 64)
		if err1 != nil || err2 != nil || err3 != nil || end < start {
			return Snapshot{}, false
		}
		comp, _ := format.CompressionForSuffix(m[5])
		tail := m[6]
		if strings.Count(tail, FinalSuffix) > 1 || strings.Count(tail, AgeSuffix) > 1 {
			return Snapshot{}, false
		}
		s := Snapshot{
			Key:           key,
			Kind:          Full,
			StartRevision: start,
			EndRevision:   end,
			Time:          time.Unix(ts, 0).UTC(),
			Codec:         comp,
			Compression:   comp.String(),
			Encrypted:     strings.Contains(tail, AgeSuffix),
			Final:         strings.Contains(tail, FinalSuffix),
			Layout:        EtcdBRv2,
			Dir:           dir,
		}
		if m[1] == deltaPrefix {
			s.Kind = Delta
		}
		if v1Folder.MatchString(path.Base(dir)) {
			s.Layout = EtcdBRv1
		}
		if comp == format.Zstd || s.Encrypted {
			s.Layout = EtcdDR // only etcd-dr writes these
		}
		return s, true
	}
	if m := operatorName.FindStringSubmatch(base); m != nil {
		rev, err := strconv.ParseUint(m[2], 16, 63)
		if err != nil {
			return Snapshot{}, false
		}
		return Snapshot{
			Key:           key,
			Kind:          Full,
			StartRevision: int64(rev),
			EndRevision:   int64(rev),
			EtcdVersion:   m[1],
			Codec:         format.None,
			Compression:   format.None.String(),
			Layout:        Operator,
			Dir:           dir,
		}, true
	}
	return Snapshot{}, false
}

// Name returns the etcd-backup-restore v2 name etcd-dr writes for a snapshot.
func Name(kind Kind, start, end int64, created time.Time, comp format.Compression, final, encrypted bool) string {
	prefix := fullPrefix
	if kind == Delta {
		prefix = deltaPrefix
	}
	name := fmt.Sprintf("%s-%08d-%08d-%d%s", prefix, start, end, created.Unix(), comp.Suffix())
	if final {
		name += FinalSuffix
	}
	if encrypted {
		name += AgeSuffix
	}
	return name
}

// OperatorName returns the etcd-operator name of a snapshot of etcd version ver at revision rev.
func OperatorName(ver string, rev int64) string {
	return fmt.Sprintf("%s_%016x%s", ver, rev, OperatorTail)
}

// whyUnrecognised explains an object that is not a backup, for the problems list.
func whyUnrecognised(key string) string {
	base := path.Base(key)
	switch {
	case strings.HasSuffix(base, ".tmp"):
		return "incomplete upload left by an interrupted writer (not a backup; safe to delete after checking no writer runs)"
	case brName.MatchString(path.Base(path.Dir(key))) || strings.HasSuffix(path.Dir(key), ".chunk"):
		return "chunk of an unfinished multipart upload by etcd-backup-restore (not restorable on its own)"
	case strings.HasPrefix(base, fullPrefix+"-") || strings.HasPrefix(base, deltaPrefix+"-"):
		return "looks like an etcd-backup-restore snapshot but the name does not parse (want Full|Incr-<start>-<end>-<unix>[.gz|.zlib|.Z][.final])"
	case strings.HasSuffix(base, OperatorTail):
		return "looks like an etcd-operator backup but the name does not parse (want <version>_<16 hex digits>_etcd.backup)"
	}
	return "not a backup object etcd-dr recognises (expected Full-/Incr- snapshots or <version>_<revision hex>_etcd.backup)"
}
