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
	"scenarios/rng":   {},
	"node/trace":      {},
	"checker/history": {},
	"node":            {"node/trace", "scenarios/rng"},
	"netmodel":        {"scenarios/rng"},
	"scenarios":       {},
	"scenarios/gen":   {"scenarios"},
	"sim/workload":    {"node", "checker/history", "node/trace"},
	"sim/admin":       {"node", "scenarios", "node/trace", "sim/workload"},
	"sim":             {"node", "netmodel", "scenarios", "scenarios/rng", "node/trace", "sim/workload", "sim/admin", "checker/history"},
	"checker":         {"checker/history", "node/trace"},
	"sim/sweep":       {"sim", "scenarios", "checker", "checker/history", "node/trace", "scenarios/rng"},
	"sim/explore":     {"sim", "scenarios", "scenarios/gen", "scenarios/rng", "checker", "checker/history", "node/trace"},
	"sim/realredis":   {"node", "scenarios", "checker/history", "node/trace", "sim/workload"},
	"sim/calibrate":   {"sim", "scenarios", "checker", "checker/history", "node/trace"},
	"reports":         {"checker", "checker/history", "node/trace"},
	"sim/nodetest":    {"node", "node/trace", "scenarios", "sim"},
	"sim/simtest":     {},
	"sim/proptest":    {},
	"sim/ballast":     {},
	"cmd/rcsim":       nil, // anything
}

// floors orders the packages from the leaves up: a package imports only
// packages on lower floors, or on its own floor where the import table
// allows it, so no import runs back up. The leaves sit below everything,
// whichever directory holds them.
var floors = map[string]int{
	"node/trace": 0, "scenarios/rng": 0, "checker/history": 0,
	"node": 1, "netmodel": 1, "scenarios": 1, "scenarios/gen": 1,
	"sim/workload": 2, "sim/admin": 3, "sim/realredis": 3,
	"sim":       4,
	"checker":   5,
	"sim/sweep": 6, "sim/explore": 6, "sim/calibrate": 6, "sim/nodetest": 5,
	"sim/simtest": 0, "sim/proptest": 6, "sim/ballast": 0,
	"reports":   7,
	"cmd/rcsim": 8,
}

// TestImportRules enforces the import table and the floors with `go list`.
func TestImportRules(t *testing.T) {
	out, err := exec.Command("go", "list", "-json", "github.com/rcsim/rcsim/...").Output()
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
		rel := strings.TrimPrefix(strings.TrimPrefix(p.ImportPath, "github.com/rcsim/rcsim"), "/")
		if rel == "cmd/rcsim" {
			continue // the CLI
		}
		if _, ok := floors[rel]; !ok {
			t.Errorf("package %s has no floor (add it to floors)", rel)
		}
		allowed, known := allowedImports[rel]
		if !known {
			t.Errorf("package %s is not in the import table of DESIGN.md (add it to allowedImports)", rel)
			continue
		}
		for _, imp := range p.Imports {
			if !strings.HasPrefix(imp, "github.com/rcsim/rcsim/") {
				continue
			}
			dep := strings.TrimPrefix(imp, "github.com/rcsim/rcsim/")
			if !contains(allowed, dep) {
				t.Errorf("%s imports %s; allowed: %v", rel, dep, allowed)
			}
			if f, ok := floors[dep]; ok && f > floors[rel] {
				t.Errorf("%s (floor %d) imports %s (floor %d): an import back up", rel, floors[rel], dep, f)
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
	for _, dir := range []string{".", "../node", "../netmodel", "../scenarios/rng", "workload", "admin", "../node/trace", "nodetest"} {
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
