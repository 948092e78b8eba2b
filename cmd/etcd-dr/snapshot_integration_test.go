package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	agelib "filippo.io/age"
	"github.com/stretchr/testify/require"

	"github.com/etcd-dr/etcd-dr/engine/catalog"
	"github.com/etcd-dr/etcd-dr/engine/crypt"
	"github.com/etcd-dr/etcd-dr/engine/heartbeat"
	"github.com/etcd-dr/etcd-dr/engine/snapshot"
	"github.com/etcd-dr/etcd-dr/internal/fixture"
	"github.com/etcd-dr/etcd-dr/internal/testenv"
	"github.com/etcd-dr/etcd-dr/internal/testkit/snapshottest"
	"github.com/etcd-dr/etcd-dr/store"
)

// etcd-dr snapshot --full then --delta builds a chain that restores to the live etcd; an unchanged revision
// takes no new full snapshot; bad flags are refused with exit 2 and a delta into an empty store exits 4.
func TestSnapshotVerb(t *testing.T) {
	e, cli := testenv.StartEmbedded(t)
	ep := e.Config().AdvertiseClientUrls[0].String()
	ctx := t.Context()
	url := "file://" + filepath.Join(t.TempDir(), "store")
	require.NoError(t, fixture.Workload(ctx, cli, "/cli", 20))

	_, errOut, code := runCLI(t, "snapshot", "--endpoints", ep, "--store", url, "--delta")
	require.Equal(t, exitNoMatch, code, errOut)
	require.Contains(t, errOut, "snapshot --full")
	_, errOut, code = runCLI(t, "snapshot", "--endpoints", ep, "--store", url, "--full", "--delta")
	require.Equal(t, exitUsage, code, errOut)
	_, errOut, code = runCLI(t, "snapshot", "--endpoints", ep, "--store", url, "--compression", "bzip2")
	require.Equal(t, exitUsage, code, errOut)
	_, errOut, code = runCLI(t, "snapshot", "--store", url)
	require.Equal(t, exitUsage, code, errOut)
	require.Contains(t, errOut, "--endpoints")

	out, errOut, code := runCLI(t, "snapshot", "--endpoints", ep, "--store", url, "-o", "json")
	require.Equal(t, exitOK, code, errOut)
	var full snapshot.Result
	require.NoError(t, json.Unmarshal([]byte(out), &full))
	require.Equal(t, catalog.Full, full.Kind)
	require.True(t, strings.HasPrefix(full.Key, "v2/Full-00000000-") && strings.HasSuffix(full.Key, ".gz"), full.Key)

	out, errOut, code = runCLI(t, "snapshot", "--endpoints", ep, "--store", url, "--full")
	require.Equal(t, exitOK, code, errOut)
	require.Contains(t, out, "No full snapshot taken")

	require.NoError(t, fixture.Workload(ctx, cli, "/cli2", 20))
	out, errOut, code = runCLI(t, "snapshot", "--endpoints", ep, "--store", url, "--delta")
	require.Equal(t, exitOK, code, errOut)
	require.Contains(t, out, "Delta snapshot v2/Incr-")

	cat := snapshottest.Catalog(t, url)
	require.Len(t, cat.Chains, 1)
	require.Len(t, cat.Chains[0].Deltas, 1)
	snapshottest.Judge(t, url, 0, cli)

	// A daemon leading this store: the verb refuses (two writers would overlap), unless --ignore-daemon.
	st, err := store.Open(ctx, url)
	require.NoError(t, err)
	defer st.Close()
	require.NoError(t, heartbeat.Write(ctx, st, heartbeat.Heartbeat{Name: "dr-0", Role: heartbeat.Leader, Time: time.Now(), PeriodSeconds: 30}))
	require.NoError(t, fixture.Workload(ctx, cli, "/cli3", 5))
	_, errOut, code = runCLI(t, "snapshot", "--endpoints", ep, "--store", url, "--delta")
	require.Equal(t, exitUsage, code, errOut)
	require.Contains(t, errOut, `daemon "dr-0" is the backup leader`)
	_, errOut, code = runCLI(t, "snapshot", "--endpoints", ep, "--store", url, "--delta", "--ignore-daemon")
	require.Equal(t, exitOK, code, errOut)
}

// --encrypt-to writes .age objects that only the identity opens; zstd names end in .zst.age.
func TestSnapshotEncrypted(t *testing.T) {
	e, cli := testenv.StartEmbedded(t)
	ep := e.Config().AdvertiseClientUrls[0].String()
	ctx := t.Context()
	require.NoError(t, fixture.Workload(ctx, cli, "/enc", 10))
	id, err := agelib.GenerateX25519Identity()
	require.NoError(t, err)
	dir := filepath.Join(t.TempDir(), "store")
	url := "file://" + dir
	_, errOut, code := runCLI(t, "snapshot", "--endpoints", ep, "--store", url, "--compression", "zstd", "--encrypt-to", id.Recipient().String())
	require.Equal(t, exitOK, code, errOut)
	require.NoError(t, fixture.Workload(ctx, cli, "/enc2", 10))
	_, errOut, code = runCLI(t, "snapshot", "--endpoints", ep, "--store", url, "--compression", "zstd", "--encrypt-to", id.Recipient().String(), "--delta")
	require.Equal(t, exitOK, code, errOut)
	cat := snapshottest.Catalog(t, url)
	require.Len(t, cat.Chains, 1)
	ch := cat.Chains[0]
	require.True(t, ch.Base.Encrypted && strings.HasSuffix(ch.Base.Key, ".zst.age"), ch.Base.Key)
	require.Len(t, ch.Deltas, 1)
	require.True(t, ch.Deltas[0].Encrypted)
	raw, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(ch.Base.Key)))
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(string(raw), "age-encryption.org/v1"), "not an age file")
	keyFile := filepath.Join(t.TempDir(), "key.txt")
	require.NoError(t, os.WriteFile(keyFile, []byte(id.String()+"\n"), 0o600))
	dec, err := crypt.NewDecrypter(keyFile)
	require.NoError(t, err)
	snapshottest.JudgeWith(t, url, 0, cli, dec)

	// The reading verbs open them with --identity, and refuse them without.
	out, errOut, code := runCLI(t, "validate", "--store", url, "--identity", keyFile)
	require.Equal(t, exitOK, code, out+errOut)
	_, errOut, code = runCLI(t, "validate", "--store", url)
	require.NotEqual(t, exitOK, code, errOut)
	to := filepath.Join(t.TempDir(), "chain")
	_, errOut, code = runCLI(t, "download", "--store", url, "--to", to, "--identity", keyFile)
	require.Equal(t, exitOK, code, errOut)
	dataDir := filepath.Join(t.TempDir(), "restored.etcd")
	_, errOut, code = runCLI(t, "restore", "--store", url, "--data-dir", dataDir)
	require.Equal(t, exitUsage, code, "restore of .age objects without --identity: %s", errOut)
	require.Contains(t, errOut, "--identity")
	_, errOut, code = runCLI(t, "restore", "--store", url, "--data-dir", dataDir, "--identity", keyFile)
	require.Equal(t, exitOK, code, errOut)
	_, _, code = runCLI(t, "snapshot", "--endpoints", ep, "--store", url, "--encrypt-to", "age1nope")
	require.Equal(t, exitUsage, code)
}
