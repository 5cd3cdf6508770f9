// The faults list: each item is `at` plus exactly one action, and its targets
// are checked against the cluster's node names and the workload's clients.

package scenarios

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

var faultFields = []string{"at", "jitter", "id", "for", "persist", "power-loss", "crash", "restart", "partition", "heal",
	"one-way", "flap", "loss", "reset", "pause", "resume", "slow", "clock", "end"}

var faultKinds = []FaultKind{Crash, Restart, Partition, Heal, OneWay, Flap, Loss, Reset, Pause, Resume, Slow, Clock, End}

// Lasts reports whether a fault of kind k stays in force until it is ended
// (by For, an end step, restart, resume or heal); the others are instants.
func (k FaultKind) Lasts() bool {
	switch k {
	case Heal, Reset, Restart, Resume, End:
		return false
	}
	return true
}

// maxSlot is the last of Redis Cluster's 16384 hash slots.
const maxSlot = 16383

// names is what a target may name.
type names struct {
	nodes, clients []string
	replicas       bool // replicas-per-master > 0
}

// namesOf lists what a target in s may name.
func namesOf(s *Scenario) names {
	return names{nodes: s.Cluster.NodeNames(), clients: append(s.Workload.ClientNames(), s.AdminNames()...),
		replicas: s.Cluster.ReplicasPerMaster > 0}
}

// faults reads the list and sorts it stably by At. limit is the scenario's
// duration, or negative when that is unknown.
func (p *parser) faults(n *yaml.Node, s *Scenario, limit time.Duration) []Fault {
	items, ok := p.list(n, "faults")
	if !ok {
		return nil
	}
	nm := namesOf(s)
	var out []Fault
	paths := make(map[int]string) // Line → path, for the checks below
	jitterLines := make(map[int]int)
	for i, it := range items {
		path := fmt.Sprintf("faults[%d]", i)
		if f, ok := p.fault(it, path, nm, limit); ok {
			out = append(out, f)
			paths[f.Line] = path
			jitterLines[f.Line] = keyLine(it, "jitter")
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].At < out[j].At })
	p.checkOrder(out, paths)
	p.checkJitter(out, paths, jitterLines)
	return out
}

// checkJitter refuses a jittered fault whose window [at, at+jitter) holds
// the next step's at: the two could fire in either order, depending on the
// seed, and what the order means (restart crashed, end, the id an end
// names) would change with it.
func (p *parser) checkJitter(out []Fault, paths map[int]string, lines map[int]int) {
	for i := 0; i+1 < len(out); i++ {
		f, g := out[i], out[i+1]
		if f.Jitter > 0 && g.At < f.At+f.Jitter {
			p.add(lines[f.Line], paths[f.Line]+".jitter", fmt.Sprintf("fires anywhere in [%s, %s), which holds %s at %s (line %d): "+
				"the two could fire in either order", fmtDur(f.At), fmtDur(f.At+f.Jitter), paths[g.Line], fmtDur(g.At), g.Line))
		}
	}
}

// checkOrder checks what depends on the order of the sorted steps: restart
// crashed needs a crash before it, resume paused a pause, and an end step a
// fault with that id at or before it; ids are unique.
func (p *parser) checkOrder(out []Fault, paths map[int]string) {
	crashes, pauses := 0, 0
	ids := map[string]int{} // id → line
	for _, f := range out {
		path := paths[f.Line]
		switch {
		case f.Kind == Crash:
			crashes++
		case f.Kind == Pause:
			pauses++
		case f.Kind == Restart && f.Target.Crashed && crashes == 0:
			p.add(f.Line, path+".restart", "crashed: no crash happens at or before this restart")
		case f.Kind == Resume && f.Target.Paused && pauses == 0:
			p.add(f.Line, path+".resume", "paused: no pause happens at or before this resume")
		case f.Kind == End:
			if _, ok := ids[f.EndID]; !ok {
				p.add(f.Line, path+".end", fmt.Sprintf("no fault with id %s starts at or before this step", quote(f.EndID)))
			}
		}
		if f.ID == "" {
			continue
		}
		if first, dup := ids[f.ID]; dup {
			p.add(f.Line, path+".id", fmt.Sprintf("id %s is already used (line %d)", quote(f.ID), first))
		} else {
			ids[f.ID] = f.Line
		}
	}
}

// fault reads one item.
func (p *parser) fault(n *yaml.Node, path string, nm names, limit time.Duration) (Fault, bool) {
	f := Fault{Line: n.Line, Persist: true}
	m := p.fields(n, path, faultFields, nil)
	if m == nil {
		return f, false
	}
	ok := true
	if v := m["at"]; v == nil {
		p.add(n.Line, path+".at", "required")
		ok = false
	} else if f.At, ok = p.duration(v, path+".at", 0); ok && limit >= 0 && f.At > limit {
		p.add(v.Line, path+".at", fmt.Sprintf("%s is after the end of the run (duration %s)", fmtDur(f.At), fmtDur(limit)))
		ok = false
	}
	if v := m["jitter"]; v != nil {
		var good bool
		if f.Jitter, good = p.duration(v, path+".jitter", 1); !good {
			ok = false
		} else if ok && limit >= 0 && f.At+f.Jitter > limit {
			p.add(v.Line, path+".jitter", fmt.Sprintf("may fire at %s, after the end of the run (duration %s)",
				fmtDur(f.At+f.Jitter), fmtDur(limit)))
			ok = false
		}
	}
	var acts []string
	for _, k := range faultKinds {
		if m[string(k)] != nil {
			acts = append(acts, string(k))
		}
	}
	switch len(acts) {
	case 0:
		p.add(n.Line, path, "want one action: "+kindList())
		return f, false
	case 1:
	default:
		p.add(n.Line, path, "has "+strings.Join(acts, " and ")+": one action per fault")
		return f, false
	}
	f.Kind = FaultKind(acts[0])
	for _, opt := range []struct {
		name string
		dst  *bool
	}{{"persist", &f.Persist}, {"power-loss", &f.PowerLoss}} {
		v := m[opt.name]
		switch {
		case v == nil:
		case f.Kind != Crash:
			p.add(v.Line, path+"."+opt.name, "only a crash takes "+opt.name)
			ok = false
		default:
			b, good := p.boolean(v, path+"."+opt.name)
			*opt.dst, ok = b, ok && good
		}
	}
	ok = p.lasting(&f, m, path) && ok
	if v := m["for"]; ok && f.For > 0 && limit >= 0 && f.At+f.Jitter+f.For > limit {
		p.add(v.Line, path+".for", fmt.Sprintf("ends at %s, after the end of the run (duration %s)",
			fmtDur(f.At+f.Jitter+f.For), fmtDur(limit)))
		ok = false
	}
	return f, p.action(&f, m[string(f.Kind)], path+"."+string(f.Kind), nm) && ok
}

// kindList names the fault actions for a message.
func kindList() string {
	names := make([]string, len(faultKinds))
	for i, k := range faultKinds {
		names[i] = string(k)
	}
	return strings.Join(names, ", ")
}

// lasting reads for and id, which only a fault that lasts takes.
func (p *parser) lasting(f *Fault, m map[string]*yaml.Node, path string) bool {
	ok := true
	for _, key := range []string{"for", "id"} {
		if v := m[key]; v != nil && !f.Kind.Lasts() {
			p.add(v.Line, path+"."+key, fmt.Sprintf("a %s is an instant: it takes no %s", f.Kind, key))
			ok = false
		}
	}
	if !ok {
		return false
	}
	if v := m["for"]; v != nil {
		f.For, ok = p.duration(v, path+".for", 1)
	}
	if v := m["id"]; v != nil {
		id, good := p.text(v, path+".id")
		if good && (!namePattern.MatchString(id) || len(id) > 64) {
			p.add(v.Line, path+".id", fmt.Sprintf("%s: want 1 to 64 of a-z, 0-9 and -", quote(id)))
			good = false
		}
		f.ID = id
		ok = ok && good
	}
	return ok
}

// action reads the value of the fault's action key.
func (p *parser) action(f *Fault, v *yaml.Node, path string, nm names) bool {
	var ok bool
	switch f.Kind {
	case Crash, Pause:
		f.Target, ok = p.nodeTarget(v, path, nm)
	case Restart:
		f.Target, ok = p.restartTarget(v, path, nm)
	case Resume:
		f.Target, ok = p.resumeTarget(v, path, nm)
	case Partition:
		f.Groups, ok = p.partition(v, path, nm)
	case Heal:
		if ok = v.Kind == yaml.ScalarNode && v.Value == "all"; !ok {
			p.add(v.Line, path, "want all, got "+describe(v))
		}
	case OneWay, Flap, Loss, Reset:
		ok = p.linkFault(f, v, path, nm)
	case Slow, Clock:
		ok = p.nodeFault(f, v, path, nm)
	case End:
		f.EndID, ok = p.text(v, path)
	}
	return ok
}

// nodeTarget reads a target that must be a node, not a client.
func (p *parser) nodeTarget(v *yaml.Node, path string, nm names) (Target, bool) {
	t, ok := p.target(v, path, nm, 0, false)
	if ok && slices.Contains(nm.clients, t.Name) {
		p.add(v.Line, path, fmt.Sprintf("%q is a client; want a node", t.Name))
		return Target{}, false
	}
	return t, ok
}

// resumeTarget reads a node name, a role or "paused".
func (p *parser) resumeTarget(v *yaml.Node, path string, nm names) (Target, bool) {
	if v.Kind == yaml.ScalarNode && v.Value == "paused" {
		return Target{Paused: true}, true
	}
	t, ok := p.nodeTarget(v, path, nm)
	if ok && t.Masters != nil {
		p.add(v.Line, path, "{masters: …} is not allowed here (give the pause a for: or end it with an end step)")
		return Target{}, false
	}
	return t, ok
}

// restartTarget reads a node name or "crashed".
func (p *parser) restartTarget(v *yaml.Node, path string, nm names) (Target, bool) {
	if v.Kind != yaml.ScalarNode {
		p.add(v.Line, path, "want a node name or crashed, got "+describe(v))
		return Target{}, false
	}
	if v.Value == "crashed" {
		return Target{Crashed: true}, true
	}
	if slices.Contains(nm.clients, v.Value) {
		p.add(v.Line, path, fmt.Sprintf("%q is a client; only nodes restart", v.Value))
		return Target{}, false
	}
	if v.Value == "any_master" {
		p.add(v.Line, path, "any_master is not allowed here (a down node is no one's master; use random or a name)")
		return Target{}, false
	}
	return p.target(v, path, nm, 0, false)
}

// target reads a name, "rest" (when inPartition), {master_of_slot: N} or
// {replica_of: <target>}.
func (p *parser) target(v *yaml.Node, path string, nm names, depth int, inPartition bool) (Target, bool) {
	v = deref(v)
	if v.Kind == yaml.MappingNode {
		return p.roleTarget(v, path, nm, depth)
	}
	if v.Kind != yaml.ScalarNode || v.ShortTag() == "!!null" {
		p.add(v.Line, path, "want a node or client name, any_master, random, {master_of_slot: N} or {replica_of: …}, got "+describe(v))
		return Target{}, false
	}
	name := v.Value
	switch {
	case name == "rest" && inPartition:
		return Target{Rest: true}, true
	case name == "any_master":
		return Target{AnyMaster: true}, true
	case name == "random":
		return Target{Random: true}, true
	case name == "rest" || name == "crashed" || name == "paused":
		p.add(v.Line, path, fmt.Sprintf("%q is not allowed here", name))
	case slices.Contains(nm.nodes, name) || slices.Contains(nm.clients, name):
		return Target{Name: name}, true
	case strings.HasPrefix(name, "client-") && len(nm.clients) == 0:
		p.add(v.Line, path, fmt.Sprintf("no client %s (the workload has no clients)", quote(name)))
	case strings.HasPrefix(name, "client-"):
		p.add(v.Line, path, fmt.Sprintf("no client %s (have %s)", quote(name), have(nm.clients)))
	default:
		p.add(v.Line, path, fmt.Sprintf("no node %s (have %s)", quote(name), have(nm.nodes)))
	}
	return Target{}, false
}

// maxTargetDepth bounds replica_of nesting so a hostile file cannot make the
// parser recurse without limit; no real scenario needs more than two levels.
const maxTargetDepth = 8

// roleTarget reads {master_of_slot: N} or {replica_of: <target>}.
func (p *parser) roleTarget(v *yaml.Node, path string, nm names, depth int) (Target, bool) {
	m := p.fields(v, path, []string{"master_of_slot", "replica_of", "masters"}, nil)
	if m == nil {
		return Target{}, false
	}
	switch {
	case len(m) != 1:
		p.add(v.Line, path, "want exactly one of master_of_slot, replica_of, masters")
	case m["masters"] != nil:
		share, ok := p.share(m["masters"], path+".masters")
		return Target{Masters: &share}, ok
	case m["master_of_slot"] != nil:
		slot, ok := p.integer(m["master_of_slot"], path+".master_of_slot", 0, maxSlot)
		return Target{MasterOfSlot: &slot}, ok
	case depth >= maxTargetDepth:
		p.add(v.Line, path, "replica_of nested too deep")
	case !nm.replicas:
		p.add(v.Line, path+".replica_of", "no replicas (replicas-per-master is 0)")
	default:
		inner, ok := p.target(m["replica_of"], path+".replica_of", nm, depth+1, false)
		if ok && inner.Masters != nil {
			p.add(m["replica_of"].Line, path+".replica_of", "{masters: …} names several nodes; replica_of takes one")
			return Target{}, false
		}
		if ok && slices.Contains(nm.clients, inner.Name) {
			p.add(m["replica_of"].Line, path+".replica_of", fmt.Sprintf("%q is a client", inner.Name))
			return Target{}, false
		}
		return Target{ReplicaOf: &inner}, ok
	}
	return Target{}, false
}

// share reads the value of {masters: …}: a count (3) or a percentage
// (10%) of the live masters serving slots.
func (p *parser) share(v *yaml.Node, path string) (Share, bool) {
	if v.Kind == yaml.ScalarNode && strings.HasSuffix(v.Value, "%") {
		pct, err := strconv.Atoi(strings.TrimSuffix(v.Value, "%"))
		if err != nil || pct < 1 || pct > 100 {
			p.add(v.Line, path, fmt.Sprintf("want a percentage from 1%% to 100%%, got %s", quote(v.Value)))
			return Share{}, false
		}
		return Share{Percent: pct}, true
	}
	if v.Kind != yaml.ScalarNode || v.ShortTag() != "!!int" {
		p.add(v.Line, path, "want a count of masters (3) or a percentage of them (10%), got "+describe(v))
		return Share{}, false
	}
	n, ok := p.integer(v, path, 1, MaxMasters)
	return Share{Count: n}, ok
}

// partition reads at least two non-empty groups; each endpoint, and rest,
// appears at most once.
func (p *parser) partition(v *yaml.Node, path string, nm names) ([][]Target, bool) {
	groups, ok := p.list(v, path)
	if !ok {
		return nil, false
	}
	if len(groups) < 2 {
		p.add(v.Line, path, fmt.Sprintf("want at least 2 groups, got %d", len(groups)))
		ok = false
	}
	seen := make(map[string]string)
	out := make([][]Target, 0, len(groups))
	for gi, g := range groups {
		gpath := path + "[" + strconv.Itoa(gi) + "]"
		items, good := p.list(g, gpath)
		if good && len(items) == 0 {
			p.add(g.Line, gpath, "empty group")
			good = false
		}
		ok = ok && good
		var grp []Target
		for ti, it := range items {
			tpath := gpath + "[" + strconv.Itoa(ti) + "]"
			t, good := p.target(it, tpath, nm, 0, true)
			if good {
				key := t.String()
				if first, dup := seen[key]; dup {
					p.add(it.Line, tpath, fmt.Sprintf("%s is already in %s", key, first))
					good = false
				} else {
					seen[key] = tpath
				}
			}
			ok = ok && good
			grp = append(grp, t)
		}
		out = append(out, grp)
	}
	return out, ok
}

// String writes a target the way a file spells it, in flow style:
// m0, rest, crashed, paused, any_master, random, {master_of_slot: 0},
// {replica_of: {master_of_slot: 0}}.
func (t Target) String() string {
	switch {
	case t.Rest:
		return "rest"
	case t.Crashed:
		return "crashed"
	case t.Paused:
		return "paused"
	case t.AnyMaster:
		return "any_master"
	case t.Random:
		return "random"
	case t.Masters != nil:
		return "{masters: " + t.Masters.String() + "}"
	case t.MasterOfSlot != nil:
		return "{master_of_slot: " + strconv.Itoa(*t.MasterOfSlot) + "}"
	case t.ReplicaOf != nil:
		return "{replica_of: " + t.ReplicaOf.String() + "}"
	}
	return t.Name
}

// have lists names for a message, eliding the middle of a long list.
func have(names []string) string {
	if len(names) <= 12 {
		return strings.Join(names, " ")
	}
	return strings.Join(names[:8], " ") + " … " + strings.Join(names[len(names)-2:], " ") +
		", " + strconv.Itoa(len(names)) + " in all"
}

// keyLine is the line of key's value in mapping n (n's own line without it).
func keyLine(n *yaml.Node, key string) int {
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i+1].Line
		}
	}
	return n.Line
}

// FaultTimes is when each of faults fires in one run: its At plus, for a
// fault with a Jitter, an offset drawn uniformly in [0, Jitter) in whole
// microseconds from r, one draw per jittered fault in list order (so a
// fault without jitter draws nothing). The kernel passes the run's
// "fault-offsets" stream; the real-server harness one of its trial's.
func FaultTimes(faults []Fault, r *rand.Rand) []time.Duration {
	out := make([]time.Duration, len(faults))
	for i, f := range faults {
		out[i] = f.At
		if f.Jitter > 0 {
			out[i] += time.Duration(r.Int64N(int64((f.Jitter+time.Microsecond-1)/time.Microsecond))) * time.Microsecond
		}
	}
	return out
}
