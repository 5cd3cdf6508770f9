// The admin steps as redis-cli 7.0 runs them (src/redis-cli.c):
// clusterManagerCommandReshard and clusterManagerMoveSlot,
// clusterManagerMigrateKeysInSlot, clusterManagerCommandRebalance,
// clusterManagerCommandAddNode and clusterManagerCommandDeleteNode. What
// redis-cli learns it learns from CLUSTER NODES replies, parsed here.

package admin

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/rcsim/rcsim/node"
	"github.com/rcsim/rcsim/scenarios"
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
func (c *Client) loadCluster(entry *Node, then func([]nodesLine)) {
	c.cluster(entry, "NODES", c.ok(entry, "CLUSTER NODES", func(r node.Reply) {
		ls := parseClusterNodes(r.Value)
		if me, _ := myselfLine(ls); me.open {
			c.done("failed: open slots on " + entry.Name + ": Please fix your cluster problems first")
			return
		}
		then(ls)
	}))
}

// hostOf is the host of a node ID from a CLUSTER NODES line.
func (c *Client) hostOf(id string) *Node { return c.byID[node.ID(id)] }

// reshard moves the n lowest slots of src to dst (redis-cli --cluster
// reshard with one source: clusterManagerComputeReshardTable takes a
// source's slots in ascending order).
func (c *Client) reshard(src, dst *Node, n int) {
	c.loadCluster(src, func(ls []nodesLine) {
		me, _ := myselfLine(ls)
		slots := me.slots[:min(n, len(me.slots))]
		c.moveSlots(src, dst, slots, c.otherMasters(ls, src, dst), func() { c.done("ok") })
	})
}

// otherMasters lists the usable masters of ls but src and dst: the nodes
// clusterManagerMoveSlot also tells about the new owner.
func (c *Client) otherMasters(ls []nodesLine, src, dst *Node) []*Node {
	var out []*Node
	for _, l := range ls {
		h := c.hostOf(l.id)
		if h != nil && h != src && h != dst && l.has("master") && l.usable() {
			out = append(out, h)
		}
	}
	return out
}

// moveSlots moves slots one after the other, then runs next.
func (c *Client) moveSlots(src, dst *Node, slots []int, others []*Node, next func()) {
	if len(slots) == 0 {
		next()
		return
	}
	c.moveSlot(src, dst, slots[0], others, func() { c.moveSlots(src, dst, slots[1:], others, next) })
}

// moveSlot is clusterManagerMoveSlot: IMPORTING on the target, MIGRATING
// on the source, the keys, then NODE on the target first (it bumps its
// epoch and tells everyone), the source (which may have become a replica:
// "Please use SETSLOT only with masters." is accepted), and the others.
func (c *Client) moveSlot(src, dst *Node, slot int, others []*Node, next func()) {
	setslot := func(h *Node, action string, id node.ID) string {
		return fmt.Sprintf("SETSLOT %d %s %s", slot, action, id)
	}
	c.cluster(dst, setslot(dst, "IMPORTING", src.ID), c.ok(dst, "SETSLOT IMPORTING", func(node.Reply) {
		c.cluster(src, setslot(src, "MIGRATING", dst.ID), c.ok(src, "SETSLOT MIGRATING", func(node.Reply) {
			c.migrateKeys(src, dst, slot, func() {
				c.cluster(dst, setslot(dst, "NODE", dst.ID), c.ok(dst, "SETSLOT NODE", func(node.Reply) {
					c.cluster(src, setslot(src, "NODE", dst.ID), func(r node.Reply) {
						if isErr(r) && r.Err != "ERR Please use SETSLOT only with masters." {
							c.fail(src, "SETSLOT NODE", r)
							return
						}
						c.setSlotNodeOn(others, slot, dst, next)
					})
				}))
			})
		}))
	}))
}

// setSlotNodeOn sends SETSLOT slot NODE dst to each of hs in turn.
func (c *Client) setSlotNodeOn(hs []*Node, slot int, dst *Node, next func()) {
	if len(hs) == 0 {
		next()
		return
	}
	h := hs[0]
	c.cluster(h, fmt.Sprintf("SETSLOT %d NODE %s", slot, dst.ID), c.ok(h, "SETSLOT NODE", func(node.Reply) {
		c.setSlotNodeOn(hs[1:], slot, dst, next)
	}))
}

// migrateKeys is clusterManagerMigrateKeysInSlot: GETKEYSINSLOT slot batch,
// MIGRATE them, until the slot is empty. An error (BUSYKEY included: rcsim
// does not compare values and retry with REPLACE) fails the step.
func (c *Client) migrateKeys(src, dst *Node, slot int, next func()) {
	batch := c.run.step.Batch
	c.cluster(src, fmt.Sprintf("GETKEYSINSLOT %d %d", slot, batch), c.ok(src, "GETKEYSINSLOT", func(r node.Reply) {
		if len(r.List) == 0 {
			next()
			return
		}
		cmd := node.Cmd{Op: node.OpMigrate, Value: dst.Addr, Keys: r.List, Timeout: migrateTimeout}
		c.command(src, cmd, c.ok(src, "MIGRATE", func(node.Reply) { c.migrateKeys(src, dst, slot, next) }))
	}))
}

// entryNode is the node the admin client loads the cluster from: the first
// live member of the cluster (never a spare) other than avoid. The operator
// knows which machines are up (workload.Net.Up), as one picking an entry
// node would.
func (c *Client) entryNode(avoid *Node) *Node {
	members := c.cfg.Nodes[:len(c.cfg.Nodes)-c.cfg.Spares]
	for i := range members {
		if n := &members[i]; n != avoid && c.net.Up(n.Addr) {
			return n
		}
	}
	return &c.cfg.Nodes[0]
}

// rebalance is clusterManagerCommandRebalance.
func (c *Client) rebalance(st scenarios.AdminStep) {
	entry := c.entryNode(nil)
	c.loadCluster(entry, func(ls []nodesLine) {
		moves := planRebalance(c.rebalanceNodes(ls, st), st.Threshold)
		if len(moves) == 0 {
			c.done("ok: no rebalancing needed")
			return
		}
		c.runMoves(ls, moves)
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
func (c *Client) rebalanceNodes(ls []nodesLine, st scenarios.AdminStep) []*balanceNode {
	weights := map[string]int{}
	for _, x := range st.Weights {
		weights[string(c.node(x.Node).ID)] = x.Weight
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
func (c *Client) runMoves(ls []nodesLine, moves []move) {
	if len(moves) == 0 {
		c.done("ok")
		return
	}
	m := moves[0]
	src, dst := c.hostOf(m.src), c.hostOf(m.dst)
	var slots []int
	for i := range ls {
		if ls[i].id == m.src {
			slots = append(slots, ls[i].slots[:m.slots]...)
			ls[i].slots = ls[i].slots[m.slots:]
		}
	}
	c.moveSlots(src, dst, slots, c.otherMasters(ls, src, dst), func() { c.runMoves(ls, moves[1:]) })
}

// addNode is clusterManagerCommandAddNode: load the cluster, check the new
// node is empty (knows only itself), CLUSTER MEET it with the first node,
// and for a replica wait until it knows its master (a simpler wait than
// clusterManagerWaitForClusterJoin, which waits until every node agrees),
// then CLUSTER REPLICATE.
func (c *Client) addNode(h *Node, masterName string) {
	entry := c.entryNode(h)
	c.loadCluster(entry, func(ls []nodesLine) {
		c.cluster(h, "INFO", c.ok(h, "CLUSTER INFO", func(r node.Reply) {
			if !strings.Contains(r.Value, "cluster_known_nodes:1\r\n") {
				c.done("failed: " + h.Name + " is not empty (it knows other nodes)")
				return
			}
			ip, port, _ := strings.Cut(entry.Addr, ":")
			c.cluster(h, "MEET "+ip+" "+port, c.ok(h, "CLUSTER MEET", func(node.Reply) {
				if masterName == "" {
					c.done("ok")
					return
				}
				c.waitJoin(h, c.node(masterName), 0)
			}))
		}))
	})
}

// joinPolls bounds how often addNode polls the new node (once a second).
const joinPolls = 60

// waitJoin polls h's CLUSTER NODES until it lists m outside handshake, then
// makes h a replica of m.
func (c *Client) waitJoin(h, m *Node, polls int) {
	if polls >= joinPolls {
		c.done(fmt.Sprintf("failed: %s did not learn %s within %d polls", h.Name, m.Name, joinPolls))
		return
	}
	c.cluster(h, "NODES", c.ok(h, "CLUSTER NODES", func(r node.Reply) {
		for _, l := range parseClusterNodes(r.Value) {
			if l.id == string(m.ID) && !l.has("handshake") {
				c.cluster(h, "REPLICATE "+string(m.ID), c.ok(h, "CLUSTER REPLICATE", func(node.Reply) { c.done("ok") }))
				return
			}
		}
		c.sleepThen(joinPoll, func() { c.waitJoin(h, m, polls+1) })
	}))
}

// joinPoll is how long redis-cli sleeps between join checks.
const joinPoll = time.Second

// delNode is clusterManagerCommandDeleteNode: refuse a node that owns
// slots; re-point its replicas to the master with the fewest replicas; send
// CLUSTER FORGET to every other node; end with CLUSTER RESET SOFT on the
// node itself.
func (c *Client) delNode(h *Node) {
	entry := c.entryNode(h)
	c.loadCluster(entry, func(ls []nodesLine) {
		var others []nodesLine
		for _, l := range ls {
			if l.id == string(h.ID) {
				if len(l.slots) > 0 {
					c.done("failed: " + h.Name + " is not empty! Reshard data away and try again.")
					return
				}
				continue
			}
			if l.usable() && c.hostOf(l.id) != nil {
				others = append(others, l)
			}
		}
		c.forgetOn(h, others, leastReplicas(ls, string(h.ID)))
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
func (c *Client) forgetOn(h *Node, others []nodesLine, newMaster string) {
	if len(others) == 0 {
		c.cluster(h, "RESET SOFT", func(r node.Reply) {
			if isErr(r) {
				c.done("ok, but CLUSTER RESET SOFT on " + h.Name + ": " + r.Err)
				return
			}
			c.done("ok")
		})
		return
	}
	l, o := others[0], c.hostOf(others[0].id)
	forget := func(node.Reply) {
		c.cluster(o, "FORGET "+string(h.ID), c.ok(o, "CLUSTER FORGET", func(node.Reply) {
			c.forgetOn(h, others[1:], newMaster)
		}))
	}
	if l.master == string(h.ID) && newMaster != "" {
		c.cluster(o, "REPLICATE "+newMaster, c.ok(o, "CLUSTER REPLICATE", forget))
		return
	}
	forget(node.Reply{})
}

// create is clusterManagerCommandCreate for the scenario's layout (masters
// m0…, replicas m0r0… of m0, as redis-cli assigns nodes given in that order
// on one host): check every node is empty, CLUSTER ADDSLOTS on the masters,
// CLUSTER SET-CONFIG-EPOCH 1…N (errors ignored, as redis-cli does), CLUSTER
// MEET from every node to the first, wait one second and then until every
// node's CLUSTER NODES agrees, and CLUSTER REPLICATE on the replicas.
func (c *Client) create() {
	members := c.members()
	c.eachNode(members, func(h *Node, next func()) {
		c.cluster(h, "INFO", c.ok(h, "CLUSTER INFO", func(r node.Reply) {
			if !strings.Contains(r.Value, "cluster_known_nodes:1\r\n") {
				c.done("failed: " + h.Name + " is not empty (it knows other nodes)")
				return
			}
			next()
		}))
	}, func() { c.createAddSlots(members) })
}

// eachNode runs f on every host in turn (f calls next to go on), then done.
func (c *Client) eachNode(hs []*Node, f func(h *Node, next func()), done func()) {
	if len(hs) == 0 {
		done()
		return
	}
	f(hs[0], func() { c.eachNode(hs[1:], f, done) })
}

// createAddSlots is clusterManagerFlushNodeConfig's first pass: ADDSLOTS on
// the masters; the replicas' REPLICATE fails (the master is not known yet)
// and is ignored, as redis-cli does, and sent again after the join.
func (c *Client) createAddSlots(members []*Node) {
	m := c.cfg.Masters
	c.eachNode(members, func(h *Node, next func()) {
		if i := c.index(h); i >= m {
			master := members[(i-m)/max(c.cfg.ReplicasPerMaster, 1)]
			c.cluster(h, "REPLICATE "+string(master.ID), func(node.Reply) { next() })
			return
		}
		lo, hi := CreateSlots(c.index(h), m)
		args := make([]string, 0, hi-lo+2)
		args = append(args, "ADDSLOTS")
		for s := lo; s <= hi; s++ {
			args = append(args, strconv.Itoa(s))
		}
		c.cluster(h, strings.Join(args, " "), c.ok(h, "CLUSTER ADDSLOTS", func(node.Reply) { next() }))
	}, func() {
		epoch := 0
		c.eachNode(members, func(h *Node, next func()) {
			epoch++
			c.cluster(h, "SET-CONFIG-EPOCH "+strconv.Itoa(epoch), func(node.Reply) { next() })
		}, func() { c.createMeet(members) })
	})
}

func (c *Client) createMeet(members []*Node) {
	ip, port, _ := strings.Cut(members[0].Addr, ":")
	c.eachNode(members[1:], func(h *Node, next func()) {
		c.cluster(h, "MEET "+ip+" "+port, c.ok(h, "CLUSTER MEET", func(node.Reply) { next() }))
	}, func() {
		c.sleepThen(joinPoll, func() { c.waitConsistent(members, 0) })
	})
}

// waitConsistent is clusterManagerWaitForClusterJoin: poll every node's
// CLUSTER NODES once a second until all list the same nodes (none in
// handshake) with the same slots; then the replicas are configured.
func (c *Client) waitConsistent(members []*Node, polls int) {
	if polls >= joinPolls {
		c.done(fmt.Sprintf("failed: the nodes did not agree within %d polls", joinPolls))
		return
	}
	var sigs []string
	c.eachNode(members, func(h *Node, next func()) {
		c.cluster(h, "NODES", c.ok(h, "CLUSTER NODES", func(r node.Reply) {
			sigs = append(sigs, configSignature(parseClusterNodes(r.Value)))
			next()
		}))
	}, func() {
		for _, s := range sigs {
			if s != sigs[0] || strings.Count(s, "\n") != len(members) {
				c.sleepThen(joinPoll, func() { c.waitConsistent(members, polls+1) })
				return
			}
		}
		c.createReplicas(members)
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

func (c *Client) createReplicas(members []*Node) {
	m := c.cfg.Masters
	c.eachNode(members[m:], func(h *Node, next func()) {
		master := members[(c.index(h)-m)/max(c.cfg.ReplicasPerMaster, 1)]
		c.cluster(h, "REPLICATE "+string(master.ID), c.ok(h, "CLUSTER REPLICATE", func(node.Reply) { next() }))
	}, func() { c.done("ok") })
}

// members lists the cluster's members (every node but the spares), in
// endpoint order.
func (c *Client) members() []*Node {
	out := make([]*Node, len(c.cfg.Nodes)-c.cfg.Spares)
	for i := range out {
		out[i] = &c.cfg.Nodes[i]
	}
	return out
}

// index is n's position among the run's nodes.
func (c *Client) index(n *Node) int {
	for i := range c.cfg.Nodes {
		if &c.cfg.Nodes[i] == n {
			return i
		}
	}
	panic("admin: invariant: node not of this run: " + n.Name)
}

// CreateSlots is redis-cli's allocation: master m of n gets
// [m*16384/n, (m+1)*16384/n - 1] (clusterManagerCommandCreate).
func CreateSlots(m, n int) (first, last int) {
	per := float64(node.NumSlots) / float64(n)
	if m > 0 {
		first = int(float64(m)*per + 0.5)
	}
	last = int(float64(m+1)*per+0.5) - 1
	if m == n-1 {
		last = node.NumSlots - 1
	}
	return first, last
}
