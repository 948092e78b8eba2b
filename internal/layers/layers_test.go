// Package layers holds the test that keeps the arrows of DESIGN.md pointing one way:
// cmd -> tui -> engine -> store. It reads the import graph with `go list`.
package layers

import (
	"encoding/json"
	"io"
	"os/exec"
	"strings"
	"testing"
)

const mod = "github.com/etcd-dr/etcd-dr/"

type pkg struct {
	ImportPath string
	Imports    []string
}

func packages(t *testing.T) []pkg {
	out, err := exec.Command("go", "list", "-json=ImportPath,Imports", "../../...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	var pkgs []pkg
	dec := json.NewDecoder(strings.NewReader(string(out)))
	for {
		var p pkg
		if err := dec.Decode(&p); err == io.EOF {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		pkgs = append(pkgs, p)
	}
	return pkgs
}

// rule forbids packages under from to import anything under one of the banned prefixes.
type rule struct {
	from   string
	banned []string
	why    string
}

var rules = []rule{
	{"store", []string{mod + "engine", mod + "tui", mod + "cmd", mod + "internal", "go.etcd.io/etcd"}, "store knows nothing of etcd or the layers above it"},
	{"engine", []string{mod + "tui", mod + "cmd"}, "the engine is a library usable with no terminal"},
	{"tui", []string{mod + "cmd", mod + "store", "go.etcd.io/etcd/client"}, "the TUI talks only to the engine, never to etcd or the store directly"},
	{"cmd", []string{mod + "store"}, "the CLI reaches stores only through the engine's door (engine.Open)"},
}

// testSupport are packages that exist only for tests (harnesses and fixtures shared by several test files):
// everything under internal/. No product package is exempt by its name.
func testSupport(path string) bool {
	return strings.HasPrefix(path, mod+"internal/")
}

func TestArrowsPointDown(t *testing.T) {
	pkgs := packages(t)
	if len(pkgs) < 5 {
		t.Fatalf("go list found only %d packages", len(pkgs))
	}
	for _, p := range pkgs {
		for _, r := range rules {
			if !strings.HasPrefix(p.ImportPath, mod+r.from) {
				continue
			}
			for _, imp := range p.Imports {
				for _, b := range r.banned {
					if strings.HasPrefix(imp, b) && !(testSupport(p.ImportPath) && strings.HasPrefix(imp, mod+"internal")) {
						t.Errorf("%s imports %s: %s", p.ImportPath, imp, r.why)
					}
				}
			}
		}
		if strings.HasPrefix(p.ImportPath, mod+"engine") && !testSupport(p.ImportPath) {
			for _, imp := range p.Imports {
				if strings.HasPrefix(imp, mod+"internal") {
					t.Errorf("%s imports %s: product code must not depend on test fixtures", p.ImportPath, imp)
				}
			}
		}
	}
}
