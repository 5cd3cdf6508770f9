// The link faults (one-way, flap, loss, reset), the node faults (slow,
// clock) and the values they share with the network section: sides of a
// link set, loss ratios, bandwidths and percentages.

package scenarios

import (
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// linkFaultFields lists, per link fault, the keys of its mapping.
var linkFaultFields = map[FaultKind][]string{
	OneWay: {"from", "to"},
	Flap:   {"from", "to", "period", "duty", "directed"},
	Loss:   {"from", "to", "ratio", "directed"},
	Reset:  {"from", "to"},
}

// linkFault reads {from: …, to: …} and the fields of its kind.
func (p *parser) linkFault(f *Fault, v *yaml.Node, path string, nm names) bool {
	m := p.fields(v, path, linkFaultFields[f.Kind], nil)
	if m == nil {
		return false
	}
	ok := p.requireKeys(v, m, path, linkFaultFields[f.Kind], "directed", "duty")
	if m["from"] != nil && m["to"] != nil {
		ok = p.sides(f, m["from"], m["to"], path, nm) && ok
	}
	if x := m["period"]; x != nil {
		var good bool
		f.Period, good = p.duration(x, path+".period", time.Millisecond)
		ok = ok && good
	}
	if f.Kind == Flap {
		f.DutyPct = 50
	}
	if x := m["duty"]; x != nil {
		var good bool
		f.DutyPct, good = p.percent(x, path+".duty", 1, 99)
		ok = ok && good
	}
	if x := m["ratio"]; x != nil {
		r, good := p.ratio(x, path+".ratio")
		if good && r.Num == 0 {
			p.add(x.Line, path+".ratio", "must be above 0 (a loss fault that loses nothing)")
			good = false
		}
		f.Ratio = r
		ok = ok && good
	}
	if x := m["directed"]; x != nil {
		var good bool
		f.Directed, good = p.boolean(x, path+".directed")
		ok = ok && good
	}
	return ok
}

// requireKeys reports each key of want (but the optional ones) missing from m.
func (p *parser) requireKeys(n *yaml.Node, m map[string]*yaml.Node, path string, want []string, optional ...string) bool {
	ok := true
	for _, k := range want {
		if m[k] == nil && !strings.Contains(" "+strings.Join(optional, " ")+" ", " "+k+" ") {
			p.add(n.Line, path+"."+k, "required")
			ok = false
		}
	}
	return ok
}

// sides reads the two sides of a link set: each a target or a list of
// targets; rest may stand on one side only; no name on both sides.
func (p *parser) sides(f *Fault, from, to *yaml.Node, path string, nm names) bool {
	var ok [2]bool
	f.From, ok[0] = p.side(from, path+".from", nm)
	f.To, ok[1] = p.side(to, path+".to", nm)
	if !ok[0] || !ok[1] {
		return false
	}
	if hasRest(f.From) && hasRest(f.To) {
		p.add(to.Line, path+".to", "rest on both sides")
		return false
	}
	for _, a := range f.From {
		for _, b := range f.To {
			if !a.Rest && a.String() == b.String() && a.Name != "" {
				p.add(to.Line, path+".to", fmt.Sprintf("%s is on both sides", a.String()))
				return false
			}
		}
	}
	return true
}

func hasRest(ts []Target) bool {
	for _, t := range ts {
		if t.Rest {
			return true
		}
	}
	return false
}

// side reads one target or a non-empty list of distinct targets.
func (p *parser) side(v *yaml.Node, path string, nm names) ([]Target, bool) {
	if v.Kind != yaml.SequenceNode {
		t, ok := p.target(v, path, nm, 0, true)
		return []Target{t}, ok
	}
	items, _ := p.list(v, path)
	if len(items) == 0 {
		p.add(v.Line, path, "empty list")
		return nil, false
	}
	ok := true
	seen := map[string]bool{}
	out := make([]Target, 0, len(items))
	for i, it := range items {
		ipath := path + "[" + strconv.Itoa(i) + "]"
		t, good := p.target(it, ipath, nm, 0, true)
		if good && seen[t.String()] {
			p.add(it.Line, ipath, t.String()+" is listed twice")
			good = false
		}
		seen[t.String()] = true
		ok = ok && good
		out = append(out, t)
	}
	return out, ok
}

// nodeFault reads slow {node, delay} or clock {node, jump | drift}.
func (p *parser) nodeFault(f *Fault, v *yaml.Node, path string, nm names) bool {
	keys := []string{"node", "delay"}
	if f.Kind == Clock {
		keys = []string{"node", "jump", "drift"}
	}
	m := p.fields(v, path, keys, nil)
	if m == nil {
		return false
	}
	ok := true
	if m["node"] == nil {
		p.add(v.Line, path+".node", "required")
		ok = false
	} else {
		var good bool
		f.Target, good = p.nodeTarget(m["node"], path+".node", nm)
		ok = ok && good
	}
	switch {
	case f.Kind == Slow && m["delay"] == nil:
		p.add(v.Line, path+".delay", "required")
		return false
	case f.Kind == Slow:
		var good bool
		f.Delay, good = p.duration(m["delay"], path+".delay", time.Microsecond)
		return ok && good
	}
	return p.clockChange(f, v, m, path) && ok
}

// clockChange reads exactly one of jump (a signed duration) and drift (a
// signed percentage).
func (p *parser) clockChange(f *Fault, v *yaml.Node, m map[string]*yaml.Node, path string) bool {
	switch j, d := m["jump"], m["drift"]; {
	case (j == nil) == (d == nil):
		p.add(v.Line, path, "want exactly one of jump, drift")
	case j != nil:
		var ok bool
		if f.Jump, ok = p.duration(j, path+".jump", -maxDuration); ok && f.Jump == 0 {
			p.add(j.Line, path+".jump", "must not be 0")
			ok = false
		}
		return ok
	default:
		var ok bool
		if f.DriftPct, ok = p.percent(d, path+".drift", -99, 1000); ok && f.DriftPct == 0 {
			p.add(d.Line, path+".drift", "must not be 0%")
			ok = false
		}
		return ok
	}
	return false
}

var percentPattern = regexp.MustCompile(`^([+-]?[0-9]+)%$`)

// percent reads a whole percentage like 50% or -10% in [lo, hi].
func (p *parser) percent(v *yaml.Node, path string, lo, hi int) (int, bool) {
	mm := percentPattern.FindStringSubmatch(v.Value)
	if v.Kind != yaml.ScalarNode || mm == nil {
		p.add(v.Line, path, "want a whole percentage like 50%, got "+describe(v))
		return 0, false
	}
	x, err := strconv.Atoi(mm[1])
	if err != nil || x < lo || x > hi {
		p.add(v.Line, path, fmt.Sprintf("must be between %d%% and %d%%, got %s", lo, hi, describe(v)))
		return 0, false
	}
	return x, true
}

var (
	ratioPattern   = regexp.MustCompile(`^([0-9]+)/([0-9]+)$`)
	percentDecimal = regexp.MustCompile(`^([0-9]+)(?:\.([0-9]{1,6}))?%$`)
)

// ratio reads a probability: 0, "5%", "0.25%" or "1/1000".
func (p *parser) ratio(v *yaml.Node, path string) (Ratio, bool) {
	const want = "want a probability like 1%, 0.5% or 1/1000, got "
	if v.Kind != yaml.ScalarNode {
		p.add(v.Line, path, want+describe(v))
		return Ratio{}, false
	}
	if v.Value == "0" {
		return Ratio{}, true
	}
	var num, den uint64
	if mm := ratioPattern.FindStringSubmatch(v.Value); mm != nil {
		n, err1 := strconv.ParseUint(mm[1], 10, 32)
		d, err2 := strconv.ParseUint(mm[2], 10, 32)
		if err1 != nil || err2 != nil {
			p.add(v.Line, path, "numerator and denominator must fit in 32 bits, got "+describe(v))
			return Ratio{}, false
		}
		num, den = n, d
	} else if mm := percentDecimal.FindStringSubmatch(v.Value); mm != nil {
		den = 100 * uint64(math.Pow10(len(mm[2])))
		n, err := strconv.ParseUint(mm[1]+mm[2], 10, 64)
		if err != nil || n > den {
			p.add(v.Line, path, "must be at most 100%, got "+describe(v))
			return Ratio{}, false
		}
		num = n
	} else {
		p.add(v.Line, path, want+describe(v))
		return Ratio{}, false
	}
	if den == 0 || num > den {
		p.add(v.Line, path, "must be a probability (0 < denominator, numerator <= denominator), got "+describe(v))
		return Ratio{}, false
	}
	return Ratio{Num: uint32(num), Den: uint32(den)}, true
}

// String writes r as a file spells it: "0" or "Num/Den".
func (r Ratio) String() string {
	if r.Den == 0 {
		return "0"
	}
	return strconv.FormatUint(uint64(r.Num), 10) + "/" + strconv.FormatUint(uint64(r.Den), 10)
}

var bandwidthPattern = regexp.MustCompile(`^([0-9]+)(|K|M|G)B/s$`)

// maxBandwidth bounds a link's bytes per second (a terabyte).
const maxBandwidth = 1_000_000_000_000

// bandwidth reads bytes per second: an integer, "unlimited" (0), or
// "125MB/s" (K, M, G are powers of 1000).
func (p *parser) bandwidth(v *yaml.Node, path string) (int64, bool) {
	const want = "want bytes per second like 125000000, 125MB/s or unlimited, got "
	if v.Kind != yaml.ScalarNode {
		p.add(v.Line, path, want+describe(v))
		return 0, false
	}
	if v.Value == "unlimited" {
		return 0, true
	}
	if v.ShortTag() == "!!int" {
		var x int64
		if v.Decode(&x) != nil || x < 0 || x > maxBandwidth {
			p.add(v.Line, path, "must be between 0 and 1000000000000 bytes/s, got "+describe(v))
			return 0, false
		}
		return x, true
	}
	mm := bandwidthPattern.FindStringSubmatch(v.Value)
	if mm == nil {
		p.add(v.Line, path, want+describe(v))
		return 0, false
	}
	x, err := strconv.ParseInt(mm[1], 10, 64)
	mult := map[string]int64{"": 1, "K": 1e3, "M": 1e6, "G": 1e9}[mm[2]]
	if err != nil || x > maxBandwidth/mult {
		p.add(v.Line, path, "must be at most 1000GB/s, got "+describe(v))
		return 0, false
	}
	return x * mult, true
}
