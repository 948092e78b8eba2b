// Package tui is the interactive face of etcd-dr: Bubble Tea screens and wizards over the engine.
//
// Layout (soft-serve style): common holds what every page shares (size, styles, keys, clock, engine hooks,
// messages); keymap holds every key as data (the help overlay is built from it); styles holds every colour;
// components are reusable pieces (list, text field, progress bar, panels, typed confirmation); pages are the
// screens (stores, catalog, object, pick, download, validate, restore). This file is the root model: a stack of
// pages, the title bar, the footer, the help overlay and the "terminal too small" notice.
package tui

import (
	"context"
	"os"
	"strconv"
	"strings"
	"time"

	"charm.land/bubbles/v2/spinner"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"

	"github.com/etcd-dr/etcd-dr/engine/crypt"
	"github.com/etcd-dr/etcd-dr/tui/common"
	"github.com/etcd-dr/etcd-dr/tui/keymap"
	"github.com/etcd-dr/etcd-dr/tui/pages/stores"
	"github.com/etcd-dr/etcd-dr/tui/styles"
)

// Minimum terminal size; below it the TUI shows a notice instead of a broken layout.
const (
	MinWidth  = 64
	MinHeight = 16
)

// Start names the screen the TUI opens on (a verb run on a terminal opens its wizard).
type Start struct {
	// Screen is "" (Stores), "catalog", "pick", "download", "validate" or "restore"; wizards open once the first
	// store is read.
	Screen      string
	EtcdVersion string
	Revision    string
	// To is download's --to.
	To string
	// DataDir is validate's --data-dir; Restore holds restore's flags (its DataDir too).
	DataDir string
	Restore common.RestoreRequest
}

// Config sets up the TUI.
type Config struct {
	// Stores are the store URLs to open, in order.
	Stores []string
	// Now is the clock (default time.Now); tests fix it.
	Now func() time.Time
	// NoColor drops colours (default: the NO_COLOR environment variable is set and not empty).
	NoColor *bool
	// Cluster reads the live etcd cluster for the Members screen (nil: started without --endpoints).
	Cluster common.ClusterStatus
	// Refresh is how often the shown stores and the Members screen are read again (--refresh, default 10s;
	// negative: only on r).
	Refresh time.Duration
	// MaxAge marks clusters whose newest backup is older on the Fleet screen (--max-age; 0 = none).
	MaxAge time.Duration
	// Decrypt opens encrypted (.age) objects in downloads, checks and restores (nil: they are refused).
	Decrypt crypt.Decrypter
	Start   Start
}

// Model is the root model.
type Model struct {
	c       *common.Common
	cancel  context.CancelFunc
	sources []*common.Source
	stack   []common.Page
	help    bool
	start   Start
	started bool
	// quitting: asked to quit while work was running; the TUI ends once that work has stopped (and cleaned up).
	quitting bool
	retired  []retired // Repos replaced by a newer read, closed when nothing can use them (refresh.go)
	// spinning: the shared spinner's ticks are under way (spin.go).
	spinning bool
	inited   bool // Init has issued the first reads
}

// New builds the root model. ctx ends long work when it is cancelled; the TUI cancels it on quit too.
func New(ctx context.Context, cfg Config) *Model {
	ctx, cancel := context.WithCancel(ctx)
	noColor := os.Getenv("NO_COLOR") != ""
	if cfg.NoColor != nil {
		noColor = *cfg.NoColor
	}
	now := cfg.Now
	if now == nil {
		now = time.Now
	}
	c := &common.Common{Styles: styles.New(noColor), Keys: keymap.Default(), Now: now, Ctx: ctx, Cluster: cfg.Cluster, Refresh: cfg.Refresh, MaxAge: cfg.MaxAge, Decrypt: cfg.Decrypt}
	if c.Refresh == 0 {
		c.Refresh = 10 * time.Second
	}
	c.Spin = common.NewSpinner(c.Styles)
	m := &Model{c: c, cancel: cancel, start: cfg.Start}
	for i, u := range cfg.Stores {
		m.sources = append(m.sources, &common.Source{Index: i, URL: u, Loading: true})
	}
	m.stack = []common.Page{stores.New(c, roots(m.sources), opener{m})}
	return m
}

// Init starts reading every store at once.
func (m *Model) Init() tea.Cmd {
	cmds := make([]tea.Cmd, 0, len(m.sources))
	m.inited = true
	for i, s := range m.sources {
		cmds = append(cmds, common.LoadCmd(m.c.Ctx, i, s.URL, m.c.Decrypt))
	}
	return tea.Batch(append(cmds, m.refreshTick(), m.spin())...)
}

func (m *Model) top() common.Page { return m.stack[len(m.stack)-1] }

// Update routes a message (route) and starts the spinner when the message began a read.
func (m *Model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	if msg, ok := msg.(spinner.TickMsg); ok {
		return m, m.spinTick(msg)
	}
	_, cmd := m.route(msg)
	if spin := m.spin(); spin != nil {
		return m, tea.Batch(cmd, spin) // after the read's command: see spin.go
	}
	return m, cmd
}

// route sends a message on: resize to every page, keys through the global keys first, the rest to the top page.
func (m *Model) route(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		m.c.Width, m.c.Height = msg.Width, msg.Height
		for _, p := range m.stack {
			p.SetSize(m.bodySize())
		}
		return m, nil
	case common.SourceLoadedMsg:
		return m, m.loaded(msg)
	case refreshMsg:
		return m, m.refresh()
	case stores.AddStoreMsg:
		src := &common.Source{Index: len(m.sources), URL: msg.URL, Loading: true}
		m.sources = append(m.sources, src)
		if sp, ok := m.stack[0].(*stores.Page); ok {
			sp.SetSources(roots(m.sources))
		}
		return m, common.LoadCmd(m.c.Ctx, src.Index, src.URL, m.c.Decrypt)
	case tea.KeyPressMsg:
		cmd := m.key(msg)
		return m, tea.Batch(cmd, m.navigate())
	}
	p, cmd := m.top().Update(msg)
	m.stack[len(m.stack)-1] = p
	if m.quitting && !m.top().Busy() {
		return m, m.quit()
	}
	return m, tea.Batch(cmd, m.navigate())
}

// navigate applies the pushes and pops pages asked for, and starts the pushed pages.
func (m *Model) navigate() tea.Cmd {
	var cmds []tea.Cmd
	for _, p := range m.c.TakeNav() {
		if p == nil {
			if len(m.stack) > 1 {
				m.stack = m.stack[:len(m.stack)-1]
			}
			continue
		}
		p.SetSize(m.bodySize())
		m.stack = append(m.stack, p)
		cmds = append(cmds, p.Init())
	}
	return tea.Batch(cmds...)
}

func (m *Model) key(msg tea.KeyPressMsg) tea.Cmd {
	k := m.c.Keys
	top := m.top()
	if m.quitting {
		if k.Cancel.Matches(msg) {
			return tea.Quit // a second ctrl+c: leave now, whatever the work leaves behind
		}
		return nil // stopping: keys would only start new work
	}
	if m.help {
		if k.Help.Matches(msg) || k.Back.Matches(msg) || k.Quit.Matches(msg) || k.Enter.Matches(msg) {
			m.help = false
			return nil
		}
		if k.Cancel.Matches(msg) {
			return m.quit()
		}
		return nil
	}
	switch {
	case k.Cancel.Matches(msg) && !top.Busy():
		return m.quit()
	case !top.Capturing() && !top.Busy() && k.Quit.Matches(msg):
		return m.quit()
	case k.Help.Matches(msg) && (!top.Capturing() || msg.String() == "f1"): // f1 works in text fields too
		m.help = true
		return nil
	}
	p, cmd := top.Update(msg)
	m.stack[len(m.stack)-1] = p
	return cmd
}

// quit ends the TUI. Running work is cancelled first and the TUI waits for it to stop, so that an engine never
// leaves partial files behind because the process ended under it.
func (m *Model) quit() tea.Cmd {
	m.cancel()
	if m.top().Busy() {
		m.quitting = true
		return nil
	}
	m.closeAll()
	return tea.Quit
}

// loaded stores a read catalog in its source and tells every page.
func (m *Model) loaded(msg common.SourceLoadedMsg) tea.Cmd {
	var src *common.Source
	if msg.Index >= 0 && msg.Index < len(m.sources) {
		src = m.sources[msg.Index]
	}
	if src == nil {
		if msg.Repo != nil {
			msg.Repo.Close()
		}
		return nil
	}
	if src.Repo != nil && src.Repo != msg.Repo {
		m.retire(src.Repo)
	}
	src.Loading, src.Repo, src.Catalog, src.Err, src.Loaded = false, msg.Repo, nil, msg.Err, m.c.Now()
	if msg.Repo != nil {
		src.Catalog = msg.Repo.Catalog()
	}
	var cmds []tea.Cmd
	for i, p := range m.stack {
		np, cmd := p.Update(msg)
		m.stack[i] = np
		cmds = append(cmds, cmd)
	}
	if !m.started && src == m.sources[0] {
		m.started = true
		m.openStart(src)
	}
	return tea.Batch(append(cmds, m.navigate())...)
}

// openStart opens the screen a verb asked for, once its store is read.
func (m *Model) openStart(src *common.Source) {
	if src.Catalog == nil {
		return
	}
	o := opener{m}
	switch m.start.Screen {
	case "":
		o.fleetStart(src)
	case "catalog":
		m.c.Push(o.Catalog(src))
	case "pick":
		m.c.Push(o.pickWith(src, m.start.EtcdVersion, m.start.Revision))
	case "download":
		m.c.Push(o.downloadStart(src, m.start))
	case "restore":
		m.c.Push(o.restoreStart(src, m.start))
	case "validate":
		m.c.Push(o.validateStart(src, m.start))
	}
}

// bodySize is the page area: the screen less the title bar and the footer.
func (m *Model) bodySize() (int, int) {
	return m.c.Width, max(m.c.Height-2, 1)
}

// View renders the title bar, the page (or the help overlay) and the footer. It changes nothing.
func (m *Model) View() tea.View {
	v := tea.NewView(m.render())
	v.AltScreen = true
	v.WindowTitle = "etcd-dr"
	return v
}

func (m *Model) render() string {
	st := m.c.Styles
	w, h := m.c.Width, m.c.Height
	if w == 0 || h == 0 {
		return ""
	}
	if w < MinWidth || h < MinHeight {
		return tooSmall(st, w, h)
	}
	var crumbs []string
	for _, p := range m.stack {
		crumbs = append(crumbs, p.Title())
	}
	title := st.Title.Render("etcd-dr") + " " + st.Crumb.Render(strings.Join(crumbs, " › "))
	bw, bh := m.bodySize()
	var body string
	if m.quitting {
		body = st.Warn.Render("Stopping the running work and cleaning up, then quitting…") + "\n" +
			st.Muted.Render("ctrl+c again leaves at once (partial files may stay behind)")
	} else if m.help {
		body = m.helpView(bw)
	} else {
		body = m.top().View()
	}
	return common.Trunc(title, w) + "\n" + common.Fit(body, bw, bh) + "\n" + m.footer(w)
}

// footer shows the page's keys, cut to fit (bubbles' help view), and always ends with help and quit.
func (m *Model) footer(w int) string {
	st := m.c.Styles
	k := m.c.Keys
	if m.help {
		return keymap.Short(st, w, []keymap.Binding{{Keys: []string{"esc"}, Label: "esc/?", Desc: "close help"}})
	}
	tailKeys := []keymap.Binding{{Keys: k.Help.Keys, Desc: "help"}, k.Quit}
	if m.top().Capturing() { // letters go to a text field: only f1 and ctrl+c are keys here
		tailKeys = []keymap.Binding{{Keys: []string{"f1"}, Desc: "help"}, {Keys: k.Cancel.Keys, Desc: "quit"}}
	}
	tail := keymap.Short(st, 0, tailKeys)
	// Cut again: bubbles' help keeps adding items once even its " …" no longer fits.
	hw := w - lipgloss.Width(tail) - 3
	head := common.Trunc(keymap.Short(st, hw, m.top().Bindings()), hw)
	if head == "" {
		return common.Trunc(tail, w)
	}
	return head + st.KeyDesc.Render(" · ") + tail
}

func tooSmall(st styles.Styles, w, h int) string {
	lines := []string{
		st.Warn.Render("Terminal too small"),
		"",
		"etcd-dr needs at least " + itoa(MinWidth) + "x" + itoa(MinHeight) + ",",
		"this one is " + itoa(w) + "x" + itoa(h) + ".",
		"Enlarge the window (q quits).",
	}
	return common.Fit(strings.Join(lines, "\n"), w, h)
}

func itoa(i int) string { return strconv.Itoa(i) }
