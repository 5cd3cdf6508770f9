package checker

import (
	"strconv"
	"testing"
	"time"

	"github.com/anishathalye/porcupine"
	"pgregory.net/rapid"

	"github.com/rcsim/rcsim/checker/history"
)

// sequentialHistory draws ops on one key for model, one at a time (each
// invoked after the last returned), with results drawn from small sets so
// that many are wrong, and a few failed or unknown.
func sequentialHistory(t *rapid.T, model string) []history.Op {
	kinds := kindsOf[model]
	var ops []history.Op
	at := time.Duration(0)
	for range rapid.IntRange(0, 10).Draw(t, "n") {
		at += time.Duration(rapid.IntRange(1, 3).Draw(t, "gap")) * time.Millisecond
		op := history.Op{Client: rapid.IntRange(0, 2).Draw(t, "client"), Key: "k",
			Kind: rapid.SampledFrom(kinds).Draw(t, "kind"), Invoke: at, Status: history.OK}
		at += time.Duration(rapid.IntRange(0, 2).Draw(t, "lat")) * time.Millisecond
		op.Return = at
		switch op.Kind {
		case "set", "rpush":
			op.Value = rapid.SampledFrom([]string{"a", "b"}).Draw(t, "value")
			op.Result = "OK"
			if op.Kind == "rpush" {
				op.Result = strconv.Itoa(rapid.IntRange(1, 4).Draw(t, "len"))
			}
		case "incr":
			op.Result = strconv.Itoa(rapid.IntRange(1, 4).Draw(t, "n"))
		case "get":
			op.Nil = rapid.Bool().Draw(t, "nil")
			if !op.Nil {
				op.Result = rapid.SampledFrom([]string{"a", "b", "1", "2", "3"}).Draw(t, "result")
			}
		case "lrange":
			op.List = rapid.SliceOfN(rapid.SampledFrom([]string{"a", "b"}), 0, 3).Draw(t, "list")
		}
		switch rapid.IntRange(0, 9).Draw(t, "status") {
		case 0:
			op.Status = history.Fail
		case 1:
			op.Status = history.Unknown // an unknown write overlaps every later op
		}
		ops = append(ops, op)
	}
	return ops
}

// replayed is ops with every result set to what a sequential replay gives:
// a history that is legal by construction.
func replayed(model string, ops []history.Op) []history.Op {
	out := append([]history.Op(nil), ops...)
	var v string
	exists := false
	var n int64
	var list []string
	for i := range out {
		op := &out[i]
		op.Nil, op.Result, op.List, op.Status = false, "", nil, history.OK
		switch op.Kind {
		case "set":
			v, exists, op.Result = op.Value, true, "OK"
		case "incr":
			n, exists = n+1, true
			op.Result = strconv.FormatInt(n, 10)
		case "rpush":
			list = append(list, op.Value)
			op.Result = strconv.Itoa(len(list))
		case "lrange":
			op.List = append([]string{}, list...)
		case "get":
			switch {
			case !exists:
				op.Nil = true
			case model == "counter":
				op.Result = strconv.FormatInt(n, 10)
			default:
				op.Result = v
			}
		}
	}
	return out
}

// TestSequentialOKIsPorcupinesVerdict: on a history with at most one op in
// flight at once (as prepare leaves it: failed ops dropped, unknown writes
// open-ended), the fast path's ok is Porcupine's, both ways, for every
// model; on the same history with its results replayed and every op ok it
// is ok.
func TestSequentialOKIsPorcupinesVerdict(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		model := rapid.SampledFrom(Models).Draw(t, "model")
		m, err := porcupineModel(model)
		if err != nil {
			t.Fatal(err)
		}
		drawn := sequentialHistory(t, model)
		for _, ops := range [][]history.Op{drawn, replayed(model, drawn)} {
			parts, err := prepare(model, ops)
			if err != nil {
				t.Fatal(err)
			}
			for _, p := range parts {
				if maxConcurrent(p.ops) > 1 {
					continue // an unknown write: checkKey leaves it to Porcupine
				}
				fast, slow := sequentialOK(m, p.ops), porcupine.CheckOperations(m, p.ops)
				if fast != slow {
					t.Fatalf("%s: sequentialOK %v, Porcupine %v on %v", model, fast, slow, p.ops)
				}
			}
		}
		if parts, _ := prepare(model, replayed(model, drawn)); len(parts) > 0 && !sequentialOK(m, parts[0].ops) {
			t.Fatalf("%s: the replayed history is not ok", model)
		}
	})
}

// concurrentRegister draws a register history on one key: up to three
// clients, each one op at a time, overlapping one another, values and
// results from small sets, some writes unknown and some ops failed.
func concurrentRegister(t *rapid.T) []history.Op {
	var ops []history.Op
	for c := range rapid.IntRange(1, 3).Draw(t, "clients") {
		at := time.Duration(rapid.IntRange(0, 3).Draw(t, "start")) * time.Millisecond
		for range rapid.IntRange(0, 4).Draw(t, "n") {
			op := history.Op{Client: c, Key: "k", Invoke: at, Status: history.OK}
			at += time.Duration(rapid.IntRange(0, 4).Draw(t, "lat")) * time.Millisecond
			op.Return = at
			at += time.Duration(rapid.IntRange(1, 2).Draw(t, "gap")) * time.Millisecond
			if rapid.Bool().Draw(t, "write") {
				op.Kind, op.Result = "set", "OK"
				op.Value = rapid.SampledFrom([]string{"a", "b", "c"}).Draw(t, "value")
				switch rapid.IntRange(0, 4).Draw(t, "status") {
				case 0, 1:
					op.Status = history.Unknown
				case 2:
					op.Status = history.Fail
				}
			} else {
				op.Kind = "get"
				if op.Nil = rapid.IntRange(0, 3).Draw(t, "nil") == 0; !op.Nil {
					op.Result = rapid.SampledFrom([]string{"a", "b", "c"}).Draw(t, "result")
				}
			}
			ops = append(ops, op)
		}
	}
	return ops
}

// TestUnreadUnknownSetsChangeNoVerdict: leaving out a register's unknown
// sets whose value no get returned (checked) gives Porcupine's verdict
// on the whole history.
func TestUnreadUnknownSetsChangeNoVerdict(t *testing.T) {
	m, err := porcupineModel("register")
	if err != nil {
		t.Fatal(err)
	}
	all := func(op *history.Op) bool { return !dropped(op) }
	rapid.Check(t, func(t *rapid.T) {
		ops := concurrentRegister(t)
		whole, err1 := prepareKept("register", ops, all)
		pruned, err2 := prepare("register", ops)
		if err1 != nil || err2 != nil {
			t.Fatalf("prepare: %v %v", err1, err2)
		}
		// One key: without its unread unknown sets it may have no op left,
		// which is linearizable.
		a, b := true, true
		if len(whole) > 0 {
			a = porcupine.CheckOperations(m, whole[0].ops)
		}
		if len(pruned) > 0 {
			b = porcupine.CheckOperations(m, pruned[0].ops)
		}
		if a != b {
			t.Fatalf("Porcupine says %v on the whole history and %v without its unread unknown sets: %v", a, b, ops)
		}
	})
}
