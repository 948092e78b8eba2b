package main

import (
	"context"

	"github.com/etcd-dr/etcd-dr/engine"
	"github.com/etcd-dr/etcd-dr/engine/pick"
)

// openRepo opens --store through the engine's one door, with the verb's --identity for encrypted objects.
// The caller closes the Repo.
func openRepo(ctx context.Context, g *globalOptions, id identityOptions) (*engine.Repo, error) {
	url, err := g.requireStore()
	if err != nil {
		return nil, err
	}
	dec, err := id.decrypter()
	if err != nil {
		return nil, err
	}
	return engine.Open(ctx, url, engine.Options{Decrypt: dec, Logger: g.log, Cluster: g.cluster})
}

// openPicked opens --store and picks what req asks for: the shared first half of pick, download and restore.
// A pick error is already reported (with its refusals); the Repo is closed on every error.
func openPicked(ctx context.Context, g *globalOptions, id identityOptions, req engine.PickRequest) (*engine.Repo, *pick.Result, error) {
	repo, err := openRepo(ctx, g, id)
	if err != nil {
		return nil, nil, err
	}
	res, err := repo.Pick(ctx, req)
	if err != nil {
		repo.Close()
		return nil, nil, reportPickError(g, res, err)
	}
	return repo, res, nil
}
