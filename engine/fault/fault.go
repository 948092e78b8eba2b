// Package fault classifies engine errors so the CLI can map them to its stable exit codes without parsing text.
package fault

import (
	"errors"
	"fmt"
)

// Classes of failure. Anything not wrapped in one of these is a plain failure (I/O, etcd unreachable, ...).
var (
	// ErrRefused: bad usage or input refused before any change (exit 2).
	ErrRefused = errors.New("refused")
	// ErrProblems: validation found problems — corrupt object, gap, bad data dir (exit 3).
	ErrProblems = errors.New("problems found")
	// ErrNothingCompatible: nothing fits the requested version/revision (exit 4).
	ErrNothingCompatible = errors.New("nothing compatible")
)

type classed struct {
	class error
	msg   string
	cause error
}

func (e *classed) Error() string { return e.msg }

func (e *classed) Is(target error) bool { return target == e.class }

func (e *classed) Unwrap() error { return e.cause }

func newf(class error, format string, args ...any) error {
	err := fmt.Errorf(format, args...)
	return &classed{class: class, msg: err.Error(), cause: errors.Unwrap(err)}
}

// Refused builds an exit-2 error. Use %w to keep a cause.
func Refused(format string, args ...any) error { return newf(ErrRefused, format, args...) }

// Problems builds an exit-3 error.
func Problems(format string, args ...any) error { return newf(ErrProblems, format, args...) }

// NothingCompatible builds an exit-4 error.
func NothingCompatible(format string, args ...any) error {
	return newf(ErrNothingCompatible, format, args...)
}
