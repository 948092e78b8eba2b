package common

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/etcd-dr/etcd-dr/engine/fault"
)

// The console words the engine's typed errors with its own controls; it names no CLI flag except where the only
// way is to start it again (an identity is given on the command line).
func TestHintWordsTypedErrorsWithKeys(t *testing.T) {
	cases := []struct {
		err  error
		want string
	}{
		{&fault.TargetExists{Path: "/var/lib/etcd", What: "is not empty (it holds member)", MoveAsideHelps: true}, "set 'move aside' to yes"},
		{&fault.TargetExists{Path: "/tmp/snap.db", What: "exists", ReplaceHelps: true}, "choose another target path (e edits it)"},
		{fmt.Errorf("pick: %w", &fault.Gap{Chain: "Full-1", From: 104, To: 113, SafeRevision: 103}), "pick revision 103"},
		{&fault.Encrypted{Object: "v2/Full.age"}, "start etcd-dr again with --identity FILE"},
		{&fault.EtcdUnreachable{Endpoints: []string{"http://127.0.0.1:1"}, AuthFailed: true, Err: errors.New("authentication failed")}, "refused the user and password"},
		{&fault.EtcdUnreachable{Endpoints: []string{"http://127.0.0.1:1"}, Err: errors.New("context deadline exceeded")}, "is etcd up?"},
	}
	for _, c := range cases {
		got := Worded(c.err)
		if !strings.Contains(got.Error(), c.want) {
			t.Errorf("%v: worded %q, want it to say %q", c.err, got, c.want)
		}
		if !errors.Is(got, c.err) && !errors.Is(got, errors.Unwrap(c.err)) {
			t.Errorf("%v: the worded error lost the engine's error (exit class)", c.err)
		}
		if h := Hint(c.err); strings.Contains(h, "--move-aside") || strings.Contains(h, "--force") || strings.Contains(h, "--revision") {
			t.Errorf("%v: console hint %q names a CLI flag the console does not have", c.err, h)
		}
	}
	if Hint(errors.New("plain")) != "" {
		t.Error("an untyped error got a hint")
	}
}
