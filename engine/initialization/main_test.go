package initialization_test

import (
	"os"
	"testing"

	"github.com/etcd-dr/etcd-dr/engine/validate"
)

// TestMain lets validate inspect damaged dbs in a child process, as the etcd-dr binary's main does: bbolt's page
// check panics in its own goroutine on a damaged page, which would otherwise end the test binary.
func TestMain(m *testing.M) {
	validate.RunChild()
	os.Exit(m.Run())
}
