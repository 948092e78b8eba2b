// Package catalog recognises backup objects in a store and groups them into chains: one full snapshot followed by
// the delta snapshots that continue it, with gaps and overlaps found and reported.
package catalog

import (
	"errors"
	"fmt"
	"path"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/etcd-dr/etcd-dr/engine/format"
	"github.com/etcd-dr/etcd-dr/store"
)

// Metadata keys etcd-dr writes on its objects (gocloud lower-cases metadata keys).
const (
	MetaEtcdDR        = "etcd-dr"        // etcd-dr version that wrote the object
	MetaEtcdVersion   = "etcd-version"   // etcd server version the snapshot came from
	MetaStartRevision = "start-revision" // first revision held
	MetaEndRevision   = "end-revision"   // last revision held
	MetaSHA256        = "sha256"         // hex sha256 of the stored bytes
	MetaContentSize   = "content-size"   // bytes before compression/encryption
	MembersDir        = "members"        // heartbeats live in <prefix>/members/<name>.json
	ControlDir        = "control"        // small control objects (the sidecars' recorded restore pick) in <prefix>/control/
	// MetaExclude is etcd-backup-restore's brtypes.ExcludeSnapshotMetadataKey: "true" marks a snapshot its
	// restore must not use. It writes it as GCS object metadata (gcs_snapstore.go); read here from the metadata
	// Load already fetches for full snapshots. The S3 tag and Azure blob-tag forms cost a request each: pick reads
	// them for its candidates, list through Repo.ReadExcludeTags.
	MetaExclude = "x-etcd-snapshot-exclude"
)

// ErrUnverifiable marks a snapshot whose content cannot be read to verify its name (encrypted, no key given).
var ErrUnverifiable = errors.New("snapshot cannot be verified")

// Snapshot is one backup object as the catalog understands it.
type Snapshot struct {
	Key           string    `json:"key"`
	Kind          Kind      `json:"kind"`
	StartRevision int64     `json:"startRevision"`
	EndRevision   int64     `json:"endRevision"`
	EtcdVersion   string    `json:"etcdVersion"`
	Size          int64     `json:"size"`
	Time          time.Time `json:"time"`
	Compression   string    `json:"compression"`
	Encrypted     bool      `json:"encrypted"`
	Final         bool      `json:"final,omitempty"`
	// RecordedRevision is the end revision etcd-dr recorded in the object's metadata when it wrote it, having
	// checked it against the db (0 when not written by etcd-dr): the only check of an encrypted snapshot without
	// its key.
	RecordedRevision int64 `json:"-"`
	// Empty is a delta known to hold no events (zero bytes, or an empty array): its revisions are a gap.
	Empty bool `json:"empty,omitempty"`
	// Excluded says why the snapshot is shown but never picked (etcd-backup-restore's exclude mark), "" if not.
	Excluded string `json:"excluded,omitempty"`
	SHA256   string `json:"sha256,omitempty"`
	// Node is the node that wrote a k3s/rke2 snapshot; Warning is what an SRE should know before using it.
	Node    string `json:"node,omitempty"`
	Warning string `json:"warning,omitempty"`
	// ClusterID is the k3s/rke2 cluster id from the object's S3 user metadata: the cluster is "<folder>@<id>".
	ClusterID string `json:"clusterId,omitempty"`
	// RevisionOnDemand is a compressed snapshot of another tool: its revision is read (streamed) only when pick
	// needs it, never to list; until then the revisions are 0.
	RevisionOnDemand bool `json:"revisionOnDemand,omitempty"`
	// Companions are the files its tool keeps beside it (k3s .metadata record, OpenShift static pod resources,
	// etcd-manager meta): part of the restore point, not backups themselves.
	Companions []string `json:"companions,omitempty"`

	Layout Layout             `json:"-"`
	Dir    string             `json:"-"`
	Codec  format.Compression `json:"-"`
}

// Gap is a run of revisions no object holds, between two deltas of one chain (inclusive).
type Gap struct {
	From int64 `json:"from"`
	To   int64 `json:"to"`
	// Object is the empty delta that names these revisions but holds none of them ("" for a plain gap).
	Object string `json:"object,omitempty"`
}

// Describe says what is missing, in words shared by list, validate, pick and restore.
func (g Gap) Describe() string {
	if g.Object != "" {
		return fmt.Sprintf("delta %s is empty (it holds no events: an interrupted or failed upload), so revisions %d-%d are in no object", g.Object, g.From, g.To)
	}
	return fmt.Sprintf("revisions %d-%d are in no object", g.From, g.To)
}

// Chain is a full snapshot and the deltas that continue it, in apply order.
type Chain struct {
	// Cluster is the store-relative folder of the cluster the chain belongs to ("" = the store itself).
	Cluster string     `json:"cluster"`
	Layout  Layout     `json:"layout"`
	Base    Snapshot   `json:"base"`
	Deltas  []Snapshot `json:"deltas"`
	// EndRevision is the last revision any object of the chain holds.
	EndRevision int64 `json:"endRevision"`
	// RestorableRevision is the last revision reachable without crossing a gap.
	RestorableRevision int64    `json:"restorableRevision"`
	Gaps               []Gap    `json:"gaps"`
	Problems           []string `json:"problems"`
	// Notes are things handled safely that an SRE may still want to know (trimmed overlaps, skipped duplicates).
	Notes []string `json:"notes,omitempty"`
}

// Problem is an object the catalog could not use, and why.
type Problem struct {
	Object string `json:"object"`
	What   string `json:"what"`
	// Cluster is the cluster folder the object sits in, as far as its folder tells.
	Cluster string `json:"cluster,omitempty"`
}

// Catalog is everything found in one store.
type Catalog struct {
	Store    string    `json:"store"`
	Chains   []Chain   `json:"chains"`
	Problems []Problem `json:"problems"`
	// Heartbeats are the keys under members/ (decoded by the members package).
	Heartbeats []store.Object `json:"-"`
}

// Newest returns the chain with the highest end revision, or nil.
func (c *Catalog) Newest() *Chain {
	var best *Chain
	for i := range c.Chains {
		if best == nil || c.Chains[i].EndRevision > best.EndRevision {
			best = &c.Chains[i]
		}
	}
	return best
}

// Objects returns the chain's objects in apply order: base, then deltas.
func (ch *Chain) Objects() []Snapshot {
	return append([]Snapshot{ch.Base}, ch.Deltas...)
}

// Build groups listed objects into chains. It never fails: what it cannot use becomes a problem.
func Build(storeURL string, objs []store.Object) *Catalog { return build(storeURL, objs, nil) }

// build is Build with what reading the contents of objects no name explains found (probe.go).
func build(storeURL string, objs []store.Object, probed map[string]Probe) *Catalog {
	cat := &Catalog{Store: storeURL, Chains: []Chain{}, Problems: []Problem{}}
	groups := map[string][]Snapshot{} // folder -> etcd-backup-restore style snapshots
	objs, chunks, present := splitChunks(objs)
	for _, o := range objs {
		if IsHeartbeat(o.Key) {
			cat.Heartbeats = append(cat.Heartbeats, o)
			continue
		}
		if IsControl(o.Key) {
			continue
		}
		s, ok := ParseName(o.Key)
		if !ok {
			if wild, known, what := wildObject(o, probed); known {
				if what != "" {
					cat.Problems = append(cat.Problems, Problem{Object: o.Key, What: what})
				} else if wild != nil {
					cat.Chains = append(cat.Chains, newChain(*wild))
				}
				continue
			}
			cat.Problems = append(cat.Problems, Problem{Object: o.Key, What: whyUnrecognised(o.Key)})
			continue
		}
		s.Size = o.Size
		if s.Layout == Operator {
			s.Time = o.ModTime.UTC()
		}
		applyMetadata(&s, o.Metadata)
		if s.Kind == Delta && s.Layout != Operator && (o.Size == 0 || (s.Codec == format.None && !s.Encrypted && o.Size <= maxEmptyDeltaSize)) {
			// Part of its chain, as a gap that names it: dropping it would end the chain silently before it.
			s.Empty = true
			groups[s.Dir] = append(groups[s.Dir], s)
			continue
		}
		if o.Size == 0 {
			cat.Problems = append(cat.Problems, Problem{Object: o.Key, What: "empty object (0 bytes): an interrupted upload; not restorable"})
			continue
		}
		if s.Layout == Operator {
			cat.Chains = append(cat.Chains, newChain(s))
			continue
		}
		groups[s.Dir] = append(groups[s.Dir], s)
	}
	dirs := make([]string, 0, len(groups))
	for d := range groups {
		dirs = append(dirs, d)
	}
	sort.Strings(dirs)
	for _, d := range dirs {
		chains, problems := chainFolder(groups[d])
		cat.Chains = append(cat.Chains, chains...)
		cat.Problems = append(cat.Problems, problems...)
	}
	for i := range cat.Chains {
		cat.Chains[i].Cluster = clusterOfChain(cat.Chains[i])
	}
	attachCompanions(cat, objs)
	for i := range cat.Problems {
		cat.Problems[i].Cluster = problemCluster(cat.Problems[i].Object)
	}
	attachChunks(cat, chunks, present)
	sort.SliceStable(cat.Chains, func(i, j int) bool {
		a, b := cat.Chains[i], cat.Chains[j]
		if a.Cluster != b.Cluster {
			return a.Cluster < b.Cluster
		}
		if a.Base.EndRevision != b.Base.EndRevision {
			return a.Base.EndRevision < b.Base.EndRevision
		}
		return a.Base.Time.Before(b.Base.Time)
	})
	return cat
}

// applyMetadata takes what etcd-dr (or another writer) recorded beside the object.
func applyMetadata(s *Snapshot, md map[string]string) {
	if md == nil {
		return
	}
	if v := md[MetaEtcdVersion]; v != "" && s.EtcdVersion == "" {
		s.EtcdVersion = v
	}
	if strings.EqualFold(md[MetaExclude], "true") {
		s.Excluded = MetaExclude + "=true is set on it (etcd-backup-restore marks snapshots its restore must skip)"
	}
	if v := md[MetaSHA256]; v != "" {
		s.SHA256 = v
	}
	if md[MetaEtcdDR] != "" && s.Layout != Operator {
		s.Layout = EtcdDR
	}
	if md[MetaEtcdDR] != "" {
		if r, err := strconv.ParseInt(md[MetaEndRevision], 10, 64); err == nil {
			s.RecordedRevision = r
		}
	}
}

func newChain(base Snapshot) Chain {
	return Chain{
		Layout:             base.Layout,
		Base:               base,
		Deltas:             []Snapshot{},
		EndRevision:        base.EndRevision,
		RestorableRevision: base.EndRevision,
		Gaps:               []Gap{},
		Problems:           []string{},
	}
}

// chainFolder builds the chains of one folder of etcd-backup-restore style objects.
func chainFolder(snaps []Snapshot) ([]Chain, []Problem) {
	var fulls, deltas []Snapshot
	for _, s := range snaps {
		if s.Kind == Full {
			fulls = append(fulls, s)
		} else {
			deltas = append(deltas, s)
		}
	}
	sort.SliceStable(fulls, func(i, j int) bool {
		if fulls[i].EndRevision != fulls[j].EndRevision {
			return fulls[i].EndRevision < fulls[j].EndRevision
		}
		return fulls[i].Time.Before(fulls[j].Time)
	})
	sort.SliceStable(deltas, func(i, j int) bool {
		if deltas[i].StartRevision != deltas[j].StartRevision {
			return deltas[i].StartRevision < deltas[j].StartRevision
		}
		return deltas[i].EndRevision > deltas[j].EndRevision // the wider of two same-start deltas first
	})
	chains := make([]Chain, len(fulls))
	for i, f := range fulls {
		chains[i] = newChain(f)
		if i+1 < len(fulls) && fulls[i+1].EndRevision == f.EndRevision {
			chains[i].Notes = append(chains[i].Notes, fmt.Sprintf("%s holds the same revision as %s; the newer one collects the deltas", path.Base(f.Key), path.Base(fulls[i+1].Key)))
		}
	}
	var problems []Problem
	for _, d := range deltas {
		// A delta continues the newest full snapshot that ends before the delta does.
		idx := sort.Search(len(fulls), func(i int) bool { return fulls[i].EndRevision >= d.EndRevision }) - 1
		if idx < 0 {
			problems = append(problems, Problem{Object: d.Key, What: fmt.Sprintf("delta of revisions %d-%d has no full snapshot before it in %s; it cannot be restored", d.StartRevision, d.EndRevision, folderName(d.Dir))})
			continue
		}
		chains[idx].Deltas = append(chains[idx].Deltas, d)
	}
	for i := range chains {
		linkDeltas(&chains[i])
	}
	return chains, problems
}

// maxEmptyDeltaSize is the size of the largest plain delta that can hold no event: "null" and its sha256.
const maxEmptyDeltaSize = 4 + format.TrailerSize

// linkDeltas walks a chain's deltas in order: finds gaps, trims overlaps, drops deltas already covered.
func linkDeltas(ch *Chain) {
	prev := ch.Base.EndRevision
	kept := ch.Deltas[:0]
	for _, d := range ch.Deltas {
		switch {
		case d.EndRevision <= prev:
			ch.Notes = append(ch.Notes, fmt.Sprintf("%s (revisions %d-%d) is already covered up to %d; skipped", path.Base(d.Key), d.StartRevision, d.EndRevision, prev))
			continue
		case d.StartRevision > prev+1:
			ch.Gaps = append(ch.Gaps, Gap{From: prev + 1, To: d.StartRevision - 1})
		case d.StartRevision <= prev:
			ch.Notes = append(ch.Notes, fmt.Sprintf("%s overlaps the previous object at revisions %d-%d; those revisions are applied once, from the earlier object", path.Base(d.Key), d.StartRevision, prev))
		}
		if d.Empty {
			ch.Gaps = append(ch.Gaps, Gap{From: max(prev+1, d.StartRevision), To: d.EndRevision, Object: d.Key})
		}
		kept = append(kept, d)
		prev = d.EndRevision
	}
	ch.Deltas = kept
	ch.EndRevision = prev
	ch.settle()
}

// settle derives the restorable revision and the gap problems from the gaps.
func (ch *Chain) settle() {
	sort.SliceStable(ch.Gaps, func(i, j int) bool { return ch.Gaps[i].From < ch.Gaps[j].From })
	ch.RestorableRevision = ch.EndRevision
	ch.Problems = []string{}
	if len(ch.Gaps) > 0 {
		ch.RestorableRevision = ch.Gaps[0].From - 1
		for _, g := range ch.Gaps {
			ch.Problems = append(ch.Problems, fmt.Sprintf("gap: %s; the chain restores only up to revision %d", g.Describe(), ch.RestorableRevision))
		}
	}
}

// MarkEmpty records that the chain's delta key, found by reading it, holds no events: its revisions become a gap
// as for a delta known empty from its size (one rule for list, validate, pick and restore). It returns the gap,
// and false when key is not a delta of the chain.
func (ch *Chain) MarkEmpty(key string) (Gap, bool) {
	prev := ch.Base.EndRevision
	for i := range ch.Deltas {
		d := &ch.Deltas[i]
		if d.Key == key {
			g := Gap{From: max(prev+1, d.StartRevision), To: d.EndRevision, Object: d.Key}
			if !d.Empty {
				d.Empty = true
				ch.Gaps = append(ch.Gaps, g)
				ch.settle()
			}
			return g, true
		}
		prev = max(prev, d.EndRevision)
	}
	return Gap{}, false
}

func folderName(dir string) string {
	if dir == "" {
		return "the store root"
	}
	return dir + "/"
}
