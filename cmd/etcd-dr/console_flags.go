package main

import (
	"time"

	"github.com/spf13/cobra"
)

// consoleOptions are the console's own flags (etcd-dr without a verb).
type consoleOptions struct {
	// refresh is how often the shown stores and the Members screen are read again (0: only on r).
	refresh time.Duration
	// maxAge marks clusters whose newest backup is older on the Fleet screen (0: none), as list --max-age does.
	maxAge time.Duration
}

func (o *consoleOptions) addFlags(root *cobra.Command) {
	f := root.Flags() // the console's only: verbs keep their own --max-age
	f.DurationVar(&o.refresh, "refresh", 10*time.Second, "console: read the shown stores and members again this often (0: only on r)")
	f.DurationVar(&o.maxAge, "max-age", 0, "console: mark clusters whose newest backup is older than this (e.g. 2h) on the Fleet screen")
}

// tuiRefresh is the tui.Config.Refresh for --refresh (there 0 means the default, negative never).
func (o *consoleOptions) tuiRefresh() time.Duration {
	if o.refresh <= 0 {
		return -1
	}
	return o.refresh
}
