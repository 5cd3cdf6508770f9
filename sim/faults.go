package sim

import (
	"fmt"
	"sort"
	"strings"

	"rcsim/node"
	"rcsim/scenarios"
	"rcsim/sim/rng"
	"rcsim/sim/trace"
)

// activeFault is what a lasting fault did when it started, so that its end
// undoes exactly that, whatever the roles are by then.
type activeFault struct {
	on    bool
	hosts []*host // node faults: the nodes the target resolved to
	links []int   // one-way, flap, loss: the directed links, as from*n+to
	down  bool    // flap: the links are cut now
	part  int     // partition: partGen when it was applied
	desc  string
}

// applyFault carries out scenario fault step i. Role-based targets are
// resolved now, against the cluster as its live nodes see it; a lasting
// fault remembers what it resolved to and schedules its end after For.
func (w *world) applyFault(i int) {
	f := w.s.Faults[i]
	a := &w.active[i]
	switch f.Kind {
	case scenarios.Crash, scenarios.Restart, scenarios.Pause, scenarios.Resume,
		scenarios.Slow, scenarios.Clock:
		a.on = w.nodeFault(f, a)
	case scenarios.Partition:
		w.partition(f.Groups)
		a.on, a.part = true, w.partGen
	case scenarios.Heal:
		w.healAll()
	case scenarios.OneWay, scenarios.Flap, scenarios.Loss, scenarios.Reset:
		a.on = w.linkFault(i, f, a)
	case scenarios.End:
		for j := range w.s.Faults[:i] {
			if w.s.Faults[j].ID == f.EndID {
				w.endFault(j, "end")
			}
		}
	}
	if a.on && f.For > 0 {
		w.q.push(event{at: w.now + f.For, kind: evFaultEnd, fault: i})
	}
}

// nodeFault starts a fault on the node (or, for {masters: …}, the nodes) its
// target names now; it reports whether a lasting fault is now in force.
func (w *world) nodeFault(f scenarios.Fault, a *activeFault) bool {
	a.hosts = w.resolveHosts(f.Target, f.Kind)
	on := false
	for _, h := range a.hosts {
		on = w.nodeFaultOn(f, h) || on
	}
	return on
}

// nodeFaultOn applies a node fault to h.
func (w *world) nodeFaultOn(f scenarios.Fault, h *host) bool {
	switch f.Kind {
	case scenarios.Crash:
		return w.crash(h, f.Persist)
	case scenarios.Restart:
		w.restart(h)
	case scenarios.Pause:
		return w.pause(h)
	case scenarios.Resume:
		w.resume(h)
	case scenarios.Slow:
		w.setSlow(h, f.Delay)
		return true
	case scenarios.Clock:
		if f.Jump != 0 {
			w.jumpClock(h, f.Jump)
		} else {
			w.setDrift(h, f.DriftPct)
		}
		return true
	}
	return false
}

// linkFault starts a fault on the links between two sides.
func (w *world) linkFault(i int, f scenarios.Fault, a *activeFault) bool {
	from, to := w.sides(f.From, f.To)
	directed := f.Directed || f.Kind == scenarios.OneWay
	a.desc = w.describeSides(from, to, directed)
	if len(from) == 0 || len(to) == 0 {
		w.emit(trace.Event{Kind: trace.Note, Value: string(f.Kind) + " fault matched no link: " + a.desc})
		return false
	}
	switch f.Kind {
	case scenarios.Reset:
		n := w.reset(from, to)
		w.emit(trace.Event{Kind: trace.Fault, Value: "reset " + a.desc + " connections=" + itoa(n)})
		return false
	case scenarios.Flap:
		a.links, a.on = w.linkSet(from, to, directed), true
		w.flap(i)
	case scenarios.OneWay:
		a.links = w.linkSet(from, to, true)
		w.cut(a.links, 1)
		w.emit(trace.Event{Kind: trace.Fault, Value: "one-way " + a.desc})
	case scenarios.Loss:
		a.links, a.on = w.linkSet(from, to, directed), true
		w.refreshLoss(a.links)
		w.emit(trace.Event{Kind: trace.Fault, Value: "loss " + ratio(f.Ratio) + " " + a.desc})
	}
	return true
}

func ratio(r scenarios.Ratio) string { return itoa(int(r.Num)) + "/" + itoa(int(r.Den)) }

// endFault undoes lasting fault i, if it is still in force: by its For
// running out, an end step, or heal. A crash ends in a restart, a pause in a
// resume; the rest restore what the fault changed.
func (w *world) endFault(i int, why string) {
	a := &w.active[i]
	if !a.on {
		return
	}
	a.on = false
	f := w.s.Faults[i]
	switch f.Kind {
	case scenarios.Crash, scenarios.Pause, scenarios.Slow, scenarios.Clock:
		for _, h := range a.hosts {
			w.endNodeFault(f, h)
		}
	case scenarios.Partition:
		if a.part == w.partGen && why != "heal" {
			w.net.Partition([][]int{w.allEndpoints()})
			w.emit(trace.Event{Kind: trace.Heal, Value: "partition"})
		}
	default:
		w.endLinkFault(f, a, why)
	}
}

// endNodeFault undoes node fault f on h.
func (w *world) endNodeFault(f scenarios.Fault, h *host) {
	switch f.Kind {
	case scenarios.Crash:
		w.restart(h)
	case scenarios.Pause:
		w.resume(h)
	case scenarios.Slow:
		w.setSlow(h, 0)
	case scenarios.Clock:
		if f.Jump != 0 {
			w.jumpClock(h, -f.Jump)
		} else {
			w.setDrift(h, 0)
		}
	}
}

// endLinkFault ends a one-way, flap or loss fault.
func (w *world) endLinkFault(f scenarios.Fault, a *activeFault, why string) {
	switch f.Kind {
	case scenarios.OneWay:
		w.cut(a.links, -1)
	case scenarios.Flap:
		if a.down {
			w.cut(a.links, -1)
			a.down = false
		}
	case scenarios.Loss:
		w.refreshLoss(a.links)
	}
	if why != "heal" {
		w.emit(trace.Event{Kind: trace.Fault, Value: string(f.Kind) + " end " + a.desc})
	}
}

// healAll ends every network fault in force (partitions, one-way cuts,
// flaps, loss) and heals the network.
func (w *world) healAll() {
	for j, f := range w.s.Faults {
		switch f.Kind {
		case scenarios.Partition, scenarios.OneWay, scenarios.Flap, scenarios.Loss:
			w.endFault(j, "heal")
		}
	}
	w.net.Heal()
	w.emit(trace.Event{Kind: trace.Heal})
}

func (w *world) allEndpoints() []int {
	all := make([]int, len(w.hosts)+len(w.clients))
	for i := range all {
		all[i] = i
	}
	return all
}

// crash kills h's process: its connections are reset, its memory is gone, and
// its disk keeps nodes.conf as last saved (or nothing, without persist).
func (w *world) crash(h *host, persist bool) bool {
	if !h.up {
		w.emit(trace.Event{Kind: trace.Note, Node: h.name, Value: "crash ignored: already down"})
		return false
	}
	w.forgetProcess(h)
	h.up = false
	h.n = nil
	h.crashes++
	if !persist {
		h.hasDisk = false
	}
	w.crashed = append(w.crashed, h.idx)
	w.closeAllOf(h)
	v := "persist"
	if !persist {
		v = "wipe"
	}
	w.emit(trace.Event{Kind: trace.Crash, Node: h.name, Value: v})
	return true
}

// restart starts h's process again from its nodes.conf (clusterLoadConfig),
// with a fresh random stream and a new cron phase.
func (w *world) restart(h *host) {
	if h.up {
		w.emit(trace.Event{Kind: trace.Note, Node: h.name, Value: "restart ignored: already up"})
		return
	}
	for i, x := range w.crashed {
		if x == h.idx {
			w.crashed = append(w.crashed[:i], w.crashed[i+1:]...)
			break
		}
	}
	if !h.hasDisk {
		// A node without nodes.conf boots as a new, empty master that no
		// one has met; joining it again is an admin step not modelled yet.
		w.emit(trace.Event{Kind: trace.Note, Node: h.name, Value: "restart without nodes.conf: not modelled, node stays down"})
		return
	}
	h.inc++
	h.cfg.Incarnation = uint64(h.inc)
	stream := "node/" + h.name + "#" + itoa(int(h.inc)+1)
	n, err := node.Restore(h.cfg, h.disk, rng.Derive(w.seed, stream))
	if err != nil {
		w.emit(trace.Event{Kind: trace.Note, Node: h.name, Value: "restart failed: " + err.Error()})
		return
	}
	h.n, h.up = n, true
	w.emit(trace.Event{Kind: trace.Restart, Node: h.name})
	w.scheduleFirstTick(h)
}

// partition splits the endpoints into groups; the group holding `rest` takes
// every endpoint not named elsewhere.
func (w *world) partition(groups [][]scenarios.Target) {
	endpoints := w.net.Endpoints()
	owner := make([]int, endpoints)
	for i := range owner {
		owner[i] = -1
	}
	rest := -1
	for g, targets := range groups {
		for _, t := range targets {
			if t.Rest {
				rest = g
				continue
			}
			for _, idx := range w.resolveEndpoints(t) {
				owner[idx] = g
			}
		}
	}
	out := make([][]int, len(groups))
	for idx, g := range owner {
		if g < 0 {
			g = rest
		}
		if g < 0 {
			// Unnamed with no rest group: isolated on its own.
			out = append(out, []int{idx})
			continue
		}
		out[g] = append(out[g], idx)
	}
	w.net.Partition(out)
	w.partGen++
	desc := make([]string, 0, len(out))
	for _, g := range out {
		names := make([]string, len(g))
		for i, idx := range g {
			names[i] = w.endpointName(idx)
		}
		desc = append(desc, strings.Join(names, " "))
	}
	w.emit(trace.Event{Kind: trace.Partition, Value: strings.Join(desc, " | ")})
}

func (w *world) endpointName(idx int) string {
	if idx < len(w.hosts) {
		return w.hosts[idx].name
	}
	if w.admin != nil && idx == w.admin.idx {
		return "admin"
	}
	return w.clients[idx-len(w.hosts)].name
}

// resolveEndpoints returns the endpoints (nodes or clients) a target names
// now, in endpoint order; none when it matches nothing.
func (w *world) resolveEndpoints(t scenarios.Target) []int {
	if t.Name != "" {
		if idx, ok := w.names[t.Name]; ok {
			return []int{idx}
		}
		return nil
	}
	var out []int
	for _, h := range w.resolveHosts(t, scenarios.Partition) {
		out = append(out, h.idx)
	}
	return out
}

// resolveHosts is resolveHost, or for {masters: …} the masters drawn.
func (w *world) resolveHosts(t scenarios.Target, k scenarios.FaultKind) []*host {
	if t.Masters != nil {
		return w.pickMasters(t, k)
	}
	if h := w.resolveHost(t, k); h != nil {
		return []*host{h}
	}
	return nil
}

// pickMasters draws the share of {masters: …} among the live masters serving
// slots (not already paused, for a pause), without replacement, from the
// run's "faults" stream, so that a seed replays the same set. The picks are
// returned in endpoint order, and a note names them.
func (w *world) pickMasters(t scenarios.Target, k scenarios.FaultKind) []*host {
	var cands []*host
	for _, h := range w.hosts {
		if h.up && h.n.ServesSlots() && (k != scenarios.Pause || !h.paused) {
			cands = append(cands, h)
		}
	}
	n := t.Masters.Of(len(cands))
	if n == 0 {
		w.emit(trace.Event{Kind: trace.Note, Value: "fault target matched no node: " + t.String()})
		return nil
	}
	if w.faultRnd == nil {
		w.faultRnd = rng.Derive(w.seed, "faults")
	}
	for i := 0; i < n; i++ { // the first n of a Fisher–Yates shuffle
		j := i + w.faultRnd.IntN(len(cands)-i)
		cands[i], cands[j] = cands[j], cands[i]
	}
	picked := cands[:n]
	sort.Slice(picked, func(i, j int) bool { return picked[i].idx < picked[j].idx })
	names := make([]string, n)
	for i, h := range picked {
		names[i] = h.name
	}
	w.emit(trace.Event{Kind: trace.Note, Value: fmt.Sprintf("%s picked %d of %d masters: %s",
		t.String(), n, len(cands), strings.Join(names, " "))})
	return picked
}

// resolveHost finds the node a target names at this moment, for a fault of
// kind k. Role-based targets use the view of the majority of live nodes;
// random draws from the run's "faults" stream among the nodes k can act on.
// When nothing matches, a note says so in the trace and the fault does
// nothing.
func (w *world) resolveHost(t scenarios.Target, k scenarios.FaultKind) *host {
	switch {
	case t.Paused:
		if n := len(w.paused); n > 0 {
			return w.hosts[w.paused[n-1]]
		}
	case t.AnyMaster:
		if h := w.pick(func(h *host) bool { return h.up && isMaster(h) }); h != nil {
			return h
		}
	case t.Random:
		if h := w.pick(randomCandidate(k)); h != nil {
			return h
		}
	case t.Name != "":
		if idx, ok := w.names[t.Name]; ok && idx < len(w.hosts) {
			return w.hosts[idx]
		}
	case t.Crashed:
		if n := len(w.crashed); n > 0 {
			return w.hosts[w.crashed[n-1]]
		}
	case t.MasterOfSlot != nil:
		if h := w.ownerOf(*t.MasterOfSlot); h != nil {
			return h
		}
	case t.ReplicaOf != nil:
		if m := w.resolveHost(*t.ReplicaOf, scenarios.Crash); m != nil {
			if r := w.firstReplicaOf(m); r != nil {
				return r
			}
		}
	}
	w.emit(trace.Event{Kind: trace.Note, Value: "fault target matched no node: " + t.String()})
	return nil
}

// ownerOf returns the master that most live nodes believe owns slot (ties
// broken by node order), a process that is up.
func (w *world) ownerOf(slot int) *host {
	votes := make([]int, len(w.hosts))
	for _, h := range w.hosts {
		if !h.up {
			continue
		}
		v := h.n.View()
		if owner := slotOwner(v, slot); owner != "" {
			if o, ok := w.byID[owner]; ok {
				votes[o.idx]++
			}
		}
	}
	best := -1
	for i, n := range votes {
		if n > 0 && (best < 0 || n > votes[best]) {
			best = i
		}
	}
	if best < 0 {
		return nil
	}
	return w.hosts[best]
}

func slotOwner(v node.View, slot int) node.ID {
	if v.Master == "" && inRanges(v.Slots, slot) {
		return v.ID
	}
	for _, p := range v.Peers {
		if p.Flags&node.FlagMaster != 0 && inRanges(p.Slots, slot) {
			return p.ID
		}
	}
	return ""
}

func inRanges(rs []node.SlotRange, slot int) bool {
	for _, r := range rs {
		if slot >= r.Start && slot <= r.End {
			return true
		}
	}
	return false
}

// firstReplicaOf returns, by name order, the first live node that replicates m
// in its own view.
func (w *world) firstReplicaOf(m *host) *host {
	var cands []*host
	for _, h := range w.hosts {
		if h.up && h != m && h.n.View().Master == m.id {
			cands = append(cands, h)
		}
	}
	sort.Slice(cands, func(i, j int) bool { return cands[i].name < cands[j].name })
	if len(cands) == 0 {
		return nil
	}
	return cands[0]
}

// isMaster reports whether h, a live node, is a master serving slots in its
// own view.
func isMaster(h *host) bool { return h.n.ServesSlots() }

// randomCandidate says which nodes `random` may pick for a fault of kind k:
// down ones for restart, paused ones for resume, running ones otherwise.
func randomCandidate(k scenarios.FaultKind) func(*host) bool {
	switch k {
	case scenarios.Restart:
		return func(h *host) bool { return !h.up }
	case scenarios.Resume:
		return func(h *host) bool { return h.up && h.paused }
	}
	return func(h *host) bool { return h.up }
}

// pick draws one host, in endpoint order, among those ok accepts.
func (w *world) pick(ok func(*host) bool) *host {
	var cands []*host
	for _, h := range w.hosts {
		if ok(h) {
			cands = append(cands, h)
		}
	}
	if len(cands) == 0 {
		return nil
	}
	if w.faultRnd == nil {
		w.faultRnd = rng.Derive(w.seed, "faults")
	}
	return cands[w.faultRnd.IntN(len(cands))]
}

// dump hands every live node's state to Options.Dump: the kernel's summary
// line with names, then what the node itself shows (nodes.conf, CLUSTER
// NODES, CLUSTER INFO, CLUSTER SHARDS in Redis's formats).
func (w *world) dump() {
	if w.opt.Dump == nil {
		return
	}
	for _, h := range w.hosts {
		if !h.up {
			text := "(down)\n"
			if h.hasDisk {
				text += "# nodes.conf\n" + h.disk.Text()
			}
			w.opt.Dump(w.now, h.name, text)
			continue
		}
		w.opt.Dump(w.now, h.name, describeView(h.n.View(), w.nameOf)+
			"# nodes.conf\n"+h.disk.Text()+h.n.Describe())
	}
}
