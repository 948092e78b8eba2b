package main

import (
	"bufio"
	"encoding/json"
	"io"
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

	killWhen(t, bin, args, "restore", func(u progress.Update) bool { return u.Phase == "apply" && u.Done*2 >= int64(ch.Events) })
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

// killWhen runs bin with args and kills it with SIGKILL at the first unfinished progress line on its stderr (the
// JSON one of -o json) for which at holds; the test fails if the run ended before that.
func killWhen(t *testing.T, bin string, args []string, what string, at func(progress.Update) bool) {
	t.Helper()
	cmd := exec.Command(bin, args...)
	stderr, err := cmd.StderrPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	killed := false
	sc := bufio.NewScanner(stderr)
	for sc.Scan() {
		var line struct{ Progress progress.Update }
		if json.Unmarshal(sc.Bytes(), &line) == nil && !line.Progress.Finished && at(line.Progress) {
			require.NoError(t, cmd.Process.Kill())
			killed = true
			break
		}
	}
	go io.Copy(io.Discard, stderr) //nolint:errcheck // drain so Wait returns
	err = cmd.Wait()
	require.True(t, killed, "the %s finished before it could be killed (%v)", what, err)
	require.Error(t, err)
}
