package checker

// Linearizability: the history is split by key, each key is checked by
// Porcupine on its own within what is left of the check's wall-clock
// budget, and an Illegal key names the few operations around the point
// where every linearization got stuck.

import (
	"cmp"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/anishathalye/porcupine"

	"github.com/rcsim/rcsim/checker/history"
)

// Verdict is the result of a check: VerdictOK, VerdictIllegal or VerdictUnknown.
type Verdict string

// Verdicts.
const (
	// VerdictOK: a linearization exists (Porcupine found one).
	VerdictOK Verdict = "ok"
	// VerdictIllegal: no linearization exists. Deterministic.
	VerdictIllegal Verdict = "illegal"
	// VerdictUnknown: the budget ran out before Porcupine decided. This depends
	// on wall-clock time, so it is never turned into "ok".
	VerdictUnknown Verdict = "unknown"
)

// DefaultBudget is the whole check's time limit used when a caller passes 0.
const DefaultBudget = time.Minute

// MaxConcurrentPerKey bounds the ops in flight at once on one key (an
// unknown write counts from its invoke to the end, as Porcupine sees it).
// Porcupine's time grows exponentially with it and its memory is not bounded
// by its timeout, so a key over the bound is not given to Porcupine at all:
// its verdict is "unknown", the same on every machine.
const MaxConcurrentPerKey = 32

// KeyVerdict is the verdict of one key that was not ok.
type KeyVerdict struct {
	Key     string  `json:"key"`
	Verdict Verdict `json:"verdict"`
	// Ops are the operations involved, in invoke order. Illegal: the op no
	// linearization could place (the one with the earliest return among the
	// ops left out of the longest partial linearization), every op
	// concurrent with it, and the last write of that partial linearization
	// (the write whose state it contradicts). Unknown: empty.
	Ops []history.Op `json:"ops"`
	// Checked is the number of this key's ops given to Porcupine; MaxConcurrent
	// the most of them in flight at once (what Porcupine's cost grows with).
	Checked       int `json:"checked"`
	MaxConcurrent int `json:"max_concurrent"`
	// Reason says why an unknown key was not decided.
	Reason string `json:"reason,omitempty"`
	// Context is the cluster around the ops (Explain); empty without a
	// trace.
	Context []string `json:"context,omitempty"`
}

// Linearizability is the result of CheckLinearizable.
type Linearizability struct {
	Verdict Verdict
	Ops     int          // operations in the history
	Unknown int          // of which status unknown
	Failed  int          // of which status fail (dropped: they had no effect)
	Keys    []KeyVerdict // keys whose verdict is not ok, sorted by key
}

// prepared is one key's operations as Porcupine takes them, with the
// history ops they came from (same index). An Operation's Input, Output
// and Metadata are all its op, a pointer into the history prepare was
// given, so boxing them allocates nothing and no op is copied.
type prepared struct {
	key    string
	ops    []porcupine.Operation
	source []*history.Op
}

// prepare drops failed ops, unknown reads and a register's unread unknown
// writes (checked), gives the other unknown writes an open-ended return
// (after every other op of the key) and groups by key, keys sorted
// (layOut). It rejects ops the model does not know.
func prepare(model string, ops []history.Op) ([]prepared, error) {
	return prepareKept(model, ops, checked(model, ops))
}

// prepareKept is prepare keeping the ops keep accepts.
func prepareKept(model string, ops []history.Op, keep func(*history.Op) bool) ([]prepared, error) {
	allowed := kindsOf[model]
	for i, op := range ops {
		if !slices.Contains(allowed, op.Kind) {
			return nil, fmt.Errorf("checker: op %d (%s %q): the %s model takes only %s",
				i+1, op.Kind, op.Key, model, strings.Join(allowed, " and "))
		}
	}
	l := layOut(ops, keep)
	kept := l.start[len(l.keys)]
	pops, src := make([]porcupine.Operation, kept), make([]*history.Op, kept)
	out := make([]prepared, len(l.keys))
	for k, key := range l.keys {
		a, b := l.start[k], l.start[k+1]
		out[k] = prepared{key: key, ops: pops[a:b:b], source: src[a:b:b]}
	}
	for i, j := range l.slot {
		if j < 0 {
			continue
		}
		op := &ops[i]
		src[j] = op
		pops[j] = porcupine.Operation{ClientId: op.Client, Input: op, Call: int64(op.Invoke),
			Output: op, Return: int64(op.Return), Metadata: op}
	}
	for i := range out {
		p := &out[i]
		end := int64(0)
		for _, o := range p.ops {
			end = max(end, o.Call, o.Return)
		}
		for j := range p.ops {
			if p.source[j].Status == history.Unknown {
				p.ops[j].Return = end + 1
			}
		}
	}
	return out, nil
}

// dropped says whether prepare leaves op out whatever the model: a failed
// op had no effect, and an unknown read says nothing.
func dropped(op *history.Op) bool {
	return op.Status == history.Fail || op.Status == history.Unknown && !IsWrite(op.Kind)
}

// checked is which ops of a history Porcupine is given: those not dropped
// and, for a register, not an unknown set whose value no ok get of its key
// returned. Such a set changes no verdict. With it, a linearization can put
// it last (its return is open-ended), where it changes nothing; and in a
// linearization of the history with it, no read sits between it and the
// next set (that read would have returned its value), so taking it out
// leaves every read's state as it was. Yet each such set is in flight from
// its invoke to the end, so a failover's timed-out writes made keys that
// Porcupine took seconds and GBs to search, or that went over
// MaxConcurrentPerKey: exploring master-crash at seed 248, its 55 shrinking
// runs took 24.3 s and 688 MB of RSS with them and 0.59 s and 151 MB
// without.
// (A counter's unknown incr shifts every later value, and a list's unknown
// push every later push's length, so neither can go.)
func checked(model string, ops []history.Op) func(*history.Op) bool {
	if model != "register" {
		return func(op *history.Op) bool { return !dropped(op) }
	}
	type keyValue struct{ key, value string }
	read := map[keyValue]bool{}
	for i := range ops {
		if op := &ops[i]; op.Kind == "get" && op.Status == history.OK && !op.Nil {
			read[keyValue{op.Key, op.Result}] = true
		}
	}
	return func(op *history.Op) bool {
		return !dropped(op) && !(op.Kind == "set" && op.Status == history.Unknown && !read[keyValue{op.Key, op.Value}])
	}
}

// CheckLinearizable checks ops against model ("register", "counter" or
// "list"), key by key. Status fail ops are dropped (they had no effect);
// unknown reads are dropped; unknown writes may take effect at any time after
// their invoke, or never. budget bounds the whole check in wall-clock time
// (0: DefaultBudget); a key still undecided when it runs out is "unknown",
// and so is the whole verdict unless another key is "illegal". Ok and
// illegal verdicts do not depend on the budget or the machine.
func CheckLinearizable(model string, ops []history.Op, budget time.Duration) (Linearizability, error) {
	if budget <= 0 {
		budget = DefaultBudget
	}
	return checkLinearizable(model, ops, time.Now().Add(budget))
}

// checkLinearizable is CheckLinearizable with the deadline of the whole
// check.
func checkLinearizable(model string, ops []history.Op, deadline time.Time) (Linearizability, error) {
	m, err := porcupineModel(model)
	if err != nil {
		return Linearizability{}, err
	}
	parts, err := prepare(model, ops)
	if err != nil {
		return Linearizability{}, err
	}
	res := Linearizability{Verdict: VerdictOK, Ops: len(ops)}
	for _, op := range ops {
		switch op.Status {
		case history.Unknown:
			res.Unknown++
		case history.Fail:
			res.Failed++
		}
	}
	verdicts := make([]KeyVerdict, len(parts))
	var wg sync.WaitGroup
	next := make(chan int)
	for w := 0; w < runtime.GOMAXPROCS(0); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				verdicts[i] = checkKey(m, parts[i], deadline)
			}
		}()
	}
	for i := range parts {
		next <- i
	}
	close(next)
	wg.Wait()
	for _, kv := range verdicts {
		switch kv.Verdict {
		case VerdictIllegal:
			res.Verdict = VerdictIllegal
		case VerdictUnknown:
			if res.Verdict == VerdictOK {
				res.Verdict = VerdictUnknown
			}
		default:
			continue
		}
		res.Keys = append(res.Keys, kv)
	}
	return res, nil
}

// checkKey runs Porcupine on one key.
func checkKey(m porcupine.Model, p prepared, deadline time.Time) KeyVerdict {
	kv := KeyVerdict{Key: p.key, Checked: len(p.ops), MaxConcurrent: maxConcurrent(p.ops)}
	if kv.MaxConcurrent > MaxConcurrentPerKey {
		kv.Verdict = VerdictUnknown
		kv.Reason = fmt.Sprintf("%d ops in flight at once, over the bound of %d: not checked", kv.MaxConcurrent, MaxConcurrentPerKey)
		return kv
	}
	if kv.MaxConcurrent <= 1 && sequentialOK(m, p.ops) {
		kv.Verdict = VerdictOK
		return kv
	}
	left := time.Until(deadline)
	if left <= 0 {
		kv.Verdict, kv.Reason = VerdictUnknown, "the budget ran out before this key was checked"
		return kv
	}
	result, info := porcupine.CheckOperationsVerbose(m, p.ops, left)
	switch result {
	case porcupine.Ok:
		kv.Verdict = VerdictOK
	case porcupine.Illegal:
		kv.Verdict = VerdictIllegal
		kv.Ops = involved(p, info)
	default:
		kv.Verdict = VerdictUnknown
		kv.Reason = "the budget ran out while checking this key"
	}
	return kv
}

// sequentialOK says whether ops, no two of which overlap in time (at most
// one in flight at once), are legal for m one after the other in the order
// they were called. Such a history has exactly one order that respects real
// time, so it is linearizable if and only if that order is legal: ok from
// here is Porcupine's ok, without its search's set-up (a sweep of
// master-crash had a quarter of its checker's time in Porcupine, most of its
// keys touched by one client at a time). A history this rejects still goes
// to Porcupine, which names the ops of the violation.
func sequentialOK(m porcupine.Model, ops []porcupine.Operation) bool {
	order := make([]int32, len(ops))
	for i := range order {
		order[i] = int32(i)
	}
	slices.SortFunc(order, func(a, b int32) int { return cmp.Compare(ops[a].Call, ops[b].Call) })
	state := m.Init()
	for _, i := range order {
		ok, next := m.Step(state, ops[i].Input, ops[i].Output)
		if !ok {
			return false
		}
		state = next
	}
	return true
}

// maxConcurrent is the largest number of ops whose closed intervals overlap.
func maxConcurrent(ops []porcupine.Operation) int {
	type edge struct {
		at   int64
		step int
	}
	edges := make([]edge, 0, 2*len(ops))
	for _, o := range ops {
		edges = append(edges, edge{o.Call, 1}, edge{o.Return, -1})
	}
	slices.SortFunc(edges, func(a, b edge) int {
		if c := cmp.Compare(a.at, b.at); c != 0 {
			return c
		}
		return -cmp.Compare(a.step, b.step) // calls first: intervals are closed
	})
	cur, best := 0, 0
	for _, e := range edges {
		cur += e.step
		best = max(best, cur)
	}
	return best
}

// involved picks the ops around the violation from the longest partial
// linearization (ties broken by the smallest op ids, for determinism).
func involved(p prepared, info porcupine.LinearizationInfo) []history.Op {
	var longest []int
	for _, part := range info.PartialLinearizations() {
		for _, seq := range part {
			if len(seq) > len(longest) || len(seq) == len(longest) && slices.Compare(seq, longest) < 0 {
				longest = seq
			}
		}
	}
	in := make([]bool, len(p.ops))
	for _, id := range longest {
		in[id] = true
	}
	culprit := -1
	for i, o := range p.ops {
		if in[i] {
			continue
		}
		if culprit < 0 || o.Return < p.ops[culprit].Return ||
			o.Return == p.ops[culprit].Return && o.Call < p.ops[culprit].Call {
			culprit = i
		}
	}
	if culprit < 0 {
		return nil
	}
	pick := make([]bool, len(p.ops))
	c := p.ops[culprit]
	for i, o := range p.ops {
		pick[i] = o.Call <= c.Return && o.Return >= c.Call
	}
	for j := len(longest) - 1; j >= 0; j-- {
		if id := longest[j]; IsWrite(p.source[id].Kind) {
			pick[id] = true
			break
		}
	}
	var out []history.Op
	for i, ok := range pick {
		if ok {
			out = append(out, *p.source[i])
		}
	}
	slices.SortStableFunc(out, func(a, b history.Op) int { return cmp.Compare(a.Invoke, b.Invoke) })
	return out
}
