// Package tui is the interactive face of etcd-dr (bubbletea screens and wizards over the engine).
// It is filled by the TUI issue; until then the CLI runs every verb headless.
package tui
