package sim

import (
	"encoding/json"
	"go/ast"
	"go/parser"
	"go/token"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// allowedImports is DESIGN.md's import table: which rcsim packages each
// package may import. A package not listed may import nothing of rcsim;
// cmd/rcsim may import anything.
var allowedImports = map[string][]string{
	"sim/rng":         {},
	"sim/trace":       {},
	"checker/history": {},
	"node":            {"sim/trace"},
	"netmodel":        {},
	"scenarios":       {},
	"scenarios/gen":   {"scenarios"},
	"sim/workload":    {"node", "checker/history"},
	"sim":             {"node", "netmodel", "scenarios", "sim/rng", "sim/trace", "sim/workload", "checker/history"},
	"checker":         {"checker/history", "sim/trace"},
	"sim/sweep":       {"sim", "scenarios", "checker", "checker/history", "sim/trace", "sim/rng"},
	"sim/explore":     {"sim", "scenarios", "scenarios/gen", "checker", "checker/history", "sim/trace"},
	"sim/realredis":   {"node", "scenarios", "checker/history", "sim/trace", "sim/workload"},
	"sim/calibrate":   {"sim", "scenarios", "checker", "checker/history", "sim/trace"},
	"reports":         {"checker", "checker/history", "sim/trace"},
	"cmd/rcsim":       nil, // anything
}

// TestImportRules enforces the import table with `go list`.
func TestImportRules(t *testing.T) {
	out, err := exec.Command("go", "list", "-json", "rcsim/...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	dec := json.NewDecoder(strings.NewReader(string(out)))
	for dec.More() {
		var p struct {
			ImportPath string
			Imports    []string
		}
		if err := dec.Decode(&p); err != nil {
			t.Fatal(err)
		}
		rel := strings.TrimPrefix(strings.TrimPrefix(p.ImportPath, "rcsim"), "/")
		if rel == "cmd/rcsim" || strings.HasSuffix(rel, "test") && strings.Contains(rel, "/") {
			continue // the CLI, and test helper packages (node/nodetest)
		}
		allowed, known := allowedImports[rel]
		if !known {
			t.Errorf("package %s is not in the import table of DESIGN.md (add it to allowedImports)", rel)
			continue
		}
		for _, imp := range p.Imports {
			if !strings.HasPrefix(imp, "rcsim/") {
				continue
			}
			dep := strings.TrimPrefix(imp, "rcsim/")
			if !contains(allowed, dep) {
				t.Errorf("%s imports %s; allowed: %v", rel, dep, allowed)
			}
		}
	}
}

func contains(xs []string, x string) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}

// forbiddenImports would let real time, shared randomness or concurrency into
// a run.
var forbiddenImports = []string{"math/rand", "crypto/rand", "os", "net", "sync", "sync/atomic", "time/tzdata"}

var forbiddenTimeFuncs = []string{"Now", "Since", "Until", "Sleep", "After", "AfterFunc", "NewTimer", "NewTicker", "Tick"}

// TestDeterminismRules parses the packages that run inside a simulation and
// fails on goroutines, select, forbidden imports, wall-clock time and the
// OS-seeded top-level functions of math/rand/v2.
func TestDeterminismRules(t *testing.T) {
	for _, dir := range []string{".", "../node", "../netmodel", "rng", "workload", "trace"} {
		files, _ := filepath.Glob(filepath.Join(dir, "*.go"))
		for _, f := range files {
			if strings.HasSuffix(f, "_test.go") {
				continue
			}
			checkFile(t, f)
		}
	}
}

func checkFile(t *testing.T, path string) {
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, path, nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]string{} // local name → import path
	for _, imp := range f.Imports {
		p, _ := strconv.Unquote(imp.Path.Value)
		if contains(forbiddenImports, p) {
			t.Errorf("%s imports %s", fset.Position(imp.Pos()), p)
		}
		local := filepath.Base(p)
		if p == "math/rand/v2" {
			local = "rand"
		}
		if imp.Name != nil {
			local = imp.Name.Name
		}
		names[local] = p
	}
	ast.Inspect(f, func(n ast.Node) bool {
		switch x := n.(type) {
		case *ast.GoStmt:
			t.Errorf("%s: go statement", fset.Position(x.Pos()))
		case *ast.SelectStmt:
			t.Errorf("%s: select statement", fset.Position(x.Pos()))
		case *ast.SelectorExpr:
			id, ok := x.X.(*ast.Ident)
			if !ok {
				return true
			}
			switch names[id.Name] {
			case "time":
				if contains(forbiddenTimeFuncs, x.Sel.Name) {
					t.Errorf("%s: time.%s reads or waits on the wall clock", fset.Position(x.Pos()), x.Sel.Name)
				}
			case "math/rand/v2":
				if !contains([]string{"New", "NewPCG", "Rand", "PCG", "NewChaCha8", "Source"}, x.Sel.Name) {
					t.Errorf("%s: rand.%s uses the OS-seeded global source", fset.Position(x.Pos()), x.Sel.Name)
				}
			}
		}
		return true
	})
}
