package checker

// The checker corpus: hand-made histories under testdata/{good,bad}, each
// with its verdict, the exact operations named, and the lost writes.

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"rcsim/checker/history"
)

func readHistory(t *testing.T, path string) []history.Op {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	ops, err := history.Read(path, f)
	if err != nil {
		t.Fatal(err)
	}
	return ops
}

// lines maps ops back to their 1-based line numbers in all.
func lines(t *testing.T, all, some []history.Op) []int {
	t.Helper()
	var out []int
	for _, op := range some {
		found := 0
		for i, o := range all {
			if reflect.DeepEqual(o, op) {
				found = i + 1
				break
			}
		}
		if found == 0 {
			t.Fatalf("op %+v is not in the history", op)
		}
		out = append(out, found)
	}
	return out
}

func TestCorpus(t *testing.T) {
	tests := []struct {
		file    string
		verdict Verdict
		named   []int    // lines of the ops KeyVerdict names
		lost    []int    // lines of LostWrites
		stale   [][3]int // lines of StaleReads: read, missed write, later read
	}{
		{"good/register.jsonl", VerdictOK, nil, nil, nil},
		{"good/list.jsonl", VerdictOK, nil, nil, nil},
		{"good/counter.jsonl", VerdictOK, nil, nil, nil},
		// A read of the older value after a newer set returned, then the newer
		// value again: a stale read, not a lost write.
		{"bad/register-stale-read.jsonl", VerdictIllegal, []int{2, 3}, nil, [][3]int{{3, 2, 4}}},
		// c0-2 was read, then c0-1 came back and stayed: lost.
		{"bad/register-lost-write.jsonl", VerdictIllegal, []int{2, 4}, []int{2}, nil},
		{"bad/list-reordered.jsonl", VerdictIllegal, []int{2, 3}, nil, nil},
		{"bad/list-duplicate.jsonl", VerdictIllegal, []int{1, 2}, nil, nil},
		{"bad/list-lost-write.jsonl", VerdictIllegal, []int{2, 3}, []int{2}, nil},
		{"bad/list-stale-read.jsonl", VerdictIllegal, []int{2, 3}, nil, [][3]int{{3, 2, 4}}},
		{"bad/counter-lost-write.jsonl", VerdictIllegal, []int{2, 3}, []int{2}, nil},
		{"bad/counter-stale-read.jsonl", VerdictIllegal, []int{2, 3}, nil, [][3]int{{3, 2, 4}}},
	}
	seen := map[string]bool{}
	for _, tc := range tests {
		seen[tc.file] = true
		t.Run(tc.file, func(t *testing.T) {
			ops := readHistory(t, filepath.Join("testdata", tc.file))
			model, _, _ := strings.Cut(filepath.Base(tc.file), "-")
			model = strings.TrimSuffix(model, ".jsonl")
			res, err := CheckLinearizable(model, ops, 10*time.Second)
			if err != nil {
				t.Fatal(err)
			}
			if res.Verdict != tc.verdict {
				t.Fatalf("verdict %s, want %s", res.Verdict, tc.verdict)
			}
			var named []int
			for _, k := range res.Keys {
				named = append(named, lines(t, ops, k.Ops)...)
			}
			if !reflect.DeepEqual(named, tc.named) {
				t.Errorf("named lines %v, want %v", named, tc.named)
			}
			if got := lines(t, ops, LostWrites(model, ops)); !reflect.DeepEqual(got, tc.lost) {
				t.Errorf("lost lines %v, want %v", got, tc.lost)
			}
			var stale [][3]int
			for _, s := range StaleReads(model, ops) {
				l := lines(t, ops, []history.Op{s.Read, s.Missed, s.Later})
				stale = append(stale, [3]int{l[0], l[1], l[2]})
			}
			if !reflect.DeepEqual(stale, tc.stale) {
				t.Errorf("stale reads (read, missed, later) %v, want %v", stale, tc.stale)
			}
		})
	}
	all, _ := filepath.Glob("testdata/*/*.jsonl")
	for _, f := range all {
		if rel, _ := filepath.Rel("testdata", f); !seen[filepath.ToSlash(rel)] {
			t.Errorf("%s has no row in the table", f)
		}
	}
}

func TestCorpusCounts(t *testing.T) {
	ops := readHistory(t, "testdata/good/register.jsonl")
	res, err := CheckLinearizable("register", ops, 0)
	if err != nil {
		t.Fatal(err)
	}
	if res.Ops != 11 || res.Unknown != 2 || res.Failed != 1 || len(res.Keys) != 0 {
		t.Fatalf("got %+v, want 11 ops, 2 unknown, 1 failed, no keys", res)
	}
}

func TestUnknownWriteObservedThenUnobserved(t *testing.T) {
	ops := []history.Op{
		{Client: 0, Kind: "set", Key: "k", Value: "a", Invoke: 0, Status: history.Unknown},
		{Client: 1, Kind: "get", Key: "k", Invoke: 10, Return: 20, Status: history.OK, Result: "a"},
		{Client: 1, Kind: "get", Key: "k", Invoke: 30, Return: 40, Status: history.OK, Nil: true},
	}
	res, err := CheckLinearizable("register", ops, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if res.Verdict != VerdictIllegal {
		t.Fatalf("verdict %s, want illegal", res.Verdict)
	}
}

func TestCheckLinearizableErrors(t *testing.T) {
	if _, err := CheckLinearizable("queue", nil, 0); err == nil || err.Error() != `checker: unknown model "queue" (want register, counter, list)` {
		t.Errorf("unknown model: %v", err)
	}
	ops := []history.Op{{Kind: "rpush", Key: "k", Status: history.OK}}
	if _, err := CheckLinearizable("register", ops, 0); err == nil || err.Error() != `checker: op 1 (rpush "k"): the register model takes only get and set` {
		t.Errorf("wrong kind: %v", err)
	}
}

func TestVisualize(t *testing.T) {
	ops := readHistory(t, "testdata/bad/register-lost-write.jsonl")
	var b strings.Builder
	if err := Visualize("register", ops, &b); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), "<html") || !strings.Contains(b.String(), `set \"c0-2\"`) {
		t.Fatalf("no HTML with the ops: %.200s", b.String())
	}
}
