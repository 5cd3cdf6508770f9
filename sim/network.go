package sim

// Network faults and link overrides: partitions and heal, one-way cuts,
// flapping links, loss and connection resets, plus the scenario's static
// per-link settings. netmodel does the link arithmetic; the kernel counts
// overlapping faults so that ending one leaves the others in force.

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/rcsim/rcsim/netmodel"
	"github.com/rcsim/rcsim/node"
	"github.com/rcsim/rcsim/node/trace"
	"github.com/rcsim/rcsim/scenarios"
)

// applyLinks installs network.links, in file order (a later entry replaces
// an earlier one on the links they share).
func (w *world) applyLinks(links []scenarios.LinkOverride) error {
	for _, l := range links {
		from, restFrom, err := w.linkSide(l.From)
		if err != nil {
			return err
		}
		to, restTo, err := w.linkSide(l.To)
		if err != nil {
			return err
		}
		if restFrom {
			from = append(from, w.rest(from, to)...)
		}
		if restTo {
			to = append(to, w.rest(from, to)...)
		}
		o := linkOverride(l)
		if err := w.net.SetLinks(from, to, o); err != nil {
			return err
		}
		if !l.Directed {
			if err := w.net.SetLinks(to, from, o); err != nil {
				return err
			}
		}
	}
	return nil
}

// linkSide resolves one side of a network.links entry: its endpoint names,
// and whether it holds rest.
func (w *world) linkSide(names []string) (out []int, rest bool, err error) {
	for _, n := range names {
		if n == "rest" {
			rest = true
			continue
		}
		i, ok := w.names[n]
		if !ok {
			return nil, false, fmt.Errorf("no endpoint %q", n)
		}
		out = append(out, i)
	}
	return out, rest, nil
}

// linkOverride turns one network.links entry into netmodel's terms: nil keeps
// the default; a zero loss or bandwidth must say so explicitly there.
func linkOverride(l scenarios.LinkOverride) netmodel.LinkOverride {
	var o netmodel.LinkOverride
	if l.Latency != nil {
		o.Latency = dist(*l.Latency)
	}
	if l.Loss != nil {
		o.Loss = netmodel.Ratio{Num: l.Loss.Num, Den: max(l.Loss.Den, 1)}
	}
	if l.Bandwidth != nil {
		o.Bandwidth = *l.Bandwidth
		if o.Bandwidth == 0 {
			o.Bandwidth = -1
		}
	}
	return o
}

// partition splits the endpoints into groups; the group holding `rest` takes
// every endpoint not named elsewhere.
func (w *world) partition(groups [][]scenarios.Target) {
	owner := make([]int, w.net.Endpoints())
	for i := range owner {
		owner[i] = -1
	}
	rest := -1
	var named []int
	for g, targets := range groups {
		for _, t := range targets {
			if t.Rest {
				rest = g
				continue
			}
			for _, idx := range w.resolveEndpoints(t) {
				owner[idx] = g
				named = append(named, idx)
			}
		}
	}
	if rest >= 0 {
		for _, idx := range w.rest(named) {
			owner[idx] = rest
		}
	}
	out := make([][]int, len(groups))
	for idx, g := range owner {
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
	d := &trace.Detail{}
	for _, g := range out {
		names := make([]string, len(g))
		for i, idx := range g {
			names[i] = w.endpointName(idx)
		}
		desc = append(desc, strings.Join(names, " "))
		d.Groups = append(d.Groups, names)
	}
	w.emit(trace.Event{Kind: trace.Partition, Value: strings.Join(desc, " | "), Detail: d})
}

// healAll ends every network fault in force (partitions, one-way cuts,
// flaps, loss) and heals the network.
func (w *world) healAll() {
	for j, f := range w.s.Faults {
		if faultTable[f.Kind].healed {
			w.endFault(j, "heal")
		}
	}
	w.net.Heal()
	w.emit(trace.Event{Kind: trace.Heal})
}

// linkSet lists the directed links a fault covers, as from*n+to.
func (w *world) linkSet(a, b []int, directed bool) []int {
	n := w.net.Endpoints()
	var out []int
	for _, x := range a {
		for _, y := range b {
			if x == y {
				continue
			}
			out = append(out, x*n+y)
			if !directed {
				out = append(out, y*n+x)
			}
		}
	}
	return out
}

// describeSides writes "m0 -> m1 m2" or "m0 <-> m1 m2" for the trace.
func (w *world) describeSides(a, b []int, directed bool) string {
	name := func(xs []int) string {
		ns := make([]string, len(xs))
		for i, x := range xs {
			ns[i] = w.endpointName(x)
		}
		return strings.Join(ns, " ")
	}
	arrow := " <-> "
	if directed {
		arrow = " -> "
	}
	return name(a) + arrow + name(b)
}

// sideNames lists the endpoints of both sides of a link fault, a's first.
func (w *world) sideNames(a, b []int) []string {
	out := make([]string, 0, len(a)+len(b))
	for _, x := range append(append([]int(nil), a...), b...) {
		out = append(out, w.endpointName(x))
	}
	return out
}

// cut adds (delta 1) or removes (-1) one fault's cut of each link; a link is
// blocked while any fault cuts it.
func (w *world) cut(links []int, delta int) {
	n := w.net.Endpoints()
	for _, l := range links {
		before := w.cuts[l]
		w.cuts[l] += delta
		switch {
		case w.cuts[l] < 0:
			panic("sim: invariant: link cut count below zero")
		case before == 0 && w.cuts[l] > 0:
			w.net.Block(l/n, l%n)
		case before > 0 && w.cuts[l] == 0:
			w.net.Unblock(l/n, l%n)
		}
	}
}

// flap moves flapping fault i to its next phase: down for DutyPct of the
// period, then up for the rest, until the fault ends.
func (w *world) flap(i int) {
	a := &w.active[i]
	if !a.on {
		return
	}
	f := w.s.Faults[i]
	down := f.Period * time.Duration(f.DutyPct) / 100
	next := down
	if a.down {
		w.cut(a.links, -1)
		next = f.Period - down
	} else {
		w.cut(a.links, 1)
	}
	a.down = !a.down
	state := "up"
	if a.down {
		state = "down"
	}
	w.emitFault("", "flap "+state+" "+a.desc, trace.Detail{Fault: "flap", End: !a.down, Names: a.names})
	w.q.push(event{at: w.now + next, kind: evFlap, num: i})
}

// refreshLoss sets each link's fault loss to the highest ratio among the loss
// faults in force on it (none: the link's configured loss).
func (w *world) refreshLoss(links []int) {
	n := w.net.Endpoints()
	for _, l := range links {
		var best netmodel.Ratio
		for j := range w.active {
			a, f := &w.active[j], &w.s.Faults[j]
			if !a.on || f.Kind != scenarios.Loss || !slices.Contains(a.links, l) {
				continue
			}
			if best.Den == 0 || uint64(f.Ratio.Num)*uint64(best.Den) > uint64(best.Num)*uint64(f.Ratio.Den) {
				best = netmodel.Ratio{Num: f.Ratio.Num, Den: f.Ratio.Den}
			}
		}
		if best.Den == 0 {
			w.net.ClearFaultLoss(l/n, l%n)
		} else {
			w.net.SetFaultLoss(l/n, l%n, best)
		}
	}
}

// reset tears down every connection between the two sides, as a middlebox's
// RST or a NIC reset does: both nodes of a bus or replication link see it
// fail one latency later, a dial in progress is refused, and the links' FIFO
// state starts afresh. A client's connection is closed the same way; the
// client learns it when it next writes on it (the host answers with a reset)
// or, for a dial, from the refusal.
func (w *world) reset(a, b []int) int {
	between := func(x, y int) bool {
		return slices.Contains(a, x) && slices.Contains(b, y) || slices.Contains(b, x) && slices.Contains(a, y)
	}
	// The dials being refused are connections too, taken in creation order
	// among the others (see refusal).
	var refs []*refusal
	for _, h := range w.hosts {
		for i := range h.refusing {
			if r := &h.refusing[i]; r.gen != 0 && !r.closed && between(h.idx, r.peer) {
				refs = append(refs, r)
			}
		}
	}
	slices.SortFunc(refs, func(x, y *refusal) int { return cmp.Compare(x.born, y.born) })
	w.conns.tidy()
	n := 0
	for _, c := range w.conns.all {
		if c.state == connClosed || !between(c.dialer, c.peer) {
			continue
		}
		for len(refs) > 0 && refs[0].born < c.born {
			w.resetRefusal(refs[0])
			refs = refs[1:]
			n++
		}
		n++
		switch {
		case c.client != nil:
			connecting := c.state == connConnecting
			w.conns.remove(c)
			if connecting {
				w.refuseClientDial(c)
			}
		case c.state == connConnecting:
			// The SYN meets the RST: a new generation voids the pending
			// connect, and the dialer's connect is refused.
			w.conns.gen++
			c.gen = w.conns.gen
			w.resetNotify(c, c.peer, c.dialer, node.Refused)
		default:
			w.conns.remove(c)
			w.resetNotify(c, c.peer, c.dialer, node.Closed)
			w.resetNotify(c, c.dialer, c.peer, node.Closed)
		}
	}
	for _, r := range refs {
		w.resetRefusal(r)
		n++
	}
	for _, x := range a {
		for _, y := range b {
			if x != y {
				w.net.Reset(x, y)
				w.net.Reset(y, x)
			}
		}
	}
	return n
}

// resetRefusal is reset's SYN meeting the RST for a dial being refused: as
// for a connecting conn, a new generation voids the refusal under way, and
// the dialer's connect is refused one latency after now.
func (w *world) resetRefusal(r *refusal) {
	w.conns.gen++
	r.gen = w.conns.gen
	d := w.hosts[r.dialer]
	if !d.up {
		return
	}
	w.q.push(event{at: w.now + w.net.Latency(r.peer, d.idx), kind: evLink, dst: d.idx, inc: d.inc,
		gen: r.gen, link: node.Refused, num: r.slot})
}

// refuseClientDial answers a client's dial in progress with a refusal: its
// SYN met the reset. A new generation voids the answer to the SYN itself.
func (w *world) refuseClientDial(c *conn) {
	w.conns.gen++
	c.gen = w.conns.gen
	cr := w.replies.get()
	cr.dial, cr.from = true, w.hosts[c.peer].addr
	w.sendToClient(c, c.gen, cr)
}

// resetNotify tells side `to` of c that it failed, one latency after now.
func (w *world) resetNotify(c *conn, from, to int, kind node.LinkEventKind) {
	o := w.hosts[to]
	if !o.up {
		return
	}
	w.q.push(event{at: w.now + w.net.Latency(from, to), kind: evLink, dst: to, inc: o.inc,
		conn: c, gen: c.gen, link: kind})
}

func ratio(r scenarios.Ratio) string { return itoa(int(r.Num)) + "/" + itoa(int(r.Den)) }
