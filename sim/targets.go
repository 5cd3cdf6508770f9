package sim

// Target resolution: which node or endpoint a scenario's target names at
// the moment of a fault (by name, by role as the live nodes see the
// cluster, or drawn from the run's "faults" stream).

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/rcsim/rcsim/node"
	"github.com/rcsim/rcsim/node/trace"
	"github.com/rcsim/rcsim/scenarios"
	"github.com/rcsim/rcsim/scenarios/rng"
)

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
		if h.up && isMaster(h) && (k != scenarios.Pause || !h.paused) {
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

// sides resolves the two sides of a link fault to endpoint indices, now;
// rest on one side is every endpoint the other side does not name (rest).
func (w *world) sides(from, to []scenarios.Target) (a, b []int) {
	a, restA := w.side(from)
	b, restB := w.side(to)
	if restA {
		a = append(a, w.rest(a, b)...)
	}
	if restB {
		b = append(b, w.rest(a, b)...)
	}
	return a, b
}

// rest is what the target rest names, for partitions, link faults and
// network.links alike: every endpoint of the run (nodes, the workload's
// clients, the admin client) that the fault does not name otherwise, in
// endpoint order.
func (w *world) rest(named ...[]int) []int {
	taken := make([]bool, w.net.Endpoints())
	for _, xs := range named {
		for _, x := range xs {
			taken[x] = true
		}
	}
	var out []int
	for i, t := range taken {
		if !t {
			out = append(out, i)
		}
	}
	return out
}

// allEndpoints lists every endpoint of the run: nodes, the workload's
// clients and the admin client.
func (w *world) allEndpoints() []int { return w.rest() }

func (w *world) side(ts []scenarios.Target) (out []int, rest bool) {
	for _, t := range ts {
		if t.Rest {
			rest = true
			continue
		}
		for _, i := range w.resolveEndpoints(t) {
			if !slices.Contains(out, i) {
				out = append(out, i)
			}
		}
	}
	return out, rest
}

func (w *world) endpointName(idx int) string {
	if idx < len(w.hosts) {
		return w.hosts[idx].name
	}
	return w.clients[idx-len(w.hosts)].name
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
