package catalog

import (
	"path"
	"testing"

	"github.com/etcd-dr/etcd-dr/engine/format"
	"github.com/etcd-dr/etcd-dr/store"
)

func TestWildNames(t *testing.T) {
	cases := []struct {
		key    string
		ok     bool
		layout Layout
		node   string
		dirty  bool
	}{
		{"k3s/etcd-snapshot-server-0-1700000000", true, K3s, "server-0", false},
		{"on-demand-ip-10-0-0-1.ec2.internal-1700000000.zip", true, K3s, "ip-10-0-0-1.ec2.internal", false},
		{"etcd-snapshot-1700000000", false, "", "", false}, // no node
		{"backup/snapshot_2024-01-02_150405.db", true, OpenShift, "", false},
		{"snapshot_2024-01-02_150405__POSSIBLY_DIRTY__.db", true, OpenShift, "", true},
		{"snapshot_2024-13-02_150405.db", false, "", "", false}, // month 13
		{"snapshot.db", false, "", "", false},
		{"talos-prod/talos-prod-2026-11-30T10:00:00+02:00.snap.age", true, Talos, "", false},
		{"prod-2026-11-30T10:00:00Z.snap", true, Talos, "", false},
		{"prod-2026-11-30T10:00:00Z.snap.zst", true, Talos, "", false},
		{"prod-2026-11-30T10:00:00Z.snap.zst.age", true, Talos, "", false},
		{"prod-2026-11-30T10:00:00Z.snap.age.zst", false, "", "", false}, // talos-backup compresses before it encrypts
	}
	for _, c := range cases {
		s, ok := parseWildName(c.key)
		if ok != c.ok || s.Layout != c.layout || s.Node != c.node || (s.Warning != "") != c.dirty {
			t.Errorf("parseWildName(%q) = %+v, %v", c.key, s, ok)
		}
	}
	// talos-backup's zstd (compression enabled) sits inside its age layer: decrypted first, then decompressed.
	for key, want := range map[string]struct {
		codec     format.Compression
		encrypted bool
	}{
		"p-2026-11-30T10:00:00Z.snap":         {format.None, false},
		"p-2026-11-30T10:00:00Z.snap.age":     {format.None, true},
		"p-2026-11-30T10:00:00Z.snap.zst":     {format.Zstd, false},
		"p-2026-11-30T10:00:00Z.snap.zst.age": {format.Zstd, true},
	} {
		s, _ := parseWildName(key)
		if s.Codec != want.codec || s.Encrypted != want.encrypted || s.Compression != want.codec.String() {
			t.Errorf("parseWildName(%q): codec %v encrypted %v, want %v %v", key, s.Codec, s.Encrypted, want.codec, want.encrypted)
		}
	}
	if !isCompanion("k3s/.metadata/etcd-snapshot-a-1700000000") || !isCompanion("static_kuberesources_2024-01-02_150405.tar.gz") || isCompanion("k3s/etcd-snapshot-a-1700000000") {
		t.Error("companions misjudged")
	}
}

// FuzzWildName: any key parses or not without a panic; what parses is a full snapshot of a wild layout in the
// key's folder, and its companions are never snapshots.
func FuzzWildName(f *testing.F) {
	for _, k := range []string{"etcd-snapshot-n-1700000000", "on-demand-a-b-1700000000.zip", "snapshot_2024-01-02_150405__POSSIBLY_DIRTY__.db", "x/.metadata/y", "static_kuberesources_2024-01-02_150405.tar.gz", "talos-prod-2026-11-30T10:00:00+02:00.snap.age", "t-2026-11-30T10:00:00Z.snap.zst.age", "main/2026-11-30T10:00:00Z-000001/etcd.backup.gz"} {
		f.Add(k, int64(16416))
	}
	f.Fuzz(func(t *testing.T, key string, size int64) {
		s, ok := parseWildName(key)
		if ok {
			if s.Kind != Full || s.Key != key || s.EndRevision != 0 || !s.Layout.Foreign() {
				t.Fatalf("parseWildName(%q) = %+v", key, s)
			}
			if d := path.Dir(key); d != "." && s.Dir != d {
				t.Fatalf("dir %q, want %q", s.Dir, d)
			}
		}
		snap, known, _ := wildObject(store.Object{Key: key, Size: size}, nil)
		if snap != nil && !(snap.Encrypted && snap.RevisionOnDemand && snap.EndRevision == 0) {
			// Only an encrypted snapshot is listed unread, and then without a revision.
			t.Fatalf("a snapshot without reading it: %+v", snap)
		}
		if ok && !known {
			t.Fatalf("%q parses but is not known", key)
		}
	})
}

// FuzzEtcdManagerMeta: any bytes give a version or an error, never a panic; a version is never empty.
func FuzzEtcdManagerMeta(f *testing.F) {
	f.Add([]byte(`{"etcdVersion":"3.5.21","timestamp":"1700000000","clusterSpec":{"memberCount":3,"etcdVersion":"3.5.21"}}`))
	f.Add([]byte(`{"etcdVersion":""}`))
	f.Add([]byte(`{not json`))
	f.Add([]byte(`{"timestamp":1700000000}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		v, err := ParseEtcdManagerMeta(b)
		if err == nil && v == "" {
			t.Fatalf("no error and no version from %q", b)
		}
	})
}

func TestEtcdManagerNames(t *testing.T) {
	s, ok := parseEtcdManager("kops/backups/etcd/main/2026-11-30T10:00:00Z-000001/etcd.backup.gz")
	if !ok || s.Layout != EtcdManager || ClusterOf(s.Dir, s.Layout) != "kops/backups/etcd/main" || s.Time.Unix() != 1796032800 {
		t.Fatalf("parseEtcdManager = %+v, %v", s, ok)
	}
	for _, k := range []string{"2026-11-30T10:00:00Z-1/etcd.backup.gz", "2026-11-30T10:00:00Z-000001/etcd.backup", "x/etcd.backup.gz"} {
		if _, ok := parseEtcdManager(k); ok {
			t.Errorf("%q parsed", k)
		}
	}
	if !isCompanion("main/control/etcd-cluster-spec") || !IsEtcdManagerMeta("main/2026-11-30T10:00:00Z-000001/_etcd_backup.meta") || IsEtcdManagerMeta("main/_etcd_backup.meta") {
		t.Error("etcd-manager companions misjudged")
	}
}
