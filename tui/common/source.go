package common

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/etcd-dr/etcd-dr/engine"
	"github.com/etcd-dr/etcd-dr/engine/catalog"
	"github.com/etcd-dr/etcd-dr/engine/crypt"
)

// LoadTimeout bounds opening and listing one store, so an unreachable endpoint ends in an error panel, not a hang.
var LoadTimeout = 30 * time.Second

// Source is one --store: its URL, the engine's Repo for it, or why it could not be read.
type Source struct {
	// Index is the store's place among the --store flags (what LoadCmd reports back).
	Index int
	URL   string
	// Cluster narrows the store to one cluster folder of a fleet root ("" = the store as given); the fleet
	// screen opens one Source per cluster it shows the catalog of.
	Cluster string
	// Repo is the opened store: every engine call goes through it (nil until read, or when reading failed).
	Repo *engine.Repo
	// Catalog is Repo.Catalog() as of Loaded, kept so a page's rows do not change under it.
	Catalog *catalog.Catalog
	Err     error
	Loading bool
	// Loaded is when the catalog was read (by the Common clock).
	Loaded time.Time
}

// Shown is the URL as screens show it: credentials and signature parameters redacted (as the CLI prints it),
// control characters escaped.
func (s *Source) Shown() string { return Safe(engine.Redact(s.URL)) }

// SourceLoadedMsg carries the result of LoadCmd for the source at Index.
type SourceLoadedMsg struct {
	Index int
	Repo  *engine.Repo
	Err   error
}

// LoadCmd opens url through the engine (decrypting with dec) and reads its catalog off the UI goroutine.
func LoadCmd(ctx context.Context, index int, url string, dec crypt.Decrypter) tea.Cmd {
	return loadCmd(ctx, index, url, "", dec)
}

// Reload marks s loading and returns the command that reads it again (nil when a read is already under way).
func (s *Source) Reload(ctx context.Context, dec crypt.Decrypter) tea.Cmd {
	if s.Loading {
		return nil
	}
	s.Loading = true
	return loadCmd(ctx, s.Index, s.URL, s.Cluster, dec)
}

// Name is the store URL, after the cluster folder when the Source is narrowed to one (first: a narrow screen
// cuts the URL, not the cluster).
func (s *Source) Name() string {
	if s.Cluster == "" {
		return s.Shown()
	}
	return "cluster " + Safe(s.Cluster) + " in " + s.Shown()
}

func loadCmd(ctx context.Context, index int, url, cluster string, dec crypt.Decrypter) tea.Cmd {
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(ctx, LoadTimeout)
		defer cancel()
		timedOut := func(err error) error {
			if ctx.Err() == context.DeadlineExceeded && !errors.Is(err, context.DeadlineExceeded) {
				return fmt.Errorf("%w: the store did not answer within %s (%v)", context.DeadlineExceeded, LoadTimeout, err)
			}
			return err
		}
		repo, err := engine.Open(ctx, url, engine.Options{Decrypt: dec, Cluster: cluster})
		if err != nil {
			return SourceLoadedMsg{Index: index, Err: timedOut(err)}
		}
		if err := repo.ReadExcludeTags(ctx); err != nil {
			repo.Close()
			return SourceLoadedMsg{Index: index, Err: timedOut(err)}
		}
		return SourceLoadedMsg{Index: index, Repo: repo}
	}
}

// Layouts names the layouts found ("etcdbr-v2", "operator+etcdbr-v2"), or "-" for none.
func (s *Source) Layouts() string {
	if s.Catalog == nil || len(s.Catalog.Chains) == 0 {
		return "-"
	}
	seen := map[string]bool{}
	var names []string
	for _, ch := range s.Catalog.Chains {
		if l := string(ch.Layout); !seen[l] {
			seen[l] = true
			names = append(names, l)
		}
	}
	sort.Strings(names)
	return strings.Join(names, "+")
}

// LastBackup is the time of the newest object of any chain (zero when unknown).
func (s *Source) LastBackup() time.Time {
	var t time.Time
	if s.Catalog == nil {
		return t
	}
	for _, ch := range s.Catalog.Chains {
		if ch.Base.Time.After(t) {
			t = ch.Base.Time
		}
		for _, d := range ch.Deltas {
			if d.Time.After(t) {
				t = d.Time
			}
		}
	}
	return t
}

// Restorable is the newest restorable revision (0 when none): the engine's rule, Repo.NewestRestorable.
func (s *Source) Restorable() int64 {
	if s.Repo == nil {
		return 0
	}
	return s.Repo.NewestRestorable()
}

// HasGap reports whether any chain has a gap.
func (s *Source) HasGap() bool {
	if s.Catalog == nil {
		return false
	}
	for _, ch := range s.Catalog.Chains {
		if len(ch.Gaps) > 0 {
			return true
		}
	}
	return false
}

// Remedy says what an SRE can do about a load error.
func Remedy(err error) []string {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, engine.ErrBadURL):
		return []string{"Fix the URL given to --store.", "Supported: file:///dir, s3://bucket/prefix?endpoint=..&region=.., gs://bucket/prefix, azblob://container/prefix."}
	case errors.Is(err, engine.ErrAccessDenied):
		return []string{"The store refused the credentials.", "Check the environment: AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY (or AWS_PROFILE),", "GOOGLE_APPLICATION_CREDENTIALS, AZURE_STORAGE_ACCOUNT/AZURE_STORAGE_KEY."}
	case errors.Is(err, engine.ErrNotFound):
		return []string{"Nothing is at that location.", "Check the bucket or directory name; --store points at the folder that holds v1/ or v2/", "(for etcd-operator: the cluster folder, e.g. file:///var/etcd-backup/v1/etcd-cluster)."}
	case errors.Is(err, context.DeadlineExceeded):
		return []string{"The store did not answer in time.", "Check the endpoint, DNS, proxy and network path to the store."}
	}
	return []string{"Check the URL, the network path to the store and the credentials."}
}

// Reason names a load error in two or three words, for a table cell.
func Reason(err error) string {
	switch {
	case errors.Is(err, engine.ErrBadURL):
		return "bad URL"
	case errors.Is(err, engine.ErrAccessDenied):
		return "access denied"
	case errors.Is(err, engine.ErrNotFound):
		return "not found"
	case errors.Is(err, context.DeadlineExceeded):
		return "no answer"
	}
	return "unreachable"
}
