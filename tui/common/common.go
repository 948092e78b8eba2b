// Package common is what every page and component of the TUI shares: size, styles, keys, clock, the engine
// entry points, and the messages pages use to talk to the root model.
package common

import (
	"context"
	"time"

	"charm.land/bubbles/v2/spinner"
	tea "charm.land/bubbletea/v2"

	"github.com/etcd-dr/etcd-dr/engine/catalog"
	"github.com/etcd-dr/etcd-dr/engine/crypt"
	"github.com/etcd-dr/etcd-dr/engine/pick"
	"github.com/etcd-dr/etcd-dr/tui/keymap"
	"github.com/etcd-dr/etcd-dr/tui/styles"
)

// Common is embedded (by pointer) in every page.
type Common struct {
	Width, Height int
	Styles        styles.Styles
	Keys          keymap.KeyMap
	// Now is the clock; tests fix it so that ages ("3h ago") are stable.
	Now func() time.Time
	// Ctx ends when the TUI quits; long work derives its context from it.
	Ctx context.Context
	// Cluster is the live etcd view (nil without --endpoints).
	Cluster ClusterStatus
	// Refresh is how often live screens (Stores, Fleet, Catalog, Members) read again; 0 = only when asked (r).
	Refresh time.Duration
	// MaxAge marks a cluster whose newest backup is older as too old (the Fleet screen; 0 = never).
	MaxAge time.Duration
	// Decrypt opens encrypted (.age) objects; nil refuses them (the engine then says to pass --identity).
	Decrypt crypt.Decrypter
	// Spin is the spinner of rows and lines being read (Spinner); the root ticks it (tui/spin.go).
	Spin spinner.Model

	nav []Page
}

// Page is one screen: it renders into the size it was given and routes its own messages.
type Page interface {
	Init() tea.Cmd
	Update(msg tea.Msg) (Page, tea.Cmd)
	// View renders the page body; it must not change the page.
	View() string
	SetSize(width, height int)
	// Title is the page's name in the breadcrumb.
	Title() string
	// Bindings are the page's own actions (shown in the footer and the help overlay).
	Bindings() []keymap.Binding
	// Capturing is true while a text field has focus: letters then go to the field, not to global keys.
	Capturing() bool
	// Busy is true while the page runs work that ctrl+c should cancel rather than quit.
	Busy() bool
}

// Push opens page on top of the current one. Navigation is applied by the root right after the Update that
// asked for it (not through a message), so keys typed ahead land on the page they were meant for.
func (c *Common) Push(page Page) tea.Cmd {
	c.nav = append(c.nav, page)
	return nil
}

// Pop goes back to the previous page.
func (c *Common) Pop() tea.Cmd {
	c.nav = append(c.nav, nil)
	return nil
}

// TakeNav returns and clears the navigation asked for since the last call: a page to push, or nil to pop.
func (c *Common) TakeNav() []Page {
	n := c.nav
	c.nav = nil
	return n
}

// Opener builds the pages one page opens from another, so pages never import each other (the root wires it).
type Opener interface {
	Catalog(src *Source) Page
	Object(src *Source, snap catalog.Snapshot) Page
	Pick(src *Source) Page
	Download(src *Source, res *pick.Result) Page
	Validate(src *Source, chain *catalog.Chain) Page
	Restore(src *Source, res *pick.Result) Page
	Compact(src *Source, res *pick.Result) Page
	Copy(src *Source) Page
	Members(src *Source) Page
}
