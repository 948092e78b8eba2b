// Command etcd-dr is a disaster-recovery console for etcd: it browses, checks, downloads and restores backups.
// main wires flags to the engine; it alone maps errors to exit codes.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/etcd-dr/etcd-dr/engine"
	"github.com/etcd-dr/etcd-dr/engine/fault"
	"github.com/etcd-dr/etcd-dr/engine/textsafe"
	"github.com/etcd-dr/etcd-dr/engine/validate"
)

// Exit codes: the CLI contract; runbooks depend on them.
const (
	exitOK         = 0
	exitFailed     = 1
	exitUsage      = 2
	exitProblems   = 3
	exitNoMatch    = 4
	exitInterrupts = 130
)

func main() {
	validate.RunChild() // a child that inspects one etcd db (bbolt crashes on damaged pages) exits here
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	g := &globalOptions{stdout: os.Stdout, stderr: os.Stderr}
	root := newRootCommand(g)
	err := root.ExecuteContext(ctx)
	os.Exit(report(g, err))
}

// exitCode maps an error to the CLI contract's exit codes.
func exitCode(err error) int {
	switch {
	case err == nil:
		return exitOK
	case errors.Is(err, errUsage), errors.Is(err, engine.ErrBadURL), errors.Is(err, fault.ErrRefused):
		return exitUsage
	case errors.Is(err, fault.ErrProblems):
		return exitProblems
	case errors.Is(err, fault.ErrNothingCompatible):
		return exitNoMatch
	case errors.Is(err, context.Canceled):
		return exitInterrupts
	}
	return exitFailed
}

// report prints err once (text on stderr, or JSON on stdout under --output json) and returns the exit code.
func report(g *globalOptions, err error) int {
	code := exitCode(err)
	if err == nil || errors.Is(err, errAlreadyReported) {
		return code
	}
	msg := engine.RedactText(err.Error(), g.secrets...) // the last line of defence: no credential in any error
	if g.output == "json" {
		writeJSON(g.stdout, errorJSON{Error: msg, Hint: hint(err), ExitCode: code})
	} else {
		fmt.Fprintf(g.stderr, "etcd-dr: %s\n", textsafe.Text(engine.RedactText(worded(err), g.secrets...)))
	}
	return code
}

type errorJSON struct {
	Error string `json:"error"`
	// Hint says what to do next, in the CLI's words (absent when there is nothing to add).
	Hint     string `json:"hint,omitempty"`
	ExitCode int    `json:"exitCode"`
}

// errUsage marks bad flags or arguments found by the CLI itself.
var errUsage = errors.New("usage")

// errAlreadyReported marks an error whose details a verb printed itself (e.g. pick's JSON with refusals).
var errAlreadyReported = errors.New("reported")

type usageError struct{ msg string }

func (e usageError) Error() string        { return e.msg }
func (e usageError) Is(target error) bool { return target == errUsage }

func usagef(format string, args ...any) error { return usageError{fmt.Sprintf(format, args...)} }

// reported wraps err so that main keeps its exit code but does not print it again.
type reportedError struct{ err error }

func (e reportedError) Error() string        { return e.err.Error() }
func (e reportedError) Unwrap() error        { return e.err }
func (e reportedError) Is(target error) bool { return target == errAlreadyReported }
