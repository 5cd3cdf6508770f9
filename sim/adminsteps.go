// The admin steps as redis-cli 7.0 runs them (src/redis-cli.c):
// clusterManagerCommandReshard and clusterManagerMoveSlot,
// clusterManagerMigrateKeysInSlot, clusterManagerCommandRebalance,
// clusterManagerCommandAddNode and clusterManagerCommandDeleteNode. What
// redis-cli learns it learns from CLUSTER NODES replies, parsed here.

package sim

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"rcsim/node"
	"rcsim/scenarios"
)

// nodesLine is one CLUSTER NODES line as clusterManagerNodeLoadInfo reads it.
type nodesLine struct {
	id, addr, master string
	flags            string
	slots            []int // ascending
	open             bool  // carries [slot->-id] or [slot-<-id] markers
}

func (l nodesLine) has(flag string) bool {
	return strings.Contains(","+l.flags+",", ","+flag+",")
}

// usable is a node redis-cli would connect to: not failed, not without an
// address, not in handshake.
func (l nodesLine) usable() bool {
	return !l.has("fail") && !l.has("noaddr") && !l.has("handshake")
}

// parseClusterNodes reads CLUSTER NODES text; malformed lines are skipped.
func parseClusterNodes(text string) []nodesLine {
	var out []nodesLine
	for _, raw := range strings.Split(text, "\n") {
		f := strings.Fields(raw)
		if len(f) < 8 {
			continue
		}
		l := nodesLine{id: f[0], addr: f[1], flags: f[2], master: f[3]}
		if i := strings.IndexByte(l.addr, '@'); i >= 0 {
			l.addr = l.addr[:i]
		}
		for _, s := range f[8:] {
			if strings.HasPrefix(s, "[") {
				l.open = true
				continue
			}
			lo, hi, _ := strings.Cut(s, "-")
			a, err1 := strconv.Atoi(lo)
			b, err2 := strconv.Atoi(hi)
			if hi == "" {
				b, err2 = a, nil
			}
			if err1 == nil && err2 == nil {
				for x := a; x <= b; x++ {
					l.slots = append(l.slots, x)
				}
			}
		}
		out = append(out, l)
	}
	return out
}

func myselfLine(ls []nodesLine) (nodesLine, bool) {
	for _, l := range ls {
		if l.has("myself") {
			return l, true
		}
	}
	return nodesLine{}, false
}

// loadCluster is clusterManagerLoadInfoFromNode plus the open-slot part of
// clusterManagerCheckCluster, from entry's CLUSTER NODES: a cluster with an
// open slot is refused ("Please fix your cluster problems"). rcsim reads
// the markers of the entry node only, not of every node.
func (w *world) loadCluster(entry *host, then func([]nodesLine)) {
	w.cluster(entry, "NODES", w.ok(entry, "CLUSTER NODES", func(r node.Reply) {
		ls := parseClusterNodes(r.Value)
		if me, _ := myselfLine(ls); me.open {
			w.adminDone("failed: open slots on " + entry.name + ": Please fix your cluster problems first")
			return
		}
		then(ls)
	}))
}

// hostOf is the host of a node ID from a CLUSTER NODES line.
func (w *world) hostOf(id string) *host { return w.byID[node.ID(id)] }

// reshard moves the n lowest slots of src to dst (redis-cli --cluster
// reshard with one source: clusterManagerComputeReshardTable takes a
// source's slots in ascending order).
func (w *world) reshard(src, dst *host, n int) {
	w.loadCluster(src, func(ls []nodesLine) {
		me, _ := myselfLine(ls)
		slots := me.slots[:min(n, len(me.slots))]
		w.moveSlots(src, dst, slots, w.otherMasters(ls, src, dst), func() { w.adminDone("ok") })
	})
}

// otherMasters lists the usable masters of ls but src and dst: the nodes
// clusterManagerMoveSlot also tells about the new owner.
func (w *world) otherMasters(ls []nodesLine, src, dst *host) []*host {
	var out []*host
	for _, l := range ls {
		h := w.hostOf(l.id)
		if h != nil && h != src && h != dst && l.has("master") && l.usable() {
			out = append(out, h)
		}
	}
	return out
}

// moveSlots moves slots one after the other, then runs next.
func (w *world) moveSlots(src, dst *host, slots []int, others []*host, next func()) {
	if len(slots) == 0 {
		next()
		return
	}
	w.moveSlot(src, dst, slots[0], others, func() { w.moveSlots(src, dst, slots[1:], others, next) })
}

// moveSlot is clusterManagerMoveSlot: IMPORTING on the target, MIGRATING
// on the source, the keys, then NODE on the target first (it bumps its
// epoch and tells everyone), the source (which may have become a replica:
// "Please use SETSLOT only with masters." is accepted), and the others.
func (w *world) moveSlot(src, dst *host, slot int, others []*host, next func()) {
	setslot := func(h *host, action string, id node.ID) string {
		return fmt.Sprintf("SETSLOT %d %s %s", slot, action, id)
	}
	w.cluster(dst, setslot(dst, "IMPORTING", src.id), w.ok(dst, "SETSLOT IMPORTING", func(node.Reply) {
		w.cluster(src, setslot(src, "MIGRATING", dst.id), w.ok(src, "SETSLOT MIGRATING", func(node.Reply) {
			w.migrateKeys(src, dst, slot, func() {
				w.cluster(dst, setslot(dst, "NODE", dst.id), w.ok(dst, "SETSLOT NODE", func(node.Reply) {
					w.cluster(src, setslot(src, "NODE", dst.id), func(r node.Reply) {
						if isErr(r) && r.Err != "ERR Please use SETSLOT only with masters." {
							w.adminFail(src, "SETSLOT NODE", r)
							return
						}
						w.setSlotNodeOn(others, slot, dst, next)
					})
				}))
			})
		}))
	}))
}

// setSlotNodeOn sends SETSLOT slot NODE dst to each of hs in turn.
func (w *world) setSlotNodeOn(hs []*host, slot int, dst *host, next func()) {
	if len(hs) == 0 {
		next()
		return
	}
	h := hs[0]
	w.cluster(h, fmt.Sprintf("SETSLOT %d NODE %s", slot, dst.id), w.ok(h, "SETSLOT NODE", func(node.Reply) {
		w.setSlotNodeOn(hs[1:], slot, dst, next)
	}))
}

// migrateKeys is clusterManagerMigrateKeysInSlot: GETKEYSINSLOT slot batch,
// MIGRATE them, until the slot is empty. An error (BUSYKEY included: rcsim
// does not compare values and retry with REPLACE) fails the step.
func (w *world) migrateKeys(src, dst *host, slot int, next func()) {
	batch := w.admin.run.step.Batch
	w.cluster(src, fmt.Sprintf("GETKEYSINSLOT %d %d", slot, batch), w.ok(src, "GETKEYSINSLOT", func(r node.Reply) {
		if len(r.List) == 0 {
			next()
			return
		}
		cmd := node.Cmd{Op: node.OpMigrate, Value: dst.addr, Keys: r.List, Timeout: migrateTimeout}
		w.adminCmd(src, cmd, w.ok(src, "MIGRATE", func(node.Reply) { w.migrateKeys(src, dst, slot, next) }))
	}))
}

// entryNode is the node the admin client loads the cluster from: the first
// live member of the cluster (never a spare) other than avoid.
func (w *world) entryNode(avoid *host) *host {
	spares := len(w.hosts) - w.s.Cluster.Spares
	for _, h := range w.hosts[:spares] {
		if h.up && h != avoid {
			return h
		}
	}
	return w.hosts[0]
}

// rebalance is clusterManagerCommandRebalance.
func (w *world) rebalance(st scenarios.AdminStep) {
	entry := w.entryNode(nil)
	w.loadCluster(entry, func(ls []nodesLine) {
		moves := planRebalance(w.rebalanceNodes(ls, st), st.Threshold)
		if len(moves) == 0 {
			w.adminDone("ok: no rebalancing needed")
			return
		}
		w.runMoves(ls, moves)
	})
}

// balanceNode is one master taking part in a rebalance.
type balanceNode struct {
	line    nodesLine
	weight  int
	balance int
}

// rebalanceNodes lists the masters taking part and their weights: every
// master not replicating anyone, but those without slots unless
// use-empty-masters.
func (w *world) rebalanceNodes(ls []nodesLine, st scenarios.AdminStep) []*balanceNode {
	weights := map[string]int{}
	for _, x := range st.Weights {
		weights[string(w.host(x.Node).id)] = x.Weight
	}
	var out []*balanceNode
	for _, l := range ls {
		if !l.has("master") || l.master != "-" || (!st.UseEmpty && len(l.slots) == 0) {
			continue
		}
		wt, ok := weights[l.id]
		if !ok {
			wt = 1
		}
		out = append(out, &balanceNode{line: l, weight: wt})
	}
	return out
}

// move is one source → target transfer of a rebalance plan.
type move struct {
	src, dst string
	slots    int
}

// planRebalance computes each node's balance (slots it has minus slots it
// should have), stops when all are within threshold percent, fixes the
// rounding so givers and takers match, and pairs the largest taker with the
// largest giver. redis-cli computes in float; rcsim in integers, which can
// shift a node's share by one slot.
func planRebalance(ns []*balanceNode, threshold int) []move {
	total := 0
	for _, n := range ns {
		total += n.weight
	}
	if total == 0 {
		return nil
	}
	over, sum := false, 0
	for _, n := range ns {
		expected := node.NumSlots * n.weight / total
		have := len(n.line.slots)
		n.balance = have - expected
		sum += n.balance
		if threshold > 0 && (have > 0 && 100*abs(have-expected) > threshold*have || have == 0 && expected > 1) {
			over = true
		}
	}
	if !over {
		return nil
	}
	for sum > 0 {
		for _, n := range ns {
			if n.balance <= 0 && sum > 0 {
				n.balance--
				sum--
			}
		}
	}
	sort.SliceStable(ns, func(i, j int) bool { return ns[i].balance < ns[j].balance })
	var moves []move
	for d, s := 0, len(ns)-1; d < s; {
		dst, src := ns[d], ns[s]
		k := min(abs(dst.balance), abs(src.balance))
		if k > 0 {
			moves = append(moves, move{src: src.line.id, dst: dst.line.id, slots: k})
		}
		dst.balance += k
		src.balance -= k
		if dst.balance == 0 {
			d++
		}
		if src.balance == 0 {
			s--
		}
	}
	return moves
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

// runMoves carries out a rebalance plan, taking each source's lowest slots
// and keeping the plan's view of who owns what up to date
// (CLUSTER_MANAGER_OPT_UPDATE).
func (w *world) runMoves(ls []nodesLine, moves []move) {
	if len(moves) == 0 {
		w.adminDone("ok")
		return
	}
	m := moves[0]
	src, dst := w.hostOf(m.src), w.hostOf(m.dst)
	var slots []int
	for i := range ls {
		if ls[i].id == m.src {
			slots = append(slots, ls[i].slots[:m.slots]...)
			ls[i].slots = ls[i].slots[m.slots:]
		}
	}
	w.moveSlots(src, dst, slots, w.otherMasters(ls, src, dst), func() { w.runMoves(ls, moves[1:]) })
}

// addNode is clusterManagerCommandAddNode: load the cluster, check the new
// node is empty (knows only itself), CLUSTER MEET it with the first node,
// and for a replica wait until it knows its master (a simpler wait than
// clusterManagerWaitForClusterJoin, which waits until every node agrees),
// then CLUSTER REPLICATE.
func (w *world) addNode(h *host, masterName string) {
	entry := w.entryNode(h)
	w.loadCluster(entry, func(ls []nodesLine) {
		w.cluster(h, "INFO", w.ok(h, "CLUSTER INFO", func(r node.Reply) {
			if !strings.Contains(r.Value, "cluster_known_nodes:1\r\n") {
				w.adminDone("failed: " + h.name + " is not empty (it knows other nodes)")
				return
			}
			ip, port, _ := strings.Cut(entry.addr, ":")
			w.cluster(h, "MEET "+ip+" "+port, w.ok(h, "CLUSTER MEET", func(node.Reply) {
				if masterName == "" {
					w.adminDone("ok")
					return
				}
				w.waitJoin(h, w.host(masterName), 0)
			}))
		}))
	})
}

// joinPolls bounds how often addNode polls the new node (once a second).
const joinPolls = 60

// waitJoin polls h's CLUSTER NODES until it lists m outside handshake, then
// makes h a replica of m.
func (w *world) waitJoin(h, m *host, polls int) {
	if polls >= joinPolls {
		w.adminDone(fmt.Sprintf("failed: %s did not learn %s within %d polls", h.name, m.name, joinPolls))
		return
	}
	w.cluster(h, "NODES", w.ok(h, "CLUSTER NODES", func(r node.Reply) {
		for _, l := range parseClusterNodes(r.Value) {
			if l.id == string(m.id) && !l.has("handshake") {
				w.cluster(h, "REPLICATE "+string(m.id), w.ok(h, "CLUSTER REPLICATE", func(node.Reply) { w.adminDone("ok") }))
				return
			}
		}
		w.sleepThen(joinPoll, func() { w.waitJoin(h, m, polls+1) })
	}))
}

// joinPoll is how long redis-cli sleeps between join checks.
const joinPoll = time.Second

// delNode is clusterManagerCommandDeleteNode: refuse a node that owns
// slots; re-point its replicas to the master with the fewest replicas; send
// CLUSTER FORGET to every other node; end with CLUSTER RESET SOFT on the
// node itself.
func (w *world) delNode(h *host) {
	entry := w.entryNode(h)
	w.loadCluster(entry, func(ls []nodesLine) {
		var others []nodesLine
		for _, l := range ls {
			if l.id == string(h.id) {
				if len(l.slots) > 0 {
					w.adminDone("failed: " + h.name + " is not empty! Reshard data away and try again.")
					return
				}
				continue
			}
			if l.usable() && w.hostOf(l.id) != nil {
				others = append(others, l)
			}
		}
		w.forgetOn(h, others, leastReplicas(ls, string(h.id)))
	})
}

// leastReplicas is clusterManagerNodeWithLeastReplicas among the masters of
// ls other than skip ("" if none).
func leastReplicas(ls []nodesLine, skip string) string {
	count := map[string]int{}
	for _, l := range ls {
		if l.master != "-" {
			count[l.master]++
		}
	}
	best, bestN := "", 0
	for _, l := range ls {
		if l.has("master") && l.id != skip && l.usable() && (best == "" || count[l.id] < bestN) {
			best, bestN = l.id, count[l.id]
		}
	}
	return best
}

// forgetOn walks the other nodes: REPLICATE first for the node's replicas,
// then FORGET; at the end CLUSTER RESET SOFT on the deleted node.
func (w *world) forgetOn(h *host, others []nodesLine, newMaster string) {
	if len(others) == 0 {
		w.cluster(h, "RESET SOFT", func(r node.Reply) {
			if isErr(r) {
				w.adminDone("ok, but CLUSTER RESET SOFT on " + h.name + ": " + r.Err)
				return
			}
			w.adminDone("ok")
		})
		return
	}
	l, o := others[0], w.hostOf(others[0].id)
	forget := func(node.Reply) {
		w.cluster(o, "FORGET "+string(h.id), w.ok(o, "CLUSTER FORGET", func(node.Reply) {
			w.forgetOn(h, others[1:], newMaster)
		}))
	}
	if l.master == string(h.id) && newMaster != "" {
		w.cluster(o, "REPLICATE "+newMaster, w.ok(o, "CLUSTER REPLICATE", forget))
		return
	}
	forget(node.Reply{})
}

// sleepThen runs f after d, as the step's next action.
func (w *world) sleepThen(d time.Duration, f func()) {
	a := w.admin
	a.seq++
	a.call = &adminCall{seq: a.seq, then: func(node.Reply) { f() }}
	w.q.push(event{at: w.now + d, kind: evAdminSend, gen: a.seq})
}

// create is clusterManagerCommandCreate for the scenario's layout (masters
// m0…, replicas m0r0… of m0, as redis-cli assigns nodes given in that order
// on one host): check every node is empty, CLUSTER ADDSLOTS on the masters,
// CLUSTER SET-CONFIG-EPOCH 1…N (errors ignored, as redis-cli does), CLUSTER
// MEET from every node to the first, wait one second and then until every
// node's CLUSTER NODES agrees, and CLUSTER REPLICATE on the replicas.
func (w *world) create() {
	c := w.s.Cluster
	members := w.hosts[:len(w.hosts)-c.Spares]
	w.eachNode(members, func(h *host, next func()) {
		w.cluster(h, "INFO", w.ok(h, "CLUSTER INFO", func(r node.Reply) {
			if !strings.Contains(r.Value, "cluster_known_nodes:1\r\n") {
				w.adminDone("failed: " + h.name + " is not empty (it knows other nodes)")
				return
			}
			next()
		}))
	}, func() { w.createAddSlots(members) })
}

// eachNode runs f on every host in turn (f calls next to go on), then done.
func (w *world) eachNode(hs []*host, f func(h *host, next func()), done func()) {
	if len(hs) == 0 {
		done()
		return
	}
	f(hs[0], func() { w.eachNode(hs[1:], f, done) })
}

// createAddSlots is clusterManagerFlushNodeConfig's first pass: ADDSLOTS on
// the masters; the replicas' REPLICATE fails (the master is not known yet)
// and is ignored, as redis-cli does, and sent again after the join.
func (w *world) createAddSlots(members []*host) {
	m := w.s.Cluster.Masters
	w.eachNode(members, func(h *host, next func()) {
		if h.idx >= m {
			master := members[(h.idx-m)/max(w.s.Cluster.ReplicasPerMaster, 1)]
			w.cluster(h, "REPLICATE "+string(master.id), func(node.Reply) { next() })
			return
		}
		lo, hi := slotRange(h.idx, m)
		args := make([]string, 0, hi-lo+2)
		args = append(args, "ADDSLOTS")
		for s := lo; s <= hi; s++ {
			args = append(args, strconv.Itoa(s))
		}
		w.cluster(h, strings.Join(args, " "), w.ok(h, "CLUSTER ADDSLOTS", func(node.Reply) { next() }))
	}, func() {
		epoch := 0
		w.eachNode(members, func(h *host, next func()) {
			epoch++
			w.cluster(h, "SET-CONFIG-EPOCH "+strconv.Itoa(epoch), func(node.Reply) { next() })
		}, func() { w.createMeet(members) })
	})
}

func (w *world) createMeet(members []*host) {
	ip, port, _ := strings.Cut(members[0].addr, ":")
	w.eachNode(members[1:], func(h *host, next func()) {
		w.cluster(h, "MEET "+ip+" "+port, w.ok(h, "CLUSTER MEET", func(node.Reply) { next() }))
	}, func() {
		w.sleepThen(joinPoll, func() { w.waitConsistent(members, 0) })
	})
}

// waitConsistent is clusterManagerWaitForClusterJoin: poll every node's
// CLUSTER NODES once a second until all list the same nodes (none in
// handshake) with the same slots; then the replicas are configured.
func (w *world) waitConsistent(members []*host, polls int) {
	if polls >= joinPolls {
		w.adminDone(fmt.Sprintf("failed: the nodes did not agree within %d polls", joinPolls))
		return
	}
	var sigs []string
	w.eachNode(members, func(h *host, next func()) {
		w.cluster(h, "NODES", w.ok(h, "CLUSTER NODES", func(r node.Reply) {
			sigs = append(sigs, configSignature(parseClusterNodes(r.Value)))
			next()
		}))
	}, func() {
		for _, s := range sigs {
			if s != sigs[0] || strings.Count(s, "\n") != len(members) {
				w.sleepThen(joinPoll, func() { w.waitConsistent(members, polls+1) })
				return
			}
		}
		w.createReplicas(members)
	})
}

// configSignature is clusterManagerGetConfigSignature: each node's ID and
// slots, sorted; a node in handshake makes it differ from every other.
func configSignature(ls []nodesLine) string {
	var parts []string
	for _, l := range ls {
		if l.has("handshake") {
			return "handshake"
		}
		parts = append(parts, fmt.Sprintf("%s:%v\n", l.id, l.slots))
	}
	sort.Strings(parts)
	return strings.Join(parts, "")
}

func (w *world) createReplicas(members []*host) {
	c := w.s.Cluster
	w.eachNode(members[c.Masters:], func(h *host, next func()) {
		master := members[(h.idx-c.Masters)/max(c.ReplicasPerMaster, 1)]
		w.cluster(h, "REPLICATE "+string(master.id), w.ok(h, "CLUSTER REPLICATE", func(node.Reply) { next() }))
	}, func() { w.adminDone("ok") })
}
