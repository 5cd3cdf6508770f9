package checker

// The checker corpus: hand-made histories under testdata/{good,bad}, each
// with its verdict, the exact operations named, and the lost writes.

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rcsim/rcsim/checker/history"
	"github.com/rcsim/rcsim/node/trace"
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
		if rel, _ := filepath.Rel("testdata", f); !seen[filepath.ToSlash(rel)] && !strings.HasPrefix(rel, "outside") {
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
	if err := Visualize(Visual{Model: "register", Ops: ops}, &b); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), "<html") || !strings.Contains(b.String(), `k: set \"c0-2\"`) {
		t.Fatalf("no HTML with the ops: %.200s", b.String())
	}
}

// TestVisualizePage: failing keys first and named, unknown keys listed, ok
// keys cut at MaxDrawnOps, and the trace's faults, failovers and admin
// steps, the notes and the time ticks as annotations.
func TestVisualizePage(t *testing.T) {
	var ops []history.Op
	for k := 0; k < 3*MaxDrawnOps/100; k++ { // ok keys of 100 ops each
		for i := 0; i < 100; i++ {
			at := time.Duration(k*1000+i*10) * time.Millisecond
			ops = append(ops, history.Op{Client: 0, Kind: "set", Key: fmt.Sprintf("ok%03d", k), Value: fmt.Sprint(k, "-", i),
				Invoke: at, Return: at + time.Millisecond, Status: history.OK, Result: "OK"})
		}
	}
	ops = append(ops,
		history.Op{Client: 1, Kind: "set", Key: "zbad", Value: "a", Invoke: 0, Return: 1, Status: history.OK, Result: "OK"},
		history.Op{Client: 1, Kind: "get", Key: "zbad", Invoke: 2, Return: 3, Status: history.OK, Nil: true})
	res, err := CheckLinearizable("register", ops, time.Minute)
	if err != nil || len(res.Keys) != 1 {
		t.Fatalf("%+v %v", res, err)
	}
	keys := append(res.Keys, KeyVerdict{Key: "ok001", Verdict: VerdictUnknown, Reason: "the budget ran out while checking this key"})
	events := []trace.Event{
		{At: time.Second, Kind: trace.Partition, Value: "m0 | m1 m2"},
		{At: 2 * time.Second, Node: "m0r0", Kind: trace.Promoted, Peer: "m0", Epoch: 7},
		{At: 3 * time.Second, Kind: trace.Heal},
		{At: 4 * time.Second, Node: "m1", Kind: trace.Crash, Value: "persist"},
		{At: 5 * time.Second, Kind: trace.Admin, Value: "reshard 100 slots m0 -> m1: done"},
	}
	notes := []history.Note{{At: 6 * time.Second, Line: 9, Who: ":nemesis", Text: ":info :kill"}}
	var b strings.Builder
	if err := Visualize(Visual{Model: "register", Ops: ops, Keys: keys, Trace: events, Notes: notes, Title: "h.jsonl"}, &b); err != nil {
		t.Fatal(err)
	}
	page := b.String()
	for _, want := range []string{"<title>h.jsonl: linearizability</title>", "<b>zbad</b>: illegal",
		"<b>ok001</b>: unknown (the budget ran out while checking this key)", "Keys drawn: zbad, ok001, ok000, ok002,",
		"ok keys are not drawn, to keep the page small"} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	i := strings.Index(page, "const data = ")
	var data struct {
		Partitions []struct {
			History []struct{ Description string }
		}
		Annotations []struct{ Tag, Description string }
	}
	if err := json.Unmarshal([]byte(page[i+len("const data = "):strings.Index(page[i:], "\n")+i]), &data); err != nil {
		t.Fatal(err)
	}
	if d := data.Partitions[0].History[0].Description; !strings.HasPrefix(d, "zbad: ") {
		t.Errorf("first partition starts with %q, want the failing key", d)
	}
	drawn := 0
	for _, p := range data.Partitions[2:] {
		drawn += len(p.History)
	}
	if drawn > MaxDrawnOps {
		t.Errorf("%d ops of ok keys drawn, over %d", drawn, MaxDrawnOps)
	}
	tags := map[string][]string{}
	for _, a := range data.Annotations {
		tags[a.Tag] = append(tags[a.Tag], a.Description)
	}
	want := map[string][]string{"faults": {"partition m0 | m1 m2", "heal", "crash m1"}, "failovers": {"m0r0 promoted over m0"},
		"admin": {"reshard 100 slots m0 -> m1: done"}, "nemesis": {":info :kill"}}
	for tag, w := range want {
		if !reflect.DeepEqual(tags[tag], w) {
			t.Errorf("%s annotations %q, want %q", tag, tags[tag], w)
		}
	}
	if len(tags["virtual time"]) < 5 || tags["virtual time"][0] != "0.000s" {
		t.Errorf("time ticks %q", tags["virtual time"])
	}
}

// TestTooConcurrentKeyIsUnknown: a key with more ops in flight than
// MaxConcurrentPerKey is not handed to Porcupine; its verdict is unknown,
// never ok, and the whole history's verdict is unknown too.
func TestTooConcurrentKeyIsUnknown(t *testing.T) {
	var ops []history.Op
	for c := 0; c <= MaxConcurrentPerKey; c++ {
		ops = append(ops, history.Op{Client: c, Kind: "set", Key: "k", Value: "v" + strconv.Itoa(c),
			Invoke: time.Duration(c), Return: time.Duration(1000 + c), Status: history.OK, Result: "OK"})
	}
	ops = append(ops, history.Op{Client: 0, Kind: "set", Key: "other", Value: "x", Invoke: 0, Return: 1,
		Status: history.OK, Result: "OK"})
	res, err := CheckLinearizable("register", ops, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if res.Verdict != VerdictUnknown || len(res.Keys) != 1 || res.Keys[0].Key != "k" ||
		res.Keys[0].MaxConcurrent != MaxConcurrentPerKey+1 || !strings.Contains(res.Keys[0].Reason, "not checked") {
		t.Fatalf("got %+v, want unknown on k with a reason", res)
	}
	// An illegal key elsewhere still makes the history illegal.
	ops = append(ops, history.Op{Client: 1, Kind: "get", Key: "other", Invoke: 5, Return: 6, Status: history.OK, Nil: true})
	if res, _ = CheckLinearizable("register", ops, time.Minute); res.Verdict != VerdictIllegal {
		t.Fatalf("verdict %s, want illegal", res.Verdict)
	}
}

// TestUnknownVerdictFailsExpectation: budget exhaustion never passes as
// linearizable, whichever way the scenario expected.
func TestUnknownVerdictFailsExpectation(t *testing.T) {
	for _, want := range []bool{true, false} {
		s := Summary{Check: CheckSummary{Verdict: VerdictUnknown}}
		r := expectations(Input{Expect: Expect{Linearizable: &want}}, s, walkStages(nil, false))
		if len(r) != 1 || r[0].OK {
			t.Errorf("expect linearizable=%v with verdict unknown: %+v", want, r)
		}
	}
}

// TestOutsideCorpus: histories as recorders outside rcsim write them
// (repeated values, Jepsen's history.edn, epoch times, no node or slot),
// with the model inferred, the verdict and every count.
func TestOutsideCorpus(t *testing.T) {
	tests := []struct {
		file                      string
		model                     string
		verdict                   Verdict
		lost, stale, unattributed int
	}{
		// set 1, set 2, set 1, get 1: linearizable, nothing lost.
		{"register-repeated-values.jsonl", "register", VerdictOK, 0, 0, 0},
		// Jepsen's shape: 400 ops, values 0-4, linearizable.
		{"jepsen-register-values-0-4.edn", "register", VerdictOK, 0, 0, 0},
		// get 1 after set 2 returned; 2 read later, but a second set 2 explains it.
		{"register-repeated-unattributed.jsonl", "register", VerdictIllegal, 0, 0, 1},
		// Microseconds since the epoch: a nil read after the set, then the set's value.
		{"register-epoch-times.jsonl", "register", VerdictIllegal, 0, 1, 0},
		// Key 1: 11 acknowledged, then 10 read twice; key 2 is fine.
		{"jepsen-register-lost.edn", "register", VerdictIllegal, 1, 0, 0},
		// [1] read after append 2 returned, [1 2] later: stale; an :info append; key 6 read as nil.
		{"jepsen-append-stale.edn", "list", VerdictIllegal, 0, 1, 0},
		// The same value appended twice, both seen: linearizable.
		{"jepsen-append-ok.edn", "list", VerdictOK, 0, 0, 0},
		// "a" pushed twice, one copy read: a push was lost, but not which.
		{"list-duplicate-pushes-lost.jsonl", "list", VerdictIllegal, 0, 0, 1},
		{"counter-outside.jsonl", "counter", VerdictOK, 0, 0, 0},
	}
	seen := map[string]bool{}
	for _, tc := range tests {
		seen[tc.file] = true
		t.Run(tc.file, func(t *testing.T) {
			path := filepath.Join("testdata", "outside", tc.file)
			fh, err := os.Open(path)
			if err != nil {
				t.Fatal(err)
			}
			defer fh.Close()
			read := history.ReadFile
			if strings.HasSuffix(path, ".edn") {
				read = history.ReadJepsen
			}
			f, err := read(path, fh)
			if err != nil {
				t.Fatal(err)
			}
			model, bad, _ := InferModel(f.Ops)
			if bad >= 0 || model != tc.model {
				t.Fatalf("inferred %q (bad op %d), want %s", model, bad, tc.model)
			}
			s, err := Check(Input{History: f.Ops, Model: model, Budget: 10 * time.Second})
			if err != nil {
				t.Fatal(err)
			}
			c := s.Check
			if c.Verdict != tc.verdict || c.LostWrites != tc.lost || c.StaleReads != tc.stale || c.Unattributed != tc.unattributed {
				t.Fatalf("verdict %s, %d lost, %d stale, %d unattributed; want %s, %d, %d, %d",
					c.Verdict, c.LostWrites, c.StaleReads, c.Unattributed, tc.verdict, tc.lost, tc.stale, tc.unattributed)
			}
			if (c.LostWrites+c.StaleReads+c.Unattributed > 0) && c.Verdict == VerdictOK {
				t.Fatalf("anomalies in a history judged linearizable")
			}
		})
	}
	all, _ := filepath.Glob("testdata/outside/*")
	for _, f := range all {
		if !seen[filepath.Base(f)] {
			t.Errorf("%s has no row in the table", f)
		}
	}
}

// TestAnomalyDecidesUnknownKey: a key too concurrent for Porcupine, but
// with a nil read after a completed set, is illegal, not unknown.
func TestAnomalyDecidesUnknownKey(t *testing.T) {
	var ops []history.Op
	for c := 0; c <= MaxConcurrentPerKey; c++ {
		ops = append(ops, history.Op{Client: c, Kind: "set", Key: "k", Value: "v" + strconv.Itoa(c),
			Invoke: time.Duration(c), Return: time.Duration(1000 + c), Status: history.OK, Result: "OK"})
	}
	ops = append(ops, history.Op{Client: 99, Kind: "get", Key: "k", Invoke: 2000, Return: 2001, Status: history.OK, Nil: true})
	s, err := Check(Input{History: ops, Model: "register", Budget: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	c := s.Check
	if c.Verdict != VerdictIllegal || len(c.Keys) != 1 || c.Keys[0].Verdict != VerdictIllegal ||
		!strings.Contains(c.Keys[0].Reason, "not linearizable all the same") || c.LostWrites != MaxConcurrentPerKey+1 {
		t.Fatalf("verdict %s, %d lost, keys %+v", c.Verdict, c.LostWrites, c.Keys)
	}
}

// TestVisualizeBoundsAFailingHotKey: a failing key with more ops than
// MaxDrawnFailingOps is not drawn (the page would grow with every op); the
// header names it with the exact ops the check found, and the other
// failing key is still drawn.
func TestVisualizeBoundsAFailingHotKey(t *testing.T) {
	var ops []history.Op
	n := MaxDrawnFailingOps + 1
	for i := 0; i < n; i++ {
		at := time.Duration(i) * time.Millisecond
		ops = append(ops, history.Op{Client: 0, Kind: "set", Key: "hot", Value: fmt.Sprint(i),
			Invoke: at, Return: at + 100*time.Microsecond, Status: history.OK, Result: "OK"})
	}
	end := time.Duration(n) * time.Millisecond
	ops = append(ops,
		history.Op{Client: 0, Kind: "get", Key: "hot", Invoke: end, Return: end + 1, Status: history.OK, Result: "never-written"},
		history.Op{Client: 1, Kind: "set", Key: "small", Value: "a", Invoke: 0, Return: 1, Status: history.OK, Result: "OK"},
		history.Op{Client: 1, Kind: "get", Key: "small", Invoke: 2, Return: 3, Status: history.OK, Nil: true})
	res, err := CheckLinearizable("register", ops, time.Minute)
	if err != nil || len(res.Keys) != 2 {
		t.Fatalf("%+v %v", res.Keys, err)
	}
	var b strings.Builder
	if err := Visualize(Visual{Model: "register", Ops: ops, Keys: res.Keys, Title: "h.jsonl"}, &b); err != nil {
		t.Fatal(err)
	}
	page := b.String()
	for _, want := range []string{
		fmt.Sprintf("<b>hot</b>: illegal; not drawn: its %d ops are over the page's %d for failing keys", n+1, MaxDrawnFailingOps),
		`&#34;op&#34;:&#34;get&#34;,&#34;key&#34;:&#34;hot&#34;`, // the op no linearization places, as history.jsonl has it
		"Keys drawn: small.",
	} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	if len(page) > 4<<20 {
		t.Errorf("page is %d bytes for a failing key that is not drawn", len(page))
	}
}
