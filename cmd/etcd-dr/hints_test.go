package main

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/etcd-dr/etcd-dr/engine/fault"
)

// The CLI words the engine's typed errors with its own flags; the engine's text names none.
func TestWordedNamesTheCLIFlags(t *testing.T) {
	for _, c := range []struct {
		err  error
		want string
	}{
		{fmt.Errorf("status: %w", &fault.EtcdUnreachable{Endpoints: []string{"http://127.0.0.1:1"}, AuthFailed: true, Err: errors.New("authentication failed")}), "check --user and --password"},
		{&fault.EtcdUnreachable{Endpoints: []string{"http://127.0.0.1:1"}, Err: errors.New("context deadline exceeded")}, "check --endpoints"},
		{&fault.TargetExists{Path: "/var/lib/etcd", What: "is not empty", MoveAsideHelps: true}, "pass --move-aside"},
		{&fault.Gap{Chain: "Full-1", From: 104, To: 113, SafeRevision: 103}, "--revision 103"},
		{fault.Bad("data dir", "/x", "is a file"), `--data-dir "/x": is a file`},
	} {
		if got := worded(c.err); !strings.Contains(got, c.want) {
			t.Errorf("worded(%v) = %q, want it to say %q", c.err, got, c.want)
		}
		if strings.Contains(c.err.Error(), "--") {
			t.Errorf("engine error %q names a flag", c.err)
		}
	}
}
