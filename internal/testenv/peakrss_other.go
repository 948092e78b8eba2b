//go:build !linux

package testenv

import (
	"errors"
	"os/exec"
)

// RunPeakRSS reads /proc, which only Linux has.
func RunPeakRSS(cmd *exec.Cmd) (int64, error) {
	return 0, errors.New("peak RSS of a child is read from /proc/<pid>/status, on Linux only")
}
