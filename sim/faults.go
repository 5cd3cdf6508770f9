package sim

// Scenario faults: the table from each fault kind to what it does when it
// starts and how it ends (by its For, an end step or heal), remembering what
// a lasting fault resolved to so that its end undoes exactly that. The
// faults themselves live by subject: process.go (the node's process),
// network.go (links and partitions); targets.go resolves whom they hit.

import (
	"github.com/rcsim/rcsim/node/trace"
	"github.com/rcsim/rcsim/scenarios"
)

// activeFault is what a lasting fault did when it started, so that its end
// undoes exactly that, whatever the roles are by then.
type activeFault struct {
	on    bool
	hosts []*host  // node faults: the nodes the target resolved to (several for {masters: …})
	links []int    // one-way, flap, loss: the directed links, as from*n+to
	down  bool     // flap: the links are cut now
	part  int      // partition: partGen when it was applied
	desc  string   // link faults: the sides, as the trace writes them
	names []string // link faults: the endpoints of both sides
}

// faultOps is what one fault kind does. start carries out fault step i and
// reports whether a lasting fault is now in force; end undoes a lasting one
// (nil: the kind never lasts), why being "for", "end" or "heal"; healed
// kinds are ended by a heal step.
type faultOps struct {
	start  func(w *world, i int, f scenarios.Fault, a *activeFault) bool
	end    func(w *world, f scenarios.Fault, a *activeFault, why string)
	healed bool
}

// faultTable maps every fault kind to its operations. It is filled in init:
// the operations refer back to it (an end step ends other faults).
var faultTable map[scenarios.FaultKind]faultOps

func init() { faultTable = faultKinds() }

func faultKinds() map[scenarios.FaultKind]faultOps {
	return map[scenarios.FaultKind]faultOps{
		scenarios.Crash: {
			start: onNode(func(w *world, h *host, f scenarios.Fault) bool { return w.crash(h, f.Persist, f.PowerLoss) }),
			end:   onHosts(func(w *world, h *host, _ scenarios.Fault) { w.restart(h) }),
		},
		scenarios.Restart: {
			start: onNode(func(w *world, h *host, _ scenarios.Fault) bool { w.restart(h); return false }),
		},
		scenarios.Pause: {
			start: onNode(func(w *world, h *host, _ scenarios.Fault) bool { return w.pause(h) }),
			end:   onHosts(func(w *world, h *host, _ scenarios.Fault) { w.resume(h) }),
		},
		scenarios.Resume: {
			start: onNode(func(w *world, h *host, _ scenarios.Fault) bool { w.resume(h); return false }),
		},
		scenarios.Slow: {
			start: onNode(func(w *world, h *host, f scenarios.Fault) bool { w.setSlow(h, f.Delay); return true }),
			end:   onHosts(func(w *world, h *host, _ scenarios.Fault) { w.setSlow(h, 0) }),
		},
		scenarios.Clock: {
			start: onNode(func(w *world, h *host, f scenarios.Fault) bool {
				if f.Jump != 0 {
					w.jumpClock(h, f.Jump)
				} else {
					w.setDrift(h, f.DriftPct)
				}
				return true
			}),
			end: onHosts(func(w *world, h *host, f scenarios.Fault) {
				if f.Jump != 0 {
					w.jumpClock(h, -f.Jump)
				} else {
					w.setDrift(h, 0)
				}
			}),
		},
		scenarios.Partition: {
			start: func(w *world, _ int, f scenarios.Fault, a *activeFault) bool {
				w.partition(f.Groups)
				a.part = w.partGen
				return true
			},
			end:    (*world).endPartition,
			healed: true,
		},
		scenarios.Heal: {
			start: func(w *world, _ int, _ scenarios.Fault, _ *activeFault) bool { w.healAll(); return false },
		},
		scenarios.OneWay: {start: (*world).linkFault, end: (*world).endLinkFault, healed: true},
		scenarios.Flap:   {start: (*world).linkFault, end: (*world).endLinkFault, healed: true},
		scenarios.Loss:   {start: (*world).linkFault, end: (*world).endLinkFault, healed: true},
		scenarios.Reset:  {start: (*world).linkFault},
		scenarios.End: {
			start: func(w *world, i int, f scenarios.Fault, _ *activeFault) bool {
				for j := range w.s.Faults[:i] {
					if w.s.Faults[j].ID == f.EndID {
						w.endFault(j, "end")
					}
				}
				return false
			},
		},
	}
}

// onNode adapts a node fault to faultOps.start: the target is resolved
// now, to one node or, for {masters: …}, several, each of which gets the
// fault; a fault that matches no node does nothing.
func onNode(do func(w *world, h *host, f scenarios.Fault) bool) func(*world, int, scenarios.Fault, *activeFault) bool {
	return func(w *world, _ int, f scenarios.Fault, a *activeFault) bool {
		a.hosts = w.resolveHosts(f.Target, f.Kind)
		on := false
		for _, h := range a.hosts {
			on = do(w, h, f) || on
		}
		return on
	}
}

// onHosts adapts the end of a node fault to faultOps.end: it undoes the
// fault on every node the start resolved to.
func onHosts(undo func(w *world, h *host, f scenarios.Fault)) func(*world, scenarios.Fault, *activeFault, string) {
	return func(w *world, f scenarios.Fault, a *activeFault, _ string) {
		for _, h := range a.hosts {
			undo(w, h, f)
		}
	}
}

// applyFault carries out scenario fault step i. Role-based targets are
// resolved now, against the cluster as its live nodes see it; a lasting
// fault remembers what it resolved to and schedules its end after For.
func (w *world) applyFault(i int) {
	f := w.s.Faults[i]
	a := &w.active[i]
	ops, ok := faultTable[f.Kind]
	if !ok {
		panic("sim: invariant: fault of unknown kind " + string(f.Kind))
	}
	a.on = ops.start(w, i, f, a)
	if a.on && f.For > 0 {
		w.q.push(event{at: w.now + f.For, kind: evFaultEnd, num: i})
	}
}

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
	faultTable[f.Kind].end(w, f, a, why)
}

// emitFault writes a Fault event about node ("" for a link fault): v is
// its text, d its fields (trace.Detail).
func (w *world) emitFault(node, v string, d trace.Detail) {
	w.emit(trace.Event{Kind: trace.Fault, Node: node, Value: v, Detail: &d})
}

// linkFault starts a fault on the links between two sides.
func (w *world) linkFault(i int, f scenarios.Fault, a *activeFault) bool {
	from, to := w.sides(f.From, f.To)
	directed := f.Directed || f.Kind == scenarios.OneWay
	a.desc = w.describeSides(from, to, directed)
	a.names = w.sideNames(from, to)
	if len(from) == 0 || len(to) == 0 {
		w.emit(trace.Event{Kind: trace.Note, Value: string(f.Kind) + " fault matched no link: " + a.desc})
		return false
	}
	switch f.Kind {
	case scenarios.Reset:
		n := w.reset(from, to)
		w.emitFault("", "reset "+a.desc+" connections="+itoa(n), trace.Detail{Fault: "reset", Names: a.names})
		return false
	case scenarios.Flap:
		a.links, a.on = w.linkSet(from, to, directed), true
		w.flap(i)
	case scenarios.OneWay:
		a.links = w.linkSet(from, to, true)
		w.cut(a.links, 1)
		w.emitFault("", "one-way "+a.desc, trace.Detail{Fault: "one-way", Names: a.names})
	case scenarios.Loss:
		a.links, a.on = w.linkSet(from, to, directed), true
		w.refreshLoss(a.links)
		w.emitFault("", "loss "+ratio(f.Ratio)+" "+a.desc, trace.Detail{Fault: "loss", Names: a.names})
	}
	return true
}

// endPartition rejoins the groups of a partition still in force (a later
// partition replaced it otherwise); a heal has already done so.
func (w *world) endPartition(_ scenarios.Fault, a *activeFault, why string) {
	if a.part == w.partGen && why != "heal" {
		w.net.Partition([][]int{w.allEndpoints()})
		w.emit(trace.Event{Kind: trace.Heal, Value: "partition"})
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
		w.emitFault("", string(f.Kind)+" end "+a.desc, trace.Detail{Fault: string(f.Kind), End: true, Names: a.names})
	}
}
