package compact_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"filippo.io/age"
	"github.com/stretchr/testify/require"

	"github.com/etcd-dr/etcd-dr/engine"
	"github.com/etcd-dr/etcd-dr/engine/catalog"
	"github.com/etcd-dr/etcd-dr/engine/compact"
	"github.com/etcd-dr/etcd-dr/engine/crypt"
	"github.com/etcd-dr/etcd-dr/engine/fault"
	"github.com/etcd-dr/etcd-dr/engine/format"
	"github.com/etcd-dr/etcd-dr/engine/restore"
	"github.com/etcd-dr/etcd-dr/internal/fixture"
	"github.com/etcd-dr/etcd-dr/internal/testenv"
	"github.com/etcd-dr/etcd-dr/internal/testkit/restoretest"
)

// compactAndJudge folds the chain of the store at url up to rev, then restores the new full snapshot alone (not
// the chain) and has a real etcd judge that it serves want at rev.
func compactAndJudge(t *testing.T, url string, opts engine.Options, req engine.CompactRequest, rev int64, want []fixture.KV) *engine.CompactResult {
	t.Helper()
	ctx := t.Context()
	repo, err := engine.Open(ctx, url, opts)
	require.NoError(t, err)
	defer repo.Close()
	before := len(repo.Catalog().Chains)
	res, err := repo.Compact(ctx, req)
	require.NoError(t, err)
	require.Equal(t, rev, res.Revision)
	require.Greater(t, len(res.Folded), 1, "a full snapshot and deltas folded")
	require.Regexp(t, regexp.MustCompile(fmt.Sprintf(`^v2/Full-00000000-%08d-\d+`, rev)+regexp.QuoteMeta(format.Compression(req.Compression).Suffix())), res.Key)

	require.NoError(t, repo.Reload(ctx))
	require.GreaterOrEqual(t, len(repo.Catalog().Chains), before+1, "the old chains stay beside the new snapshot")
	var folded *catalog.Chain
	for i, ch := range repo.Catalog().Chains {
		if ch.Base.Key == res.Key {
			folded = &repo.Catalog().Chains[i]
		}
	}
	require.NotNil(t, folded, "the new snapshot %s is listed as a full snapshot", res.Key)
	require.Equal(t, rev, folded.Base.EndRevision)
	require.Equal(t, res.EtcdVersion, folded.Base.EtcdVersion, "the etcd version travels in its metadata")
	alone := *folded
	alone.Deltas, alone.Gaps, alone.EndRevision, alone.RestorableRevision = nil, nil, rev, rev
	p, err := repo.PickInChain(ctx, alone, rev)
	require.NoError(t, err)
	require.Equal(t, []string{res.Key}, p.Objects)
	dataDir := filepath.Join(t.TempDir(), "etcd")
	_, err = repo.Restore(ctx, engine.RestoreRequest{Point: p, Config: restore.Config{DataDir: dataDir}})
	require.NoError(t, err)
	restoretest.Judge(t, testenv.Binary(t, "etcd"), dataDir, restore.DefaultName, rev, want)
	return res
}

// The committed etcd-backup-restore v2 store (deltas in every compression) folds, at a chain's end and at a point
// inside it, into one full snapshot that restores to the state recorded from the source etcd.
func TestCompactCommittedChain(t *testing.T) {
	for _, rev := range []int64{72, 52, 103} {
		t.Run(fmt.Sprint(rev), func(t *testing.T) {
			url := "file://" + testenv.CopyStore(t, fixture.StoreBRv2)
			res := compactAndJudge(t, url, engine.Options{}, engine.CompactRequest{Revision: rev}, rev, restoretest.State(t, fixture.StoreBRv2, rev))
			require.Equal(t, "gzip", res.Compression)
			require.LessOrEqual(t, res.DBBytes, res.RestoredDBBytes, "defragmented")
		})
	}
}

// A chain of 5 000 delta events (overwrites, deletes, transactions, a lease the full snapshot does not hold) folds
// into a snapshot that restores every key, value, create/mod revision, version and lease; the history it drops
// makes the db smaller.
func TestCompactSyntheticChain(t *testing.T) {
	ch := restoretest.SyntheticChain(t, 300, 5000, 1000, 200)
	res := compactAndJudge(t, "file://"+ch.Store, engine.Options{}, engine.CompactRequest{}, ch.Revision, ch.State)
	require.Equal(t, int64(ch.Events), res.EventsApplied)
	require.Equal(t, int64(len(ch.State)), res.Keys)
	require.Less(t, res.DBBytes, res.RestoredDBBytes, "compaction and defragmentation drop the superseded revisions")
}

// --compression zstd --encrypt-to: the new snapshot is .zst.age, opens only with the identity, and restores.
func TestCompactEncryptedZstd(t *testing.T) {
	id, err := age.GenerateX25519Identity()
	require.NoError(t, err)
	enc, err := crypt.NewEncrypter([]string{id.Recipient().String()})
	require.NoError(t, err)
	keyFile := filepath.Join(t.TempDir(), "key.txt")
	require.NoError(t, os.WriteFile(keyFile, []byte(id.String()+"\n"), 0o600))
	dec, err := crypt.NewDecrypter(keyFile)
	require.NoError(t, err)
	url := "file://" + testenv.CopyStore(t, fixture.StoreBRv2)
	req := engine.CompactRequest{Revision: 72, Config: compact.Config{Compression: format.Zstd, CompressionSet: true, Encrypt: enc}}
	res := compactAndJudge(t, url, engine.Options{Decrypt: dec}, req, 72, restoretest.State(t, fixture.StoreBRv2, 72))
	require.True(t, strings.HasSuffix(res.Key, ".zst.age"), res.Key)
	require.True(t, res.Encrypted)

	// Without the identity the new snapshot is refused, not mistaken for plain bytes.
	repo, err := engine.Open(t.Context(), url, engine.Options{})
	require.NoError(t, err)
	defer repo.Close()
	for _, c := range repo.Catalog().Chains {
		if c.Base.Key != res.Key {
			continue
		}
		require.True(t, c.Base.Encrypted)
		c.Deltas, c.Gaps, c.EndRevision, c.RestorableRevision = nil, nil, 72, 72
		p, err := repo.PickInChain(t.Context(), c, 72)
		require.NoError(t, err)
		_, err = repo.Restore(t.Context(), engine.RestoreRequest{Point: p, Config: restore.Config{DataDir: filepath.Join(t.TempDir(), "etcd")}})
		var e *fault.Encrypted
		require.ErrorAs(t, err, &e)
		return
	}
	t.Fatalf("%s is not listed", res.Key)
}

// files lists every object of a directory store, to show a refusal wrote nothing.
func files(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	require.NoError(t, filepath.Walk(dir, func(p string, info os.FileInfo, err error) error {
		if err == nil && !info.IsDir() {
			out = append(out, p)
		}
		return err
	}))
	sort.Strings(out)
	return out
}

// Refusals, each before anything is written: a gap at or before the revision (as restore refuses it), a revision in
// no chain, nothing to fold (a full snapshot's own revision; an etcd-operator store), a store of several clusters,
// a scratch folder inside a data dir.
func TestCompactRefuses(t *testing.T) {
	dataDir := filepath.Join(t.TempDir(), "etcd")
	require.NoError(t, os.MkdirAll(filepath.Join(dataDir, "member", "snap"), 0o755))
	cases := []struct {
		name  string
		store string // testdata-relative store to copy
		req   engine.CompactRequest
		class error
		typed any
		says  string
	}{
		{name: "newest chain has a gap", store: fixture.StoreBRv2, class: fault.ErrProblems, typed: new(*fault.Gap), says: "gap"},
		{name: "revision past the gap", store: fixture.StoreBRv2, req: engine.CompactRequest{Revision: 118}, class: fault.ErrProblems, typed: new(*fault.Gap), says: "104-113"},
		{name: "revision in no chain", store: fixture.StoreBRv2, req: engine.CompactRequest{Revision: 5000}, class: fault.ErrNothingCompatible, says: "5000"},
		{name: "a full snapshot's own revision", store: fixture.StoreBRv2, req: engine.CompactRequest{Revision: 93}, class: fault.ErrRefused, says: "nothing to fold"},
		{name: "etcd-operator store", store: fixture.StoreOperator, class: fault.ErrRefused, says: "nothing to fold: 3.6.16_00000000000000df_etcd.backup is a backup of the operator layout"},
		{name: "store of several clusters", store: "stores", class: fault.ErrRefused, typed: new(*fault.Ambiguous), says: "clusters"},
		{name: "scratch inside a data dir", store: fixture.StoreBRv2, req: engine.CompactRequest{Revision: 72, Config: compact.Config{ScratchDir: filepath.Join(dataDir, "member", "snap")}}, class: fault.ErrRefused, says: "inside the etcd data dir " + dataDir},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := testenv.CopyStore(t, c.store)
			before := files(t, dir)
			repo, err := engine.Open(t.Context(), "file://"+dir, engine.Options{})
			require.NoError(t, err)
			defer repo.Close()
			res, err := repo.Compact(t.Context(), c.req)
			require.Error(t, err)
			require.Nil(t, res)
			require.ErrorIs(t, err, c.class, "%v", err)
			if c.typed != nil {
				require.True(t, errors.As(err, c.typed), "%T: %v", err, err)
			}
			require.Contains(t, err.Error(), c.says)
			require.Equal(t, before, files(t, dir), "nothing written")
		})
	}
}
