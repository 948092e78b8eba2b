package main

import (
	"context"
	"fmt"

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

// warnPicked prints what pick warned about (an excluded newest backup, a __POSSIBLY_DIRTY__ snapshot, an unknown
// etcd version) before download or restore start their long work, on stderr so that it shows beside the
// progress; under --output json the result carries them as "warnings".
func warnPicked(g *globalOptions, res *pick.Result) {
	if g.output == "json" {
		return
	}
	for _, w := range res.Warnings {
		fmt.Fprintf(g.stderr, "warning: %s\n", w)
	}
}

// onRepo opens --store (with the identity for encrypted objects), runs one engine job on it and closes it.
func onRepo[R any](ctx context.Context, g *globalOptions, id identityOptions, job func(*engine.Repo) (R, error)) (R, error) {
	repo, err := openRepo(ctx, g, id)
	if err != nil {
		var none R
		return none, err
	}
	defer repo.Close()
	return job(repo)
}

// writeResult prints a job's result under --output json, also when the job failed part-way with a result: the
// script reads what was done, the exit code says how it ended. It reports whether it wrote, and what to return.
func writeResult[R any](g *globalOptions, res *R, err error) (bool, error) {
	if g.output != "json" || res == nil {
		return false, err
	}
	writeJSON(g.stdout, res)
	if err != nil {
		return true, reportedError{err}
	}
	return true, nil
}
