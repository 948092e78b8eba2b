package catalog

import (
	"io/fs"
	"path"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/etcd-dr/etcd-dr/engine/format"
)

// FuzzParseName feeds object keys of every layout (the committed fixtures' keys, and hand-written edge cases)
// to ParseName. A recognised key keeps its key, folder and a sane revision range, and the name etcd-dr would
// write for what was parsed parses back to the same snapshot.
func FuzzParseName(f *testing.F) {
	root := filepath.Join("..", "..", "testdata", "stores")
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		_, key, _ := strings.Cut(filepath.ToSlash(rel), "/") // below the layout's folder, as a store lists it
		f.Add(key)
		return nil
	})
	if err != nil {
		f.Fatal(err)
	}
	for _, k := range []string{"v2/Full-00000000-00000022-1763900060.zst.final.age", "v2/Incr-1-2-3.age.final", "v2/Full-5-4-3",
		"v2/Full-1-2-3.final.final", "v2/Full-99999999999999999999-1-1", "v1/Backup-1/Incr-1-9223372036854775807-9223372036854775807.gz",
		"v1/c/v3.6.16_00000000000000d1_etcd.backup", "3.5.0-rc.1+meta_7fffffffffffffff_etcd.backup", "3.5.0_ffffffffffffffff_etcd.backup",
		"Full-1-2-3", "members/m0.json", "", "/", "a//Full-1-2-3"} {
		f.Add(k)
	}
	f.Fuzz(func(t *testing.T, key string) {
		s, ok := ParseName(key)
		if !ok {
			if !reflect.DeepEqual(s, Snapshot{}) {
				t.Fatalf("not recognised but returned %+v", s)
			}
			return
		}
		dir, base := path.Split(key)
		if s.Key != key || s.Dir != strings.TrimSuffix(dir, "/") {
			t.Fatalf("key %q dir %q, want %q %q", s.Key, s.Dir, key, strings.TrimSuffix(dir, "/"))
		}
		if s.StartRevision < 0 || s.EndRevision < s.StartRevision {
			t.Fatalf("revisions %d..%d", s.StartRevision, s.EndRevision)
		}
		if s.Kind != Full && s.Kind != Delta {
			t.Fatalf("kind %q", s.Kind)
		}
		if s.Compression != s.Codec.String() {
			t.Fatalf("compression %q, codec %q", s.Compression, s.Codec)
		}
		var again Snapshot
		switch s.Layout {
		case Operator:
			if s.Kind != Full || s.StartRevision != s.EndRevision || s.EtcdVersion == "" || s.Encrypted || s.Final {
				t.Fatalf("operator snapshot %+v", s)
			}
			again, ok = ParseName(join(s.Dir, OperatorName(s.EtcdVersion, s.EndRevision)))
		case EtcdBRv1, EtcdBRv2, EtcdDR:
			if s.EtcdVersion != "" {
				t.Fatalf("a version from an etcd-backup-restore name: %+v", s)
			}
			if (s.Layout == EtcdDR) != (s.Codec == format.Zstd || s.Encrypted) {
				t.Fatalf("layout %s with codec %s, encrypted %v", s.Layout, s.Codec, s.Encrypted)
			}
			if s.Layout == EtcdBRv1 && !strings.HasPrefix(path.Base(s.Dir), v1FolderStart) {
				t.Fatalf("v1 layout outside a %s folder: %q", v1FolderStart, key)
			}
			name := Name(s.Kind, s.StartRevision, s.EndRevision, s.Time, s.Codec, s.Final, s.Encrypted)
			if !strings.HasPrefix(base, string(name[0])) {
				t.Fatalf("name %q for %q", name, base)
			}
			again, ok = ParseName(join(s.Dir, name))
		default:
			t.Fatalf("layout %q", s.Layout)
		}
		if !ok {
			t.Fatalf("the name written for %q does not parse", key)
		}
		again.Key = s.Key
		if !again.Time.Equal(s.Time) {
			t.Fatalf("time %v -> %v", s.Time, again.Time)
		}
		again.Time = s.Time
		if !reflect.DeepEqual(again, s) {
			t.Fatalf("round trip of %q:\n %+v\n %+v", key, s, again)
		}
	})
}

// join puts a name in a folder as a store key, without cleaning the folder (keys may hold "//").
func join(dir, name string) string {
	if dir == "" {
		return name
	}
	return dir + "/" + name
}
