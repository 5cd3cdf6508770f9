// Package simtest holds test helpers shared by rcsim's packages: the one
// -update flag that regenerates golden files, and golden-file comparison.
package simtest

import (
	"flag"
	"os"
	"path/filepath"
	"testing"
)

// Update is the -update flag: tests rewrite their golden files instead of
// comparing against them. `make golden` sets it.
var Update = flag.Bool("update", false, "rewrite golden files")

// Golden compares got with the file at path, or writes it under -update.
func Golden(t testing.TB, path string, got []byte) {
	t.Helper()
	if *Update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run the test with -update to create it)", err)
	}
	if string(want) != string(got) {
		t.Errorf("%s differs from the output (rerun with -update if the change is intended):\n--- want\n%s\n--- got\n%s", path, want, got)
	}
}
