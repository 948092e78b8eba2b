package fault

import (
	"fmt"
	"strings"
)

// Typed domain errors. Each belongs to one class (errors.Is(err, ErrRefused) etc. keeps the CLI's exit codes) and
// carries the facts a face needs to word its own hint: the CLI names its flags, the console its keys. Their
// messages name no flag.

// TargetExists: a restore or download target that must not be written (occupied, a file, locked by a running
// etcd, ...). Class: refused.
type TargetExists struct {
	Path string
	// What says why it cannot be used ("is not empty (it holds member)", "is locked by a running etcd").
	What string
	// MoveAsideHelps is true when moving the target aside first would let the restore go on.
	MoveAsideHelps bool
	// ReplaceHelps is true when allowing a replace (download) would let it go on.
	ReplaceHelps bool
}

func (e *TargetExists) Error() string {
	return fmt.Sprintf("%s %s; nothing was changed", e.Path, e.What)
}

func (e *TargetExists) Is(target error) bool { return target == ErrRefused }

// Gap: the revisions wanted lie at or after a gap in a chain. Class: problems.
type Gap struct {
	// Chain names the chain (its full snapshot's name); EndRevision is the last revision any of its objects holds.
	Chain       string
	EndRevision int64
	// From and To are the first and last revision of the gap; What describes it ("revisions 73-92 are in no
	// object", or the empty delta that holds none of them).
	From, To int64
	What     string
	// Revision is what was asked (0 = the newest; -1 = a restore that met the gap while replaying).
	Revision int64
	// SafeRevision is the newest revision before the gap, which restores.
	SafeRevision int64
}

func (e *Gap) Error() string {
	what := e.What
	if what == "" {
		what = fmt.Sprintf("revisions %d-%d are in no object", e.From, e.To)
	}
	switch {
	case e.Revision > 0:
		return fmt.Sprintf("revision %d lies at or after a gap in chain %s (%s); the newest revision before the gap is %d",
			e.Revision, e.Chain, what, e.SafeRevision)
	case e.Revision < 0:
		return fmt.Sprintf("%s; the chain restores only up to revision %d", what, e.SafeRevision)
	}
	return fmt.Sprintf("the newest chain (%s, up to revision %d) has a gap: %s; it restores only up to revision %d",
		e.Chain, e.EndRevision, what, e.SafeRevision)
}

func (e *Gap) Is(target error) bool { return target == ErrProblems }

// NoneCompatible: no backup fits the version or revision asked for. Class: nothing compatible.
type NoneCompatible struct {
	// What says what was looked for and what is nearest.
	What string
	// Refused counts the backups refused (the pick result lists them with why).
	Refused int
	// NeedsFull is true when a full snapshot would give what was asked (a delta with no chain to continue).
	NeedsFull bool
}

func (e *NoneCompatible) Error() string { return e.What }

func (e *NoneCompatible) Is(target error) bool { return target == ErrNothingCompatible }

// Ambiguous: a store that holds several clusters, and a job that must choose one. Class: refused.
type Ambiguous struct {
	Store    string
	Clusters []string
	// Below is true for a writer at a store whose one cluster sits in a folder below it.
	Below bool
}

func (e *Ambiguous) Error() string {
	if e.Below {
		return fmt.Sprintf("%s holds the backups of cluster %s in a folder below it; writing here would start a second cluster beside it: choose it",
			e.Store, strings.Join(e.Clusters, ", "))
	}
	return fmt.Sprintf("%s holds %d clusters (%s); revisions of different clusters are not comparable: choose one",
		e.Store, len(e.Clusters), strings.Join(e.Clusters, ", "))
}

func (e *Ambiguous) Is(target error) bool { return target == ErrRefused }

// Corrupt: an object whose bytes do not check out (hash, decoding, a name that lies about its content).
// Class: problems.
type Corrupt struct {
	Object string
	What   string
	// Err is the finding underneath (format.ErrTooBig, a checksum error, ...), for errors.Is; What says it in words.
	Err error
}

func (e *Corrupt) Error() string { return fmt.Sprintf("%s: %s", e.Object, e.What) }

func (e *Corrupt) Is(target error) bool { return target == ErrProblems }

func (e *Corrupt) Unwrap() error { return e.Err }

// InvalidDataDir: a data dir that validation found damaged or older than the store. Class: problems.
type InvalidDataDir struct {
	Path string
	What string
	// MoveAsideHelps is true when it can be moved aside and restored from the store.
	MoveAsideHelps bool
}

func (e *InvalidDataDir) Error() string {
	return fmt.Sprintf("data dir %s is not valid (%s)", e.Path, e.What)
}

func (e *InvalidDataDir) Is(target error) bool { return target == ErrProblems }

// Encrypted: an .age object and no identity to open it. Class: refused.
type Encrypted struct{ Object string }

func (e *Encrypted) Error() string {
	return fmt.Sprintf("object %s is encrypted (.age) and no age identity that can read it was given", e.Object)
}

func (e *Encrypted) Is(target error) bool { return target == ErrRefused }

// BadSetting: a setting of a request that cannot be used, refused before anything changes. Setting names the
// request field in plain words ("endpoints", "data dir"), which each face maps to its own control (the CLI to its
// flag, see cmd/etcd-dr/hints.go); the engine never names a flag. Class: refused.
type BadSetting struct {
	Setting string
	// Value is what was given ("" when nothing was, or when the value itself says nothing).
	Value string
	What  string
}

func (e *BadSetting) Error() string {
	if e.Value != "" {
		return fmt.Sprintf("%s %q: %s", e.Setting, e.Value, e.What)
	}
	return e.Setting + " " + e.What
}

func (e *BadSetting) Is(target error) bool { return target == ErrRefused }

// Bad builds a BadSetting.
func Bad(setting, value, format string, args ...any) error {
	return &BadSetting{Setting: setting, Value: value, What: fmt.Sprintf(format, args...)}
}

// EtcdUnreachable: no connection to etcd at Endpoints (down, wrong address, TLS mismatch), or AuthFailed when etcd
// answered and refused the user and password. Class: failed (exit 1).
type EtcdUnreachable struct {
	Endpoints  []string
	AuthFailed bool
	Err        error
}

func (e *EtcdUnreachable) Error() string {
	return fmt.Sprintf("connect to etcd %s: %v", strings.Join(e.Endpoints, ","), e.Err)
}

func (e *EtcdUnreachable) Unwrap() error { return e.Err }
