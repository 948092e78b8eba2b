package main

import (
	"bufio"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/etcd-dr/etcd-dr/engine/progress"
	"github.com/etcd-dr/etcd-dr/engine/restore"
	"github.com/etcd-dr/etcd-dr/internal/testenv"
	"github.com/etcd-dr/etcd-dr/internal/testkit/restoretest"
)

// kill -9 of the etcd-dr binary while it replays deltas leaves no --data-dir; a rerun removes the killed run's
// scratch folder, succeeds, and the result serves exactly the chain's state.
func TestRestoreKilledHalfway(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and a 300 000-event chain")
	}
	bin := filepath.Join(t.TempDir(), "etcd-dr")
	build := exec.Command("go", "build", "-o", bin, ".")
	out, err := build.CombinedOutput()
	require.NoError(t, err, "go build: %s", out)
	ch := restoretest.SyntheticChain(t, 1000, 300000, 20000, 100)
	parent := t.TempDir()
	dataDir := filepath.Join(parent, "etcd")
	args := []string{"restore", "--store", "file://" + ch.Store, "--data-dir", dataDir, "-o", "json"}

	cmd := exec.Command(bin, args...)
	stderr, err := cmd.StderrPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	killed := false
	sc := bufio.NewScanner(stderr)
	for sc.Scan() {
		var line struct{ Progress progress.Update }
		if json.Unmarshal(sc.Bytes(), &line) == nil && line.Progress.Phase == "apply" && line.Progress.Done*2 >= int64(ch.Events) && !line.Progress.Finished {
			require.NoError(t, cmd.Process.Kill()) // SIGKILL
			killed = true
			break
		}
	}
	err = cmd.Wait()
	require.True(t, killed, "the restore finished before it could be killed (%v)", err)
	require.Error(t, err)
	_, statErr := os.Stat(dataDir)
	require.True(t, os.IsNotExist(statErr), "a killed restore left %s", dataDir)
	entries, _ := os.ReadDir(parent)
	require.Len(t, entries, 2, "the killed restore's scratch folder and its (no longer held) lock file")
	require.True(t, strings.HasPrefix(entries[0].Name(), ".etcd.etcd-dr-restore-"), entries[0].Name())
	require.Equal(t, "etcd.etcd-dr.lock", entries[1].Name())

	rerun := exec.Command(bin, args...)
	rerun.Stderr = nil
	stdout, err := rerun.Output()
	require.NoError(t, err, "rerun: %s", stdout)
	var res restore.Result
	require.NoError(t, json.Unmarshal(stdout, &res))
	require.Equal(t, ch.Revision, res.Revision)
	require.Equal(t, int64(ch.Events), res.EventsApplied)
	require.Len(t, res.Notes, 1)
	require.Contains(t, res.Notes[0], "left by an interrupted restore")
	requireNothingBeside(t, parent, "etcd")
	restoretest.Judge(t, testenv.Binary(t, "etcd"), dataDir, restore.DefaultName, ch.Revision, ch.State)
}
