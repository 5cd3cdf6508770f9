// Package checker judges a run: linearizability of the client history with
// Porcupine (register, counter and list models, partitioned by key), failover
// timings from the trace, lost writes, and the summary record of a run.
// Check walks the trace once (pass.go): every trace stage (failovers,
// convergence, invariants, recovery, the timeline that attributes lost
// writes, the admin steps) observes that one walk.
package checker

// The Porcupine models: one per workload kind, each checking one key's
// sub-history. An unknown write is accepted in any state while its effect
// still applies (porcupine's etcdModel trick).

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/anishathalye/porcupine"

	"github.com/rcsim/rcsim/checker/history"
)

// Models is the set of model names CheckLinearizable accepts.
var Models = []string{"register", "counter", "list"}

// A model sees each op whole: an Operation's Input and Output are the same
// *history.Op (prepare), its call (Kind, Value) and its answer (Result,
// Nil, List; status unknown: no answer, so any state is accepted while the
// effect still applies), and boxing a pointer allocates nothing.

// regState is the register state of one key.
type regState struct {
	Value  string
	Exists bool
}

// ctrState is the counter state of one key.
type ctrState struct {
	N      int64
	Exists bool
}

// writeKinds are the op kinds that change state.
var writeKinds = map[string]bool{"set": true, "incr": true, "rpush": true}

// IsWrite reports whether an op kind changes state (set, incr, rpush).
func IsWrite(kind string) bool { return writeKinds[kind] }

// kindsOf lists the op kinds each model accepts.
var kindsOf = map[string][]string{
	"register": {"get", "set"},
	"counter":  {"get", "incr"},
	"list":     {"rpush", "lrange"},
}

// porcupineModel returns the Porcupine model for name, without Partition:
// callers hand it one key's operations.
func porcupineModel(name string) (porcupine.Model, error) {
	var step func(state, in, out any) (bool, any)
	var m porcupine.Model
	switch name {
	case "register":
		m.Init = func() any { return regState{} }
		step = stepRegister
		m.DescribeState = func(s any) string {
			st := s.(regState)
			if !st.Exists {
				return "nil"
			}
			return strconv.Quote(st.Value)
		}
	case "counter":
		m.Init = func() any { return ctrState{} }
		step = stepCounter
		m.DescribeState = func(s any) string {
			st := s.(ctrState)
			if !st.Exists {
				return "nil"
			}
			return strconv.FormatInt(st.N, 10)
		}
	case "list":
		m.Init = func() any { return []string(nil) }
		step = stepList
		m.Equal = func(a, b any) bool { return slices.Equal(a.([]string), b.([]string)) }
		m.DescribeState = func(s any) string { return fmt.Sprintf("%q", s.([]string)) }
	default:
		return porcupine.Model{}, fmt.Errorf("checker: unknown model %q (want %s)", name, strings.Join(Models, ", "))
	}
	m.Step = step
	m.DescribeOperation = describeOp
	m.DescribeOperationMetadata = func(info any) string {
		if info == nil {
			return ""
		}
		return string(history.AppendJSON(nil, *info.(*history.Op)))
	}
	return m, nil
}

func stepRegister(state, in, _ any) (bool, any) {
	st, o := state.(regState), in.(*history.Op)
	switch o.Kind {
	case "set":
		return true, regState{Value: o.Value, Exists: true}
	default: // get
		if o.Status == history.Unknown {
			return true, st
		}
		if o.Nil {
			return !st.Exists, st
		}
		return st.Exists && st.Value == o.Result, st
	}
}

func stepCounter(state, in, _ any) (bool, any) {
	st, o := state.(ctrState), in.(*history.Op)
	switch o.Kind {
	case "incr":
		next := ctrState{N: st.N + 1, Exists: true}
		if o.Status == history.Unknown {
			return true, next
		}
		n, err := strconv.ParseInt(o.Result, 10, 64)
		return err == nil && n == next.N, next
	default: // get
		if o.Status == history.Unknown {
			return true, st
		}
		if o.Nil {
			return !st.Exists, st
		}
		n, err := strconv.ParseInt(o.Result, 10, 64)
		return err == nil && st.Exists && n == st.N, st
	}
}

func stepList(state, in, _ any) (bool, any) {
	st, o := state.([]string), in.(*history.Op)
	switch o.Kind {
	case "rpush":
		next := make([]string, len(st)+1)
		copy(next, st)
		next[len(st)] = o.Value
		if o.Status == history.Unknown || o.Result == "" { // "": the length was not recorded (a Jepsen append)
			return true, next
		}
		n, err := strconv.Atoi(o.Result)
		return err == nil && n == len(next), next
	default: // lrange
		if o.Status == history.Unknown {
			return true, st
		}
		return slices.Equal(st, o.List), st
	}
}

func describeOp(in, _ any) string {
	o := in.(*history.Op)
	var b strings.Builder
	b.WriteString(o.Key + ": " + o.Kind)
	if o.Value != "" || IsWrite(o.Kind) && o.Kind != "incr" {
		b.WriteString(" " + strconv.Quote(o.Value))
	}
	switch {
	case o.Status == history.Unknown:
		b.WriteString(" -> ?")
	case o.Nil:
		b.WriteString(" -> nil")
	case o.Kind == "lrange":
		fmt.Fprintf(&b, " -> %q", o.List)
	case o.Result == "" && o.Kind == "rpush":
		b.WriteString(" -> ok")
	default:
		b.WriteString(" -> " + o.Result)
	}
	return b.String()
}

// DescribeOp renders one history operation on a line, with everything a
// reader needs to find it again: client, node, key, call, outcome and its
// invoke/return times in virtual milliseconds. Used wherever the checker
// names the exact operations behind a verdict.
func DescribeOp(op history.Op) string {
	var b strings.Builder
	fmt.Fprintf(&b, "client %d %s %s", op.Client, op.Kind, strconv.Quote(op.Key))
	if op.Value != "" {
		b.WriteString(" " + strconv.Quote(op.Value))
	}
	switch op.Status {
	case history.Unknown:
		b.WriteString(" -> ? (unknown)")
	case history.Fail:
		b.WriteString(" -> error " + strconv.Quote(op.Err))
	default:
		switch {
		case op.Nil:
			b.WriteString(" -> nil")
		case op.Kind == "lrange":
			fmt.Fprintf(&b, " -> %q", op.List)
		case op.Result == "" && op.Kind == "rpush":
			b.WriteString(" -> ok") // a Jepsen append: no length recorded
		default:
			b.WriteString(" -> " + strconv.Quote(op.Result))
		}
	}
	fmt.Fprintf(&b, " at %s", msString(op.Invoke))
	if op.Status != history.Unknown {
		fmt.Fprintf(&b, "..%s", msString(op.Return))
	}
	if op.Node != "" {
		b.WriteString(" on " + op.Node)
	}
	return b.String()
}

// msString prints a time as seconds with microsecond precision, trailing
// zeros after the milliseconds dropped: 10.234s, 10.234567s, and for a
// history recorded with epoch microseconds 1733000000.006s. Integer
// arithmetic, so no float rounding shows.
func msString(d time.Duration) string {
	us := d.Microseconds()
	sign := ""
	if us < 0 {
		sign, us = "-", -us
	}
	frac := strconv.FormatInt(1_000_000+us%1_000_000, 10)[1:]
	for len(frac) > 3 && frac[len(frac)-1] == '0' {
		frac = frac[:len(frac)-1]
	}
	return sign + strconv.FormatInt(us/1_000_000, 10) + "." + frac + "s"
}

// Accepts reports whether model takes ops of kind.
func Accepts(model, kind string) bool { return slices.Contains(kindsOf[model], kind) }

// InferModel returns the model of ops when none is given: list for rpush
// and lrange, counter for incr, register for set, register for a history
// of gets only (a get means the same in both). When ops mix models it
// returns the index of the first op that does not fit (bad) and of the op
// it conflicts with (other); bad is -1 otherwise.
func InferModel(ops []history.Op) (model string, bad, other int) {
	modelOf := map[string]string{"rpush": "list", "lrange": "list", "incr": "counter", "set": "register"}
	from, firstGet := -1, -1
	for i, op := range ops {
		m, ok := modelOf[op.Kind]
		switch {
		case !ok && model == "list": // a get
			return "", i, from
		case !ok:
			if firstGet < 0 {
				firstGet = i
			}
		case model == "" && m == "list" && firstGet >= 0:
			return "", i, firstGet
		case model == "":
			model, from = m, i
		case m != model:
			return "", i, from
		}
	}
	if model == "" {
		model = "register"
	}
	return model, -1, -1
}

// CheckOps checks that model takes every op: its kind, and for a counter
// integer reads. It returns the index of the first op it refuses.
func CheckOps(model string, ops []history.Op) (int, error) {
	for i, op := range ops {
		if !Accepts(model, op.Kind) {
			return i, fmt.Errorf("the %s model takes only %s", model, strings.Join(kindsOf[model], " and "))
		}
		if model == "counter" && op.Kind == "get" && op.Status == history.OK && !op.Nil {
			if _, err := strconv.ParseInt(op.Result, 10, 64); err != nil {
				return i, fmt.Errorf("%q is not an integer (a counter's get returns one)", op.Result)
			}
		}
	}
	return -1, nil
}
