package checker

// The anomaly analyses against their definitions (Anomalies), written out
// as slow loops, on random small histories; and no anomaly at all on
// linearizable histories whose values repeat.

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/rcsim/rcsim/checker/history"
)

// randomKey draws a one-key history: n ops, values from a small alphabet
// (so they repeat), random statuses, invoke times all different.
func randomKey(rnd *rand.Rand, model string, n int) []history.Op {
	var ops []history.Op
	for i := 0; i < n; i++ {
		inv := time.Duration(i*10 + rnd.IntN(5))
		op := history.Op{Client: i % 3, Key: "k", Invoke: inv, Return: inv + time.Duration(rnd.IntN(40)), Status: history.OK}
		switch rnd.IntN(8) {
		case 0:
			op.Status, op.Return = history.Unknown, 0
		case 1:
			op.Status = history.Fail
		}
		v := strconv.Itoa(rnd.IntN(4))
		write := rnd.IntN(2) == 0
		switch {
		case model == "register" && write:
			op.Kind, op.Value, op.Result = "set", v, "OK"
		case model == "register":
			op.Kind = "get"
			if rnd.IntN(4) == 0 {
				op.Nil = true
			} else {
				op.Result = v
			}
		case model == "list" && write:
			op.Kind, op.Value, op.Result = "rpush", v+"."+strconv.Itoa(rnd.IntN(3)), "1"
		case model == "list":
			op.Kind = "lrange"
			for j := 0; j < 4; j++ {
				if rnd.IntN(2) == 0 {
					op.List = append(op.List, strconv.Itoa(j)+"."+strconv.Itoa(rnd.IntN(3)))
				}
			}
		case write:
			op.Kind, op.Result = "incr", v
		default:
			op.Kind, op.Result = "get", v
		}
		if op.Status != history.OK {
			op.Result, op.Nil, op.List = "", false, nil
		}
		ops = append(ops, op)
	}
	return ops
}

func ok(op history.Op, kind string) bool { return op.Status == history.OK && op.Kind == kind }

// slowRegister is the register's definitions, loop by loop.
func slowRegister(ops []history.Op) (lost, stale, unattr []time.Duration) {
	writers := func(v string, before time.Duration) []history.Op {
		var out []history.Op
		for _, o := range ops {
			if o.Kind == "set" && o.Status != history.Fail && o.Value == v && o.Invoke <= before {
				out = append(out, o)
			}
		}
		return out
	}
	missed := func(r, w history.Op) bool {
		if !ok(w, "set") || w.Return >= r.Invoke {
			return false
		}
		if r.Nil {
			return true
		}
		ws := writers(r.Result, r.Return)
		if len(ws) == 0 {
			return false
		}
		for _, x := range ws {
			if x.Status != history.OK || x.Return >= w.Invoke {
				return false
			}
		}
		return true
	}
	readLater := func(r history.Op, v string) bool {
		for _, r2 := range ops {
			if ok(r2, "get") && !r2.Nil && r2.Result == v && r2.Invoke > r.Return && len(writers(v, r2.Return)) > 0 {
				return true
			}
		}
		return false
	}
	for _, w := range ops {
		for _, r := range ops {
			if ok(r, "get") && missed(r, w) && !readLater(r, w.Value) {
				lost = append(lost, w.Invoke)
				break
			}
		}
	}
	for _, r := range ops {
		if !ok(r, "get") {
			continue
		}
		any, isStale, evidence := false, false, false
		for _, w := range ops {
			if !missed(r, w) {
				continue
			}
			any = true
			evidence = evidence || !readLater(r, w.Value)
			for _, r2 := range ops {
				if ws := writers(w.Value, r2.Return); ok(r2, "get") && !r2.Nil && r2.Result == w.Value &&
					r2.Invoke > r.Return && len(ws) == 1 && ws[0].Invoke == w.Invoke {
					isStale = true
				}
			}
		}
		switch {
		case isStale:
			stale = append(stale, r.Invoke)
		case any && !evidence:
			unattr = append(unattr, r.Invoke)
		}
	}
	return lost, stale, unattr
}

// slowList is the list's definitions, loop by loop.
func slowList(ops []history.Op) (lost, stale, unattr []time.Duration) {
	// unattr: see slowListUnattributed.
	pushes := map[string]int{}
	for _, o := range ops {
		if o.Kind == "rpush" && o.Status != history.Fail {
			pushes[o.Value]++
		}
	}
	missed := func(r, w history.Op) bool {
		return ok(w, "rpush") && pushes[w.Value] == 1 && w.Return < r.Invoke && !slices.Contains(r.List, w.Value)
	}
	heldLater := func(r history.Op, v string) bool {
		for _, r2 := range ops {
			if ok(r2, "lrange") && r2.Invoke > r.Return && slices.Contains(r2.List, v) {
				return true
			}
		}
		return false
	}
	for _, w := range ops {
		for _, r := range ops {
			if ok(r, "lrange") && missed(r, w) && !heldLater(r, w.Value) {
				lost = append(lost, w.Invoke)
				break
			}
		}
	}
	for _, r := range ops {
		if !ok(r, "lrange") {
			continue
		}
		isStale := false
		for _, w := range ops {
			isStale = isStale || missed(r, w) && heldLater(r, w.Value)
		}
		if isStale {
			stale = append(stale, r.Invoke)
		}
	}
	return lost, stale, nil
}

// slowCounter is the counter's definitions, loop by loop.
func slowCounter(ops []history.Op) (lost, stale, unattr []time.Duration) {
	num := func(o history.Op) int64 {
		if o.Nil {
			return 0
		}
		n, _ := strconv.ParseInt(o.Result, 10, 64)
		return n
	}
	var last *history.Op
	for i, o := range ops {
		if ok(o, "get") {
			last = &ops[i]
		}
	}
	for _, w := range ops {
		if !ok(w, "incr") {
			continue
		}
		over := false
		for _, w2 := range ops {
			over = over || ok(w2, "incr") && w2.Invoke > w.Return && num(w2) <= num(w)
		}
		if over || last != nil && last.Invoke > w.Return && num(*last) < num(w) {
			lost = append(lost, w.Invoke)
		}
	}
	for _, r := range ops {
		if !ok(r, "get") {
			continue
		}
		found := false
		for _, w := range ops {
			for _, r2 := range ops {
				found = found || ok(w, "incr") && w.Return < r.Invoke && num(w) > num(r) &&
					ok(r2, "get") && r2.Invoke > r.Return && num(r2) >= num(w)
			}
		}
		if found {
			stale = append(stale, r.Invoke)
		}
	}
	return lost, stale, nil
}

func TestAnomaliesMatchTheirDefinitions(t *testing.T) {
	slow := map[string]func([]history.Op) (lost, stale, unattr []time.Duration){
		"register": slowRegister, "list": slowList, "counter": slowCounter}
	rnd := rand.New(rand.NewPCG(7, 7))
	for _, model := range Models {
		for i := 0; i < 3000; i++ {
			ops := randomKey(rnd, model, 1+rnd.IntN(12))
			a := Analyze(model, ops, time.Time{})
			var lost, stale, unattr []time.Duration
			for _, l := range a.Lost {
				lost = append(lost, l.Write.Invoke)
			}
			for _, s := range a.Stale {
				stale = append(stale, s.Read.Invoke)
				if !(s.Missed.Return < s.Read.Invoke && s.Later.Invoke > s.Read.Return) {
					t.Fatalf("%s: stale read with witnesses out of order: %+v", model, s)
				}
			}
			for _, u := range a.Unattributed {
				unattr = append(unattr, u.Read.Invoke)
			}
			wl, ws, wu := slow[model](ops)
			if model == "list" {
				_, _, wu = slowListUnattributed(ops, wl, ws)
			}
			got, want := fmt.Sprint(lost, stale, unattr), fmt.Sprint(wl, ws, wu)
			if got != want {
				t.Fatalf("%s: lost, stale, unattributed = %s, want %s\n%s", model, got, want, dump(ops))
			}
		}
	}
}

// slowListUnattributed recomputes the list's unattributed reads (slowList
// leaves them out of its third result to keep its loops short).
func slowListUnattributed(ops []history.Op, lost, stale []time.Duration) ([]time.Duration, []time.Duration, []time.Duration) {
	pushes := map[string]int{}
	for _, o := range ops {
		if o.Kind == "rpush" && o.Status != history.Fail {
			pushes[o.Value]++
		}
	}
	var unattr []time.Duration
	for _, r := range ops {
		if !ok(r, "lrange") {
			continue
		}
		missedUnique, deficit := false, 0
		for _, w := range ops {
			missedUnique = missedUnique || ok(w, "rpush") && pushes[w.Value] == 1 && w.Return < r.Invoke && !slices.Contains(r.List, w.Value)
		}
		for v, n := range pushes {
			if n < 2 {
				continue
			}
			done, have := 0, 0
			for _, w := range ops {
				if ok(w, "rpush") && w.Value == v && w.Return < r.Invoke {
					done++
				}
			}
			for _, x := range r.List {
				if x == v {
					have++
				}
			}
			deficit += max(0, done-have)
		}
		if !missedUnique && deficit > 0 {
			unattr = append(unattr, r.Invoke)
		}
	}
	return lost, stale, unattr
}

func dump(ops []history.Op) string {
	var b []byte
	for _, o := range ops {
		b = append(b, DescribeOp(o)...)
		b = append(b, '\n')
	}
	return string(b)
}

// TestRepeatedValuesNoFalseFindings: linearizable register histories whose
// values repeat (Jepsen's shape: values 0-4) have no lost, stale or
// unattributed reads, and Porcupine agrees they are linearizable.
func TestRepeatedValuesNoFalseFindings(t *testing.T) {
	for seed := uint64(1); seed <= 20; seed++ {
		ops := genRegisterValues(seed, 400, 1, 5, 5)
		res, err := CheckLinearizable("register", ops, time.Minute)
		if err != nil || res.Verdict != VerdictOK {
			t.Fatalf("seed %d: verdict %s %v", seed, res.Verdict, err)
		}
		if a := Analyze("register", ops, time.Time{}); len(a.Lost)+len(a.Stale)+len(a.Unattributed) > 0 {
			t.Fatalf("seed %d: %d lost, %d stale, %d unattributed in a linearizable history",
				seed, len(a.Lost), len(a.Stale), len(a.Unattributed))
		}
	}
	// The example: set 1, set 2, set 1, get 1.
	var ops []history.Op
	for i, v := range []string{"1", "2", "1"} {
		ops = append(ops, history.Op{Kind: "set", Key: "k", Value: v, Invoke: time.Duration(10 * i),
			Return: time.Duration(10*i + 5), Status: history.OK, Result: "OK"})
	}
	ops = append(ops, history.Op{Kind: "get", Key: "k", Invoke: 40, Return: 45, Status: history.OK, Result: "1"})
	if a := Analyze("register", ops, time.Time{}); len(a.Lost)+len(a.Stale)+len(a.Unattributed) > 0 {
		t.Fatalf("set 1, set 2, set 1, get 1: %+v", a)
	}
}
