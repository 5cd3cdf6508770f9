package scenarios

import (
	"errors"
	"testing"
)

func TestSuggest(t *testing.T) {
	kinds := []string{"register", "counter", "list", "none"}
	for _, c := range []struct {
		word  string
		known []string
		want  string
	}{
		{"registr", kinds, "register"},
		{"conter", kinds, "counter"},
		{"regis", kinds, "register"}, // a prefix
		{"queue", kinds, ""},
		{"sed", []string{"seed", "seeds", "out"}, "seed"},
		{"cluster-node-timout", []string{"cluster-ping-interval", "cluster-node-timeout"}, "cluster-node-timeout"},
		{"x", []string{"seed"}, ""},
	} {
		if got := Suggest(c.word, c.known); got != c.want {
			t.Errorf("Suggest(%q) = %q, want %q", c.word, got, c.want)
		}
	}
}

// TestBadKindIsOneError: a misspelt workload kind is reported once, with a
// suggestion, not followed by "clients must be 0 with kind none".
func TestBadKindIsOneError(t *testing.T) {
	_, err := Parse("k.yaml", []byte("name: x\ndescription: d\nduration: 10s\nworkload:\n  kind: registr\n  clients: 2\n"))
	var e *Error
	if !errors.As(err, &e) || len(e.Problems) != 1 {
		t.Fatalf("want one problem, got %v", err)
	}
}
