package main

import (
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"strings"
	"testing"
)

// TestPackageDocsOpenWithTheOverview: `go doc rcsim/PKG` concatenates every
// comment attached to a package clause, in file order, so a file's own
// opening sentence must be detached from it (a blank line, or after the
// clause); only the package's overview ("Package x …") may be attached.
func TestPackageDocsOpenWithTheOverview(t *testing.T) {
	root := filepath.Join("..", "..")
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return err
		}
		f, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.PackageClauseOnly|parser.ParseComments)
		if err != nil {
			return err
		}
		if f.Doc == nil {
			return nil
		}
		doc := f.Doc.Text()
		if !strings.HasPrefix(doc, "Package "+f.Name.Name+" ") && !(f.Name.Name == "main" && strings.HasPrefix(doc, "Command ")) {
			t.Errorf("%s: a comment attached to the package clause that is not the overview: %q", path, strings.SplitN(doc, "\n", 2)[0])
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
