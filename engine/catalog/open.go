package catalog

import (
	"context"

	"github.com/etcd-dr/etcd-dr/store"
)

// Store is an opened backup store as the faces above the engine (CLI, TUI) hold it; they never import store.
type Store = store.Store

// Store errors, for callers above the engine to tell a bad URL from a refusal or a missing bucket.
var (
	ErrBadURL       = store.ErrBadURL
	ErrAccessDenied = store.ErrAccessDenied
	ErrNotFound     = store.ErrNotFound
)

// CheckURL checks a store URL without touching the network.
func CheckURL(url string) error {
	_, err := store.ParseURL(url)
	return err
}

// Open opens a store URL and loads its catalog: the first step of every face. The caller closes the store.
func Open(ctx context.Context, url string) (*Store, *Catalog, error) {
	st, err := store.Open(ctx, url)
	if err != nil {
		return nil, nil, err
	}
	cat, err := Load(ctx, st)
	if err != nil {
		st.Close()
		return nil, nil, err
	}
	return st, cat, nil
}
