// Command demo is `make run`: it starts an embedded etcd with sample data, writes real backups of it into local
// stores under .demo/ (etcd-backup-restore v1 and v2 chains, one with a gap, and an etcd-operator folder), and
// shows them with the etcd-dr binary. The demo etcd lives in a temporary directory that is removed at the end;
// .demo/ holds only the demo's own backups and is rewritten on every run.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"time"

	"github.com/cenkalti/backoff/v5"
	"golang.org/x/term"

	"github.com/etcd-dr/etcd-dr/engine"
	"github.com/etcd-dr/etcd-dr/internal/fixture"
)

func main() {
	dir := flag.String("dir", ".demo", "where the demo stores go")
	bin := flag.String("bin", "bin/etcd-dr", "the etcd-dr binary to show them with")
	etcd35 := flag.String("etcd35", "", "etcd 3.5 binary for an older operator snapshot (optional)")
	live := flag.Bool("live", term.IsTerminal(int(os.Stdin.Fd())), "then keep an etcd with writes going on, back it up with etcd-dr --daemon, and open the console (default: on a terminal)")
	flag.Parse()
	err := run(*dir, *bin, *etcd35)
	if err == nil && *live {
		err = runLive(*dir, *bin)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "demo:", err)
		os.Exit(1)
	}
}

func run(dir, bin, etcd35 string) error {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return err
	}
	// Only the demo's own generated backups are replaced; nothing else in dir is touched.
	for _, sub := range []string{"stores", "states", "manifest.json"} {
		if err := os.RemoveAll(filepath.Join(abs, sub)); err != nil {
			return err
		}
	}
	if etcd35 != "" {
		if _, err := os.Stat(etcd35); err != nil {
			etcd35 = "" // optional: skip the 3.5 snapshot when the binary is not built
		}
	}
	fmt.Printf("Starting an embedded etcd and writing real backups of it into %s ...\n", abs)
	start := time.Now().Add(-3 * time.Hour).Truncate(time.Minute)
	if _, err := fixture.Generate(context.Background(), abs, etcd35, start); err != nil {
		return err
	}
	stores := []string{fixture.StoreBRv2, fixture.StoreBRv1, fixture.StoreOperator}
	for _, s := range stores {
		url := "file://" + filepath.Join(abs, s)
		fmt.Printf("\n$ etcd-dr list --store %s\n", url)
		if err := show(bin, "list", "--store", url); err != nil {
			return err
		}
	}
	url := "file://" + filepath.Join(abs, fixture.StoreOperator)
	fmt.Printf("\n$ etcd-dr pick --store %s --etcd-version 3.7.0\n", url)
	_ = show(bin, "pick", "--store", url, "--etcd-version", "3.7.0")
	fmt.Printf("\nTry: %s list --store file://%s -o json\n", bin, filepath.Join(abs, fixture.StoreBRv2))
	return nil
}

// runLive starts an embedded etcd with writes going on, an etcd-dr daemon backing it up into stores/live, and the
// console on every demo store with the etcd's endpoint (Members screen); when the console quits, the daemon gets
// SIGTERM (it stores a final delta) and the etcd stops.
func runLive(dir, bin string) error {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return err
	}
	tmp, err := os.MkdirTemp("", "etcd-dr-demo-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp) // the demo etcd's own scratch data, never a user's
	e, cli, err := fixture.StartEmbedded(tmp)
	if err != nil {
		return err
	}
	defer e.Close()
	defer cli.Close()
	endpoint := cli.Endpoints()[0]
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	go func() { // writes going on: a few keys a second, with deletes, transactions and leases
		for i := 0; ctx.Err() == nil; i++ {
			_ = fixture.Workload(ctx, cli, fmt.Sprintf("/demo/live/%05d", i), 2)
			select {
			case <-ctx.Done():
			case <-time.After(time.Second):
			}
		}
	}()
	liveStore := filepath.Join(abs, "stores", "live")
	if err := os.MkdirAll(liveStore, 0o755); err != nil {
		return err
	}
	logFile, err := os.Create(filepath.Join(abs, "daemon.log"))
	if err != nil {
		return err
	}
	defer logFile.Close()
	daemon := exec.Command(bin, "--daemon", "--endpoints", endpoint, "--store", "file://"+liveStore, "--name", "fixture", // the embedded member's name
		"--delta-period", "5s", "--full-schedule", "@every 2m", "--listen=")
	daemon.Stdout, daemon.Stderr = logFile, logFile
	if err := daemon.Start(); err != nil {
		return err
	}
	defer func() {
		_ = daemon.Process.Signal(syscall.SIGTERM)
		_ = daemon.Wait()
	}()
	fmt.Printf("\nLive: etcd on %s with writes going on, etcd-dr --daemon backing it up into %s (log: %s).\n",
		endpoint, liveStore, logFile.Name())
	if err := waitFirstFull(ctx, "file://"+liveStore, 60*time.Second); err != nil {
		return fmt.Errorf("%w (see %s)", err, logFile.Name())
	}
	fmt.Println("Opening the console...")
	args := []string{"--endpoints", endpoint}
	for _, s := range []string{fixture.StoreBRv2, fixture.StoreBRv1, fixture.StoreOperator, "stores/live"} {
		args = append(args, "--store", "file://"+filepath.Join(abs, s))
	}
	console := exec.Command(bin, args...)
	console.Stdin, console.Stdout, console.Stderr = os.Stdin, os.Stdout, os.Stderr
	return console.Run()
}

// waitFirstFull waits until the daemon's first full snapshot is in the store, so that the console opens on a
// live store that holds a chain (the daemon of a one-member etcd starts at once; this is seconds at most).
func waitFirstFull(ctx context.Context, url string, limit time.Duration) error {
	fmt.Print("Waiting for the daemon's first full snapshot ")
	b := backoff.NewExponentialBackOff()
	b.InitialInterval, b.MaxInterval = 200*time.Millisecond, time.Second
	_, err := backoff.Retry(ctx, func() (struct{}, error) {
		fmt.Print(".")
		repo, err := engine.Open(ctx, url, engine.Options{})
		if err != nil {
			return struct{}{}, err
		}
		defer repo.Close()
		if len(repo.Catalog().Chains) == 0 {
			return struct{}{}, fmt.Errorf("no full snapshot in %s after %s", url, limit)
		}
		return struct{}{}, nil
	}, backoff.WithBackOff(b), backoff.WithMaxElapsedTime(limit))
	fmt.Println()
	return err
}

// show runs the etcd-dr binary with the terminal attached; a non-zero exit is shown, not fatal (the demo has a gap on purpose).
func show(bin string, args ...string) error {
	cmd := exec.Command(bin, append(args, "--non-interactive")...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	err := cmd.Run()
	if _, ok := err.(*exec.ExitError); ok {
		fmt.Printf("(exit code %d)\n", cmd.ProcessState.ExitCode())
		return nil
	}
	return err
}
