package exporter

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/etcd-dr/etcd-dr/internal/testenv"
)

// The sample alert rules parse (promtool check rules) and fire for exactly the series their unit test says
// (promtool test rules: a stale cluster, a gap, a cluster without backup leader), on this exporter's metric names.
func TestAlertRules(t *testing.T) {
	promtool, err := exec.LookPath("promtool")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("promtool is missing: make sysdeps installs Debian's prometheus package, which has it")
		}
		t.Skip("promtool not installed (make sysdeps installs it)")
	}
	dir := filepath.Join(testenv.RepoRoot(), "deploy", "prometheus")
	for _, args := range [][]string{
		{"check", "rules", "etcd-dr-alerts.yml"},
		{"test", "rules", "etcd-dr-alerts_test.yml"},
	} {
		cmd := exec.Command(promtool, args...)
		cmd.Dir = dir
		out, err := cmd.CombinedOutput()
		require.NoError(t, err, "promtool %v:\n%s", args, out)
	}
}
