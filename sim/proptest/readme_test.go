package proptest

import (
	"os"
	"strings"
	"testing"
)

// TestREADMEExampleIsThisPackagesTest: the example test the README shows is
// example_test.go, which this package compiles and runs, word for word.
func TestREADMEExampleIsThisPackagesTest(t *testing.T) {
	src, err := os.ReadFile("example_test.go")
	if err != nil {
		t.Fatal(err)
	}
	_, example, ok := strings.Cut(string(src), "// README: begin example\n")
	example, _, ok2 := strings.Cut(example, "// README: end example\n")
	if !ok || !ok2 {
		t.Fatal("example_test.go lacks its README markers")
	}
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(readme), "```go\npackage mysettings_test\n\n"+example+"```\n") {
		t.Errorf("README's example differs from example_test.go; copy it from there:\n%s", example)
	}
}
