package catalog

import (
	"fmt"
	"path"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/etcd-dr/etcd-dr/engine/format"
	"github.com/etcd-dr/etcd-dr/store"
)

// Other tools' backups ("in the wild"): each object is one plain etcd snapshot (db + sha256 trailer) whose name
// carries at most a time and a node, never the revision; the revision and storage version are read from the db
// itself (probe.go). The naming rules come from each tool's source, cited in testdata/README.md.

// k3s/rke2 (pkg/etcd/snapshot.go): <snapshot name>-<node name>-<unix seconds>[.zip], the snapshot name being
// "etcd-snapshot" for scheduled ones and "on-demand" for `etcd-snapshot save` without --name.
var k3sName = regexp.MustCompile(`^(etcd-snapshot|on-demand)-(.+)-(\d{9,11})(\.zip)?$`)

// k3s keeps a JSON record per snapshot in <folder>/.metadata/<snapshot file>: a companion, not a backup.
const k3sMetadataDir = ".metadata"

// OpenShift cluster-backup.sh: snapshot_<date +%F_%H%M%S>.db, marked __POSSIBLY_DIRTY__ before .db when the
// script could not confirm the cluster was healthy, next to static_kuberesources_<same>.tar.gz.
var (
	openshiftName      = regexp.MustCompile(`^snapshot_(\d{4}-\d{2}-\d{2}_\d{6})(__POSSIBLY_DIRTY__)?\.db$`)
	openshiftResources = regexp.MustCompile(`^static_kuberesources_\d{4}-\d{2}-\d{2}_\d{6}\.tar\.gz$`)
)

const openshiftTime = "2006-01-02_150405"

// parseWildName recognises a k3s/rke2 or OpenShift snapshot by its key. The revision stays 0: only the db knows it.
func parseWildName(key string) (Snapshot, bool) {
	if s, ok := parseEtcdManager(key); ok {
		return s, true
	}
	if s, ok := parseTalos(key); ok {
		return s, true
	}
	dir, base := path.Split(key)
	dir = strings.TrimSuffix(dir, "/")
	s := Snapshot{Key: key, Kind: Full, Dir: dir, Codec: format.None, Compression: format.None.String()}
	if m := k3sName.FindStringSubmatch(base); m != nil {
		ts, err := strconv.ParseInt(m[3], 10, 64)
		if err != nil {
			return Snapshot{}, false
		}
		s.Layout, s.Node, s.Time = K3s, m[2], time.Unix(ts, 0).UTC()
		if m[4] != "" {
			s.Codec, s.Compression = format.Zip, format.Zip.String()
		}
		return s, true
	}
	if m := openshiftName.FindStringSubmatch(base); m != nil {
		ts, err := time.Parse(openshiftTime, m[1])
		if err != nil {
			return Snapshot{}, false
		}
		s.Layout, s.Time = OpenShift, ts.UTC()
		if m[2] != "" {
			s.Warning = "cluster-backup.sh marked this snapshot __POSSIBLY_DIRTY__: it could not confirm the cluster was healthy when it took it; prefer a clean snapshot"
		}
		return s, true
	}
	return Snapshot{}, false
}

// Foreign reports a layout of another tool's plain snapshots: that tool prunes them, etcd-dr's gc never does.
func (l Layout) Foreign() bool {
	switch l {
	case PlainSnapshot, K3s, RKE2, OpenShift, EtcdManager, Talos:
		return true
	}
	return false
}

// isCompanion reports files other tools keep beside their snapshots: known, never problems, never backups.
func isCompanion(key string) bool {
	base := path.Base(key)
	return path.Base(path.Dir(key)) == k3sMetadataDir || openshiftResources.MatchString(base) || IsEtcdManagerMeta(key) || isEtcdManagerControl(key)
}

// plainCandidate reports whether an object's size fits an etcd snapshot: whole bbolt pages (a multiple of 512)
// and the 32-byte sha256 trailer, and at least bbolt's four initial pages of the smallest page size.
func plainCandidate(size int64) bool {
	return size >= 4*512+format.TrailerSize && size%512 == format.TrailerSize
}

// wildObject turns an object no etcd-backup-restore/operator name explains into a snapshot of another tool, a
// known companion, or a problem. known=false leaves it to the "not recognised" problem.
func wildObject(o store.Object, probed map[string]Probe) (snap *Snapshot, known bool, problem string) {
	if IsEtcdManagerMeta(o.Key) {
		if p, ok := probed[o.Key]; ok && p.NotSnapshot {
			return nil, true, p.Why // not JSON: the backup beside it lists without a version
		}
		return nil, true, ""
	}
	if isCompanion(o.Key) {
		return nil, true, ""
	}
	s, named := parseWildName(o.Key)
	p, read := probed[o.Key]
	switch {
	case named && o.Size == 0:
		return nil, true, "empty object (0 bytes): an interrupted upload; not restorable"
	case named && s.Encrypted:
		// Unreadable without the identity: listed, its revision read at pick (which needs the identity).
		s.Size, s.RevisionOnDemand = o.Size, true
		return &s, true, ""
	case read && p.Err != nil:
		return nil, true, fmt.Sprintf("could not read it to tell whether it is an etcd snapshot: %v", p.Err)
	case named && (!read || p.NotSnapshot):
		why := "it is not a whole etcd snapshot (its size is not bbolt pages plus the 32-byte sha256 trailer)"
		if s.Codec != format.None {
			why = "it is empty"
		}
		if read {
			why = p.Why
		}
		return nil, true, fmt.Sprintf("named like a %s snapshot but %s", s.Layout, why)
	case !read || p.NotSnapshot:
		return nil, false, ""
	}
	if !named {
		s = Snapshot{Key: o.Key, Kind: Full, Dir: parent(o.Key), Codec: format.None, Compression: format.None.String(), Layout: PlainSnapshot, Time: o.ModTime.UTC()}
	}
	if p.OnDemand {
		s.Codec = CompressedCodec(o.Key)
		s.Compression = s.Codec.String()
		s.RevisionOnDemand = true
	}
	s.Size = o.Size
	s.StartRevision, s.EndRevision = p.Revision, p.Revision
	s.EtcdVersion = p.StorageVersion
	if s.Layout == EtcdManager && s.EtcdVersion == "" {
		s.EtcdVersion = probed[etcdManagerMetaKey(o.Key)].EtcdVersion
	}
	applyK3sMetadata(&s, o.Metadata)
	return &s, true, ""
}

// companionsOf are the keys a tool writes beside a snapshot of its layout.
func companionsOf(s Snapshot) []string {
	dir, base := path.Split(s.Key)
	switch s.Layout {
	case K3s, RKE2:
		return []string{dir + k3sMetadataDir + "/" + base}
	case OpenShift:
		if m := openshiftName.FindStringSubmatch(base); m != nil {
			return []string{dir + "static_kuberesources_" + m[1] + ".tar.gz"}
		}
	case EtcdManager:
		return []string{etcdManagerMetaKey(s.Key)}
	}
	return nil
}

// attachCompanions records, on each snapshot of another tool, the companions of it that the store holds.
func attachCompanions(cat *Catalog, objs []store.Object) {
	listed := map[string]bool{}
	for _, o := range objs {
		if isCompanion(o.Key) {
			listed[o.Key] = true
		}
	}
	if len(listed) == 0 {
		return
	}
	for i := range cat.Chains {
		b := &cat.Chains[i].Base
		for _, k := range companionsOf(*b) {
			if listed[k] {
				b.Companions = append(b.Companions, k)
			}
		}
	}
}

// CompanionNotes says where the files a tool kept beside a restored snapshot are, and what they are for.
func CompanionNotes(s Snapshot, storeURL string) []string {
	var out []string
	for _, k := range s.Companions {
		what := "kept beside it by " + string(s.Layout)
		switch {
		case openshiftResources.MatchString(path.Base(k)):
			what = "the static pod resources of this OpenShift backup: cluster-restore.sh puts them back into /etc/kubernetes/static-pod-resources on the recovery host with the snapshot"
		case path.Base(path.Dir(k)) == k3sMetadataDir:
			what = "k3s's record of this snapshot (node, status, S3 location)"
		case IsEtcdManagerMeta(k):
			what = "etcd-manager's record of this backup (etcd version, cluster spec)"
		}
		out = append(out, fmt.Sprintf("%s (in %s): %s", k, storeURL, what))
	}
	return out
}
