//go:build deps

// Package deps pins modules that issues in progress will import, so parallel work does not race on go.mod.
// Delete an import here once real code uses it.

package deps

import (
	_ "charm.land/bubbles/v2/spinner"
	_ "charm.land/bubbletea/v2"
	_ "charm.land/lipgloss/v2"
	_ "github.com/charmbracelet/x/exp/teatest/v2"
)
