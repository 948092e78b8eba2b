package tui

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// The layering rule of the design: tui talks to the engine only through its one door (engine.Repo) plus the
// engine's data types, never to a store, never to etcd, never to cmd; pages never import each other (the opener
// wires them); components and common import no page.
func TestImportRules(t *testing.T) {
	const mod = "github.com/etcd-dr/etcd-dr/"
	err := filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return err
		}
		f, err := parser.ParseFile(token.NewFileSet(), path, nil, 0)
		if err != nil {
			return err
		}
		dir := filepath.ToSlash(filepath.Dir(path))
		for _, imp := range f.Imports {
			p, _ := strconv.Unquote(imp.Path.Value)
			switch {
			case strings.HasPrefix(p, "go.etcd.io/"):
				t.Errorf("%s imports %s: the TUI reaches etcd only through the engine", path, p)
			case p == mod+"store" || strings.HasPrefix(p, mod+"store/"):
				t.Errorf("%s imports %s: the console holds an engine.Repo, never a raw store", path, p)
			case strings.HasPrefix(p, mod+"cmd"), strings.HasPrefix(p, mod+"internal"):
				t.Errorf("%s imports %s: arrows point cmd -> tui -> engine", path, p)
			case strings.HasPrefix(p, mod+"tui/pages/") && strings.HasPrefix(dir, "pages/"):
				t.Errorf("%s imports %s: pages open each other through common.Opener", path, p)
			case strings.HasPrefix(p, mod+"tui/pages/") && (strings.HasPrefix(dir, "common") || strings.HasPrefix(dir, "components") || strings.HasPrefix(dir, "keymap") || strings.HasPrefix(dir, "styles")):
				t.Errorf("%s imports %s: shared packages know no page", path, p)
			}
		}
		// Engine functions that take a raw store or redo a Repo method: only the Repo may call them.
		ast.Inspect(f, func(n ast.Node) bool {
			sel, ok := n.(*ast.SelectorExpr)
			if !ok {
				return true
			}
			if id, ok := sel.X.(*ast.Ident); ok {
				switch id.Name + "." + sel.Sel.Name {
				case "catalog.Load", "catalog.Open", "download.Download", "download.Object", "validate.Backups", "validate.DataDir",
					"restore.Restore", "restore.CheckTarget", "heartbeat.Read", "store.Open", "pick.Pick":
					t.Errorf("%s calls %s.%s: call the engine.Repo method instead", path, id.Name, sel.Sel.Name)
				}
			}
			return true
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
