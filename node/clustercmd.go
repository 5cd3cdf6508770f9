// The CLUSTER subcommands a scenario or test can issue besides SLOTS and
// FAILOVER: MEET, FORGET, ADDSLOTS, REPLICATE, INFO, NODES, SHARDS, MYID and
// COUNT-FAILURE-REPORTS (clusterCommand in cluster.c).

package node

import (
	"fmt"
	"github.com/rcsim/rcsim/node/trace"
	"strconv"
	"strings"
)

// clusterCommand runs "SUBCOMMAND arg…" (case-insensitive subcommand) and
// returns Redis's reply; text replies are in Reply.Value.
func (n *Node) clusterCommand(line string) Reply {
	args := strings.Fields(line)
	if len(args) == 0 {
		return errReply(ReplyError, "ERR wrong number of arguments for 'cluster' command")
	}
	sub, rest := strings.ToUpper(args[0]), args[1:]
	text := func(s string) Reply { return Reply{Kind: ReplyOK, Value: s} }
	switch {
	case sub == "MEET" && (len(rest) == 2 || len(rest) == 3):
		return n.meet(rest[0], rest[1])
	case sub == "FORGET" && len(rest) == 1:
		return n.forget(ID(rest[0]))
	case sub == "ADDSLOTS" && len(rest) >= 1:
		return n.addSlotsCommand(rest)
	case sub == "REPLICATE" && len(rest) == 1:
		return n.replicateCommand(ID(rest[0]))
	case sub == "COUNT-FAILURE-REPORTS" && len(rest) == 1:
		p := n.byID[ID(rest[0])]
		if p == nil {
			return errReply(ReplyError, "ERR Unknown node "+rest[0])
		}
		return Reply{Kind: ReplyOK, Int: int64(n.failureReportsCount(p))}
	case sub == "INFO" && len(rest) == 0:
		return text(n.ClusterInfo())
	case sub == "NODES" && len(rest) == 0:
		return text(n.ClusterNodes())
	case sub == "SHARDS" && len(rest) == 0:
		return text(n.ClusterShards())
	case sub == "LINKS" && len(rest) == 0:
		return Reply{Kind: ReplyOK, List: n.ClusterLinks()}
	case sub == "MYID" && len(rest) == 0:
		return text(string(n.self))
	case sub == "RESET" && len(rest) <= 1:
		return n.resetCommand(rest)
	}
	if r, ok := n.migrationCommand(sub, rest); ok {
		return r
	}
	return errReply(ReplyError, fmt.Sprintf("ERR unknown subcommand or wrong number of arguments for '%s'", args[0]))
}

// addSlotsCommand is CLUSTER ADDSLOTS: every argument must parse
// (getSlotOrReply) and be unassigned (checkSlotAssignmentsOrReply) before
// any slot is taken.
func (n *Node) addSlotsCommand(args []string) Reply {
	seen := map[int]bool{}
	var slots []int
	for _, a := range args {
		s, err := strconv.Atoi(a)
		if err != nil || s < 0 || s >= NumSlots {
			return errReply(ReplyError, "ERR Invalid or out of range slot")
		}
		slots = append(slots, s)
	}
	for _, s := range slots {
		if seen[s] {
			return errReply(ReplyError, fmt.Sprintf("ERR Slot %d specified multiple times", s))
		}
		seen[s] = true
		if n.slots.owner(s) != nil {
			return errReply(ReplyError, fmt.Sprintf("ERR Slot %d is already busy", s))
		}
	}
	var added SlotSet
	for _, s := range slots {
		n.clearImporting(s) // clusterUpdateSlots
		n.addSlot(n.myself, s)
		added.Add(s)
	}
	// The trace's slot views (the checker's convergence) see my own claims
	// only through this event, as they see others' through Slots rebinds.
	n.emitSlots(trace.Slots, n.myself, n.myself.configEpoch, added.Ranges())
	n.doBeforeSleep(todoUpdateState | todoSaveConfig)
	return okReply()
}

// replicateCommand is CLUSTER REPLICATE <id>.
func (n *Node) replicateCommand(id ID) Reply {
	m := n.byID[id]
	switch {
	case m == nil:
		return errReply(ReplyError, "ERR Unknown node "+string(id))
	case m == n.myself:
		return errReply(ReplyError, "ERR Can't replicate myself")
	case m.is(FlagSlave):
		return errReply(ReplyError, "ERR I can only replicate a master, not a replica.")
	case n.myself.is(FlagMaster) && (n.myself.numSlots != 0 || len(n.db.m) != 0):
		return errReply(ReplyError, "ERR To set a master the node must be empty and without assigned slots.")
	}
	n.setMaster(m)
	n.doBeforeSleep(todoUpdateState | todoSaveConfig)
	return okReply()
}

// resetCommand is CLUSTER RESET [SOFT]: refused on a master holding keys,
// then clusterReset(0). HARD (new node ID, epochs back to 0) is not
// modelled: the kernel names nodes by a fixed ID, so it is refused.
func (n *Node) resetCommand(args []string) Reply {
	if len(args) == 1 {
		switch strings.ToUpper(args[0]) {
		case "SOFT":
		case "HARD":
			return errReply(ReplyError, "ERR CLUSTER RESET HARD is not modelled by rcsim")
		default:
			return errReply(ReplyError, "ERR syntax error")
		}
	}
	if n.myself.is(FlagMaster) && len(n.db.m) != 0 {
		return errReply(ReplyError, "ERR CLUSTER RESET can't be called with master nodes containing keys")
	}
	n.clusterReset()
	return okReply()
}

// clusterReset is clusterReset(0): turn into an empty master, close open
// slots, unassign every slot and forget every other node, keeping my ID
// and epochs.
func (n *Node) clusterReset() {
	if n.myself.is(FlagSlave) {
		n.setNodeAsMaster(n.myself)
		n.replicationUnsetMaster()
		n.db = keyspace{}
		n.db.init() // emptyData
		n.emit(trace.Role, nil, 0, "master")
	}
	n.open = nil // clusterCloseAllSlots
	n.resetManualFailover()
	for s := 0; s < NumSlots; s++ {
		n.delSlot(s)
	}
	for _, p := range append([]*peer(nil), n.nodes...) {
		if p != n.myself {
			n.delNode(p, "reset")
		}
	}
	n.emit(trace.Note, nil, 0, "cluster reset soft")
	n.doBeforeSleep(todoUpdateState | todoSaveConfig)
}
