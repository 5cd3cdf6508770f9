package sim

import (
	"sort"
	"strings"

	"rcsim/node"
	"rcsim/scenarios"
	"rcsim/sim/rng"
	"rcsim/sim/trace"
)

// applyFault carries out one scheduled fault step. Role-based targets are
// resolved now, against the cluster as its live nodes see it.
func (w *world) applyFault(f scenarios.Fault) {
	switch f.Kind {
	case scenarios.Crash:
		if h := w.resolveHost(f.Target); h != nil {
			w.crash(h, f.Persist)
		}
	case scenarios.Restart:
		if h := w.resolveHost(f.Target); h != nil {
			w.restart(h)
		}
	case scenarios.Partition:
		w.partition(f.Groups)
	case scenarios.Heal:
		w.net.Heal()
		w.emit(trace.Event{Kind: trace.Heal})
	}
}

// crash kills h's process: its connections are reset, its memory is gone, and
// its disk keeps nodes.conf as last saved (or nothing, without persist).
func (w *world) crash(h *host, persist bool) {
	if !h.up {
		w.emit(trace.Event{Kind: trace.Note, Node: h.name, Value: "crash ignored: already down"})
		return
	}
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
			if idx, ok := w.resolveEndpoint(t); ok {
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

func (w *world) resolveEndpoint(t scenarios.Target) (int, bool) {
	if t.Name != "" {
		idx, ok := w.names[t.Name]
		return idx, ok
	}
	h := w.resolveHost(t)
	if h == nil {
		return 0, false
	}
	return h.idx, true
}

// resolveHost finds the node a target names at this moment. Role-based
// targets use the view of the majority of live nodes; when nothing matches a
// note says so in the trace and the fault does nothing.
func (w *world) resolveHost(t scenarios.Target) *host {
	switch {
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
		if m := w.resolveHost(*t.ReplicaOf); m != nil {
			if r := w.firstReplicaOf(m); r != nil {
				return r
			}
		}
	}
	w.emit(trace.Event{Kind: trace.Note, Value: "fault target matched no node: " + describeTarget(t)})
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

func describeTarget(t scenarios.Target) string {
	switch {
	case t.Name != "":
		return t.Name
	case t.Crashed:
		return "crashed"
	case t.MasterOfSlot != nil:
		return "master_of_slot " + itoa(*t.MasterOfSlot)
	case t.ReplicaOf != nil:
		return "replica_of " + describeTarget(*t.ReplicaOf)
	case t.Rest:
		return "rest"
	}
	return "?"
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
