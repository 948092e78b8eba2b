package catalog

import (
	"fmt"
	"path"
	"regexp"
	"sort"
	"strings"

	"github.com/etcd-dr/etcd-dr/store"
)

// Composite chunks: etcd-backup-restore uploads a big snapshot as component objects and joins them into one
// object at "<snapshot>"; the catalog takes both names below for components (checked in its repository):
//   - GCS, pkg/snapstore/gcs_snapstore.go (Save, uploadComponent): "<snapshot>/%010d", then ComposerFrom into
//     "<snapshot>". Only v0.29.0 to v0.40.0, and only in their emulator mode (an "emulatorEnabled" file beside
//     GOOGLE_APPLICATION_CREDENTIALS, NewGCSSnapStore), write "<snapshot>.chunk/%010d" (chunkDirSuffix =
//     brtypes.ChunkDirSuffix, pkg/types/snapstore.go: for fake-gcs-server, fsouza/fake-gcs-server#1434);
//     v0.41.0 dropped the suffix.
//   - Swift, pkg/snapstore/swift_snapstore.go (uploadComponent, ~line 433): segments "<snapshot>/%010d" plus a
//     DLO manifest object at "<snapshot>" (ObjectManifest) — the same rule.
// It leaves the components behind until its garbage collector (GarbageCollectChunks) removes them. Components
// whose composite exists are leftovers, noted on its chain; components without it are an upload that never
// finished, a problem naming them.

// chunkDirSuffix is what etcd-backup-restore v0.29.0 to v0.40.0 append to the components' folder on a GCS
// emulator (never on real GCS).
const chunkDirSuffix = ".chunk"

// chunkName is a component's name: the part number, zero-padded to ten digits.
var chunkName = regexp.MustCompile(`^[0-9]{10}$`)

// chunkGroup is the components of one composite snapshot.
type chunkGroup struct {
	composite string   // the snapshot key they compose into
	folder    string   // their folder, with a trailing "/"
	keys      []string // sorted
}

// chunkOf reports the composite snapshot key of a component key, if key is one.
func chunkOf(key string) (composite string, ok bool) {
	dir, base := path.Split(key)
	if !chunkName.MatchString(base) || dir == "" {
		return "", false
	}
	composite = strings.TrimSuffix(strings.TrimSuffix(dir, "/"), chunkDirSuffix)
	if _, ok := ParseName(composite); !ok {
		return "", false
	}
	return composite, true
}

// splitChunks takes the components of composite snapshots out of objs, grouped by composite; present holds
// every listed key.
func splitChunks(objs []store.Object) (rest []store.Object, groups []chunkGroup, present map[string]bool) {
	byComposite := map[string]*chunkGroup{}
	present = make(map[string]bool, len(objs))
	for _, o := range objs {
		present[o.Key] = true
		k := o.Key
		c, ok := chunkOf(k)
		if !ok {
			rest = append(rest, o)
			continue
		}
		g := byComposite[c]
		if g == nil {
			g = &chunkGroup{composite: c, folder: path.Dir(k) + "/"}
			byComposite[c] = g
		}
		g.keys = append(g.keys, k)
	}
	for _, g := range byComposite {
		sort.Strings(g.keys)
		groups = append(groups, *g)
	}
	sort.Slice(groups, func(i, j int) bool { return groups[i].composite < groups[j].composite })
	return rest, groups, present
}

// attachChunks notes leftover components on the chain that holds their composite, and makes components
// without a composite a problem naming them. present holds every listed key.
func attachChunks(cat *Catalog, groups []chunkGroup, present map[string]bool) {
	for _, g := range groups {
		if !present[g.composite] {
			cat.Problems = append(cat.Problems, Problem{
				Object:  g.folder,
				What:    fmt.Sprintf("%s of an etcd-backup-restore upload that was never composed into %s: the upload did not finish; not restorable (delete them once no backup-restore runs, or let its garbage collection do it)", countChunks(g), g.composite),
				Cluster: problemCluster(g.composite),
			})
			continue
		}
		note := fmt.Sprintf("%d leftover chunks of %s in %s (the composed snapshot is whole; etcd-backup-restore's garbage collection removes them)", len(g.keys), path.Base(g.composite), g.folder)
		if ch := chainHolding(cat, g.composite); ch != nil {
			ch.Notes = append(ch.Notes, note)
			continue
		}
		if p := problemOf(cat, g.composite); p != nil {
			// The composite is itself a problem (an empty object, say): say where its components are.
			p.What += fmt.Sprintf("; %d leftover chunks of its upload in %s", len(g.keys), g.folder)
			continue
		}
		// A delta skipped as already covered: the note goes to the newest chain of its folder.
		if ch := newestInDir(cat, path.Dir(g.composite)); ch != nil {
			ch.Notes = append(ch.Notes, note)
		}
	}
}

// chainHolding returns the chain whose base or one of whose deltas is key.
func chainHolding(cat *Catalog, key string) *Chain {
	for i := range cat.Chains {
		for _, s := range cat.Chains[i].Objects() {
			if s.Key == key {
				return &cat.Chains[i]
			}
		}
	}
	return nil
}

func problemOf(cat *Catalog, key string) *Problem {
	for i := range cat.Problems {
		if cat.Problems[i].Object == key {
			return &cat.Problems[i]
		}
	}
	return nil
}

func newestInDir(cat *Catalog, dir string) *Chain {
	var best *Chain
	for i := range cat.Chains {
		ch := &cat.Chains[i]
		if path.Dir(ch.Base.Key) == dir && (best == nil || ch.EndRevision > best.EndRevision) {
			best = ch
		}
	}
	return best
}

// countChunks names a group's components: all of them when few, else the first and last.
func countChunks(g chunkGroup) string {
	if len(g.keys) == 1 {
		return "1 chunk (" + g.keys[0] + ")"
	}
	if len(g.keys) <= 3 {
		return fmt.Sprintf("%d chunks (%s)", len(g.keys), strings.Join(g.keys, ", "))
	}
	return fmt.Sprintf("%d chunks (%s … %s)", len(g.keys), g.keys[0], g.keys[len(g.keys)-1])
}
