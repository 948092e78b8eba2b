package common

import (
	"errors"
	"fmt"
	"path/filepath"

	"github.com/etcd-dr/etcd-dr/engine/fault"
)

// Hint says, in the console's words (its keys and fields), what to do about a typed engine error; "" when there
// is nothing to add. The engine states facts; the CLI words the same errors with its flags (cmd/etcd-dr/hints.go).
func Hint(err error) string {
	var (
		target *fault.TargetExists
		gap    *fault.Gap
		enc    *fault.Encrypted
		etcd   *fault.EtcdUnreachable
	)
	switch {
	case errors.As(err, &target) && target.MoveAsideHelps:
		return fmt.Sprintf("set 'move aside' to yes (tab to it) to rename it to %s.broken-<time> first (nothing is deleted), or choose a new data dir", filepath.Base(target.Path))
	case errors.As(err, &target) && target.ReplaceHelps:
		return "the console never replaces files: choose another target path (e edits it)"
	case errors.As(err, &gap):
		return fmt.Sprintf("pick revision %d, the newest before the gap (p opens Pick)", gap.SafeRevision)
	case errors.As(err, &enc):
		return "quit (q) and start etcd-dr again with --identity FILE, an age identity that can read it"
	case errors.As(err, &etcd) && etcd.AuthFailed:
		return "etcd refused the user and password the console was started with: quit (q) and start it again with the right ones"
	case errors.As(err, &etcd):
		return "is etcd up? The endpoints are the ones the console was started with: quit (q) to start it again with others"
	}
	return ""
}

// Worded is err as the console shows it: the engine's message, then the console's hint.
func Worded(err error) error {
	if h := Hint(err); h != "" {
		return fmt.Errorf("%w — %s", err, h)
	}
	return err
}
