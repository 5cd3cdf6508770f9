package node

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"strconv"
	"testing"
)

// TestPurity enforces the node's hard rules on its non-test sources: no
// goroutines, no select, no forbidden imports, no wall clock, no global
// randomness.
func TestPurity(t *testing.T) {
	files, _ := filepath.Glob("*.go")
	banned := map[string]bool{"sync": true, "os": true, "net": true, "math/rand": true, "crypto/rand": true}
	randOK := map[string]bool{"Rand": true, "PCG": true, "New": true, "NewPCG": true}
	badTime := map[string]bool{"Now": true, "Since": true, "Until": true, "Sleep": true, "After": true,
		"AfterFunc": true, "NewTimer": true, "NewTicker": true, "Tick": true}
	for _, name := range files {
		if filepath.Ext(name) != ".go" || len(name) > 8 && name[len(name)-8:] == "_test.go" {
			continue
		}
		f, err := parser.ParseFile(token.NewFileSet(), name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, imp := range f.Imports {
			p, _ := strconv.Unquote(imp.Path.Value)
			if banned[p] {
				t.Errorf("%s imports %s", name, p)
			}
		}
		ast.Inspect(f, func(x ast.Node) bool {
			switch x := x.(type) {
			case *ast.GoStmt:
				t.Errorf("%s: go statement", name)
			case *ast.SelectStmt:
				t.Errorf("%s: select", name)
			case *ast.SelectorExpr:
				if id, ok := x.X.(*ast.Ident); ok {
					if id.Name == "time" && badTime[x.Sel.Name] {
						t.Errorf("%s: time.%s", name, x.Sel.Name)
					}
					// The stream's types and constructors, never the
					// package-level (global) draws.
					if id.Name == "rand" && !randOK[x.Sel.Name] {
						t.Errorf("%s: rand.%s", name, x.Sel.Name)
					}
				}
			}
			return true
		})
	}
}
