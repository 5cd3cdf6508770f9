package trace

// Typed detail: what an event's Value says, as fields. Value stays the
// stored form (trace.jsonl and its hash are unchanged); the emitter sets
// both, and Decode rebuilds the fields from Value, so a trace read from a
// file carries the same fields as one kept in memory. Consumers (the
// checker, the reports) read the fields, never the text.

import (
	"strconv"
	"strings"
	"time"
)

// SlotRange is an inclusive range of hash slots, as CLUSTER NODES prints it.
type SlotRange struct{ Start, End int }

// FormatRanges prints ranges joined by sep: "0-5460 5462" with a space (as
// CLUSTER NODES and the node's events do), "0-5460,5462" with a comma (as
// Boot and the dumps do).
func FormatRanges(rs []SlotRange, sep string) string {
	var b strings.Builder
	for i, r := range rs {
		if i > 0 {
			b.WriteString(sep)
		}
		b.WriteString(strconv.Itoa(r.Start))
		if r.End != r.Start {
			b.WriteByte('-')
			b.WriteString(strconv.Itoa(r.End))
		}
	}
	return b.String()
}

// ParseRanges reads what FormatRanges writes, with either separator;
// malformed parts are skipped.
func ParseRanges(s string) []SlotRange {
	var out []SlotRange
	for _, part := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' }) {
		lo, hi, found := strings.Cut(part, "-")
		a, err1 := strconv.Atoi(lo)
		b, err2 := a, error(nil)
		if found {
			b, err2 = strconv.Atoi(hi)
		}
		if err1 == nil && err2 == nil && a <= b {
			out = append(out, SlotRange{a, b})
		}
	}
	return out
}

// Outcome is where an admin step is: started, or how it ended.
type Outcome string

// Admin step outcomes.
const (
	StepStart   Outcome = "start"   // "<step>: start"
	StepOK      Outcome = "ok"      // "<step>: ok" or "<step>: ok: …" (e.g. no rebalancing needed)
	StepPartial Outcome = "partial" // "<step>: ok, but …": done, but its last command failed
	StepFailed  Outcome = "failed"  // "<step>: failed: …"
)

// Detail is the typed content of a Fault, Partition, Admin, Boot, Promoted,
// Slots or SetSlot event (nil for the other kinds).
type Detail struct {
	// Fault: the fault ("pause", "resume", "slow", "clock", "one-way",
	// "flap", "loss", "reset", as scenarios name them), whether the event
	// ends it or stops it acting for now (resume, "… end", a flapping link
	// coming up; a clock jump back is a jump), and the endpoints a link
	// fault names on either side (a node fault names Event.Node).
	Fault string
	End   bool
	Names []string
	// Partition: the groups of endpoints.
	Groups [][]string
	// Admin: the step's kind ("reshard", "failover", "add_node",
	// "del_node", "rebalance", "create"), the nodes it names (for del_node
	// the node it removes) and where it is.
	Step    string
	Outcome Outcome
	// Boot (of a master), Promoted, Slots, SetSlot: the slot ranges.
	Slots []SlotRange
	// SetSlot: what CLUSTER SETSLOT did ("migrating", "importing",
	// "stable" or "node").
	Action string
	// Restart: the dataset loaded ("rdb", "aof"; "" none) and the virtual
	// time it reflects (the snapshot's fork, the AOF's last fsync, or the
	// crash when the page cache kept everything written), to the
	// millisecond.
	Source  string
	Through time.Duration
}

// RestartEvent is the Restart event of node name, which loaded keys keys
// from source ("" for none) reflecting the data as of through.
func RestartEvent(name, source string, through time.Duration, keys int) Event {
	e := Event{Kind: Restart, Node: name}
	if source != "" {
		e.Value = "loaded " + source + " of " + FormatTime(through) + " keys=" + strconv.Itoa(keys)
		e.Detail = &Detail{Source: source, Through: through.Truncate(time.Millisecond)}
	}
	return e
}

// Decode sets e.Detail from e.Value for the kinds that have one; it is
// what Read does to every event.
func Decode(e *Event) {
	v := e.Value
	switch e.Kind {
	case Fault:
		e.Detail = decodeFault(v)
	case Partition:
		d := &Detail{}
		for _, g := range strings.Split(v, "|") {
			d.Groups = append(d.Groups, strings.Fields(g))
		}
		e.Detail = d
	case Admin:
		e.Detail = decodeAdmin(v)
	case Boot:
		if rest, ok := strings.CutPrefix(v, "master "); ok {
			e.Detail = &Detail{Slots: ParseRanges(rest)}
		}
	case Promoted, Slots:
		e.Detail = &Detail{Slots: ParseRanges(v)}
	case SetSlot:
		slot, action, _ := strings.Cut(v, " ")
		e.Detail = &Detail{Slots: ParseRanges(slot), Action: action}
	case Restart:
		if f := strings.Fields(v); len(f) >= 4 && f[0] == "loaded" {
			d := &Detail{Source: f[1]}
			d.Through, _ = time.ParseDuration(f[3])
			e.Detail = d
		}
	}
}

// decodeFault reads "pause", "resume backlog=3", "slow 50ms", "slow end",
// "clock jump +2s", "clock drift 5%", "clock drift end skew=+1s",
// "one-way m0 -> m1", "loss 1/10 m0 <-> m1", "flap down|up|end m0 <-> m1",
// "<kind> end m0 -> m1" and "reset m0 <-> m1 connections=2".
func decodeFault(v string) *Detail {
	f := strings.Fields(v)
	if len(f) == 0 {
		return &Detail{}
	}
	d := &Detail{Fault: f[0]}
	rest := f[1:]
	switch d.Fault {
	case "resume":
		d.End = true
	case "slow":
		d.End = len(rest) > 0 && rest[0] == "end"
	case "clock":
		d.End = len(rest) > 1 && rest[0] == "drift" && rest[1] == "end"
	case "one-way", "loss", "flap", "reset":
		if len(rest) > 0 && (rest[0] == "end" || d.Fault == "flap" && rest[0] == "up") {
			d.End = true
		}
		if len(rest) > 0 && (rest[0] == "end" || d.Fault == "flap" || d.Fault == "loss") {
			rest = rest[1:]
		}
		for _, n := range rest {
			if n != "->" && n != "<->" && !strings.HasPrefix(n, "connections=") {
				d.Names = append(d.Names, n)
			}
		}
	}
	return d
}

// decodeAdmin reads "<step>: <outcome>", the step as the admin client
// describes it: "reshard 10 slots m0->m1", "failover r0 force",
// "add_node s0 replica of m0", "del_node s0", "rebalance", "create".
func decodeAdmin(v string) *Detail {
	step, out, _ := strings.Cut(v, ": ")
	d := &Detail{}
	switch {
	case out == "start":
		d.Outcome = StepStart
	case strings.HasPrefix(out, "failed"):
		d.Outcome = StepFailed
	case strings.HasPrefix(out, "ok, but"):
		d.Outcome = StepPartial
	default:
		d.Outcome = StepOK
	}
	f := strings.Fields(step)
	if len(f) == 0 {
		return d
	}
	d.Step = f[0]
	switch d.Step {
	case "reshard":
		if len(f) == 4 {
			from, to, _ := strings.Cut(f[3], "->")
			d.Names = []string{from, to}
		}
	case "failover", "del_node":
		d.Names = f[1:2]
	case "add_node":
		d.Names = f[1:2]
		if len(f) == 5 {
			d.Names = append(d.Names, f[4])
		}
	}
	return d
}
