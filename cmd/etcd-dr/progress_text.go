package main

import (
	"fmt"
	"io"

	"github.com/etcd-dr/etcd-dr/engine/progress"
)

// textProgress draws one updating line on a terminal (carriage return, erase line), and a final line per phase.
// It lives in cmd because only the CLI knows it writes to a terminal; the engine just reports updates.
type textProgress struct{ w io.Writer }

// Report draws u.
func (t textProgress) Report(u progress.Update) {
	line := progress.FormatLine(u)
	if u.Finished {
		fmt.Fprintf(t.w, "\r\033[K%s\n", line)
		return
	}
	fmt.Fprintf(t.w, "\r\033[K%s", line)
}
