// Slot migration, the server side of a reshard (Redis 7.0 src/cluster.c,
// called cluster_legacy.c from 7.2 on): the MIGRATING/IMPORTING markers
// (migrating_slots_to, importing_slots_from), CLUSTER SETSLOT, GETKEYSINSLOT,
// COUNTKEYSINSLOT and BUMPEPOCH, the open-slot part of getNodeByQuery (ASK,
// ASKING, TRYAGAIN) and MIGRATE with RESTORE-ASKING.
//
// MIGRATE is a request and a reply carried by the kernel, not a bus message.
// In Redis the source blocks its whole event loop while it writes
// RESTORE-ASKING to the target and reads the replies (migrateCommand uses
// connSyncWrite and connSyncReadLine), so nothing else runs on the source
// between serializing the keys and deleting them: client writes landing on
// the source in between and then deleted with the batch would be a lost
// write Redis cannot have. So the node puts a MigrateRequest in its Output,
// the kernel holds the source's input until the answer is back, hands the
// request to the target (RestoreAsking, whose MigrateReply is in the
// target's Output) and the reply to the source (MigrateDone), before
// anything else runs at that virtual instant.

package node

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/rcsim/rcsim/node/trace"
)

// openSlot is one slot with an open migration on this node.
type openSlot struct {
	slot      int
	migrating *peer // migrating_slots_to[slot]
	importing *peer // importing_slots_from[slot]
}

// OpenSlot is a slot with an open migration as a node (and its nodes.conf)
// records it: Migrating is the node the slot is moving to (`[slot->-id]`),
// Importing the node it is coming from (`[slot-<-id]`); either may be "".
type OpenSlot struct {
	Slot      int
	Migrating ID
	Importing ID
}

// MigrateRequest is a MIGRATE the source node has started and the kernel
// must carry out: hand it to the node at Target (RestoreAsking), then the
// target's MigrateReply to the source (MigrateDone). The source's client
// gets no reply until then.
type MigrateRequest struct {
	From    ID // the source
	Client  ClientID
	Seq     uint64
	Target  string   // "ip:port"
	Keys    []KeyVal // the keys that exist, serialized (DUMP), in argument order
	Replace bool
	Timeout time.Duration
}

// MigrateReply is the target's answer to a MigrateRequest: one answer per
// key ("" for +OK, else the error line), or, when the target could not be
// reached, no answers and ConnErr set (the kernel writes that one).
type MigrateReply struct {
	Req     MigrateRequest
	Answers []string
	ConnErr string
}

// MIGRATE error texts (migrateCommand, migrateGetSocket).
const (
	ErrMigrateConnect = "IOERR error or timeout connecting to the client"
	errBusyKey        = "BUSYKEY Target key name already exists."
	errTryAgain       = "TRYAGAIN Multiple keys request during rehashing of slot"
	errCrossSlot      = "CROSSSLOT Keys in request don't hash to the same slot"
)

// openIndex returns where slot is or would be in n.open.
func (n *Node) openIndex(slot int) (int, bool) {
	i := sort.Search(len(n.open), func(i int) bool { return n.open[i].slot >= slot })
	return i, i < len(n.open) && n.open[i].slot == slot
}

// migratingTo is migrating_slots_to[slot].
func (n *Node) migratingTo(slot int) *peer {
	if i, ok := n.openIndex(slot); ok {
		return n.open[i].migrating
	}
	return nil
}

// importingFrom is importing_slots_from[slot].
func (n *Node) importingFrom(slot int) *peer {
	if i, ok := n.openIndex(slot); ok {
		return n.open[i].importing
	}
	return nil
}

// setOpen sets both markers of slot; an entry with neither is dropped.
func (n *Node) setOpen(slot int, migrating, importing *peer) {
	i, ok := n.openIndex(slot)
	switch {
	case migrating == nil && importing == nil:
		if ok {
			n.open = append(n.open[:i], n.open[i+1:]...)
		}
	case ok:
		n.open[i].migrating, n.open[i].importing = migrating, importing
	default:
		n.open = append(n.open, openSlot{})
		copy(n.open[i+1:], n.open[i:])
		n.open[i] = openSlot{slot: slot, migrating: migrating, importing: importing}
	}
}

// clearOpenFor is clusterDelNode's step 1 for the markers: a deleted node is
// no longer a migration source or target.
func (n *Node) clearOpenFor(p *peer) {
	kept := n.open[:0]
	for _, o := range n.open {
		if o.migrating == p {
			o.migrating = nil
		}
		if o.importing == p {
			o.importing = nil
		}
		if o.migrating != nil || o.importing != nil {
			kept = append(kept, o)
		}
	}
	n.open = kept
}

// clearImporting is clusterUpdateSlots's "now we are the real owner" for
// CLUSTER ADDSLOTS.
func (n *Node) clearImporting(slot int) {
	n.setOpen(slot, n.migratingTo(slot), nil)
}

// OpenSlots returns the slots with an open migration on this node, by slot.
func (n *Node) OpenSlots() []OpenSlot {
	out := make([]OpenSlot, 0, len(n.open))
	for _, o := range n.open {
		s := OpenSlot{Slot: o.slot}
		if o.migrating != nil {
			s.Migrating = o.migrating.id
		}
		if o.importing != nil {
			s.Importing = o.importing.id
		}
		out = append(out, s)
	}
	return out
}

// formatOpenSlots is the tail clusterGenNodeDescription adds to the myself
// line: " [slot->-id]" for a migrating slot, else " [slot-<-id]" for an
// importing one, in slot order.
func formatOpenSlots(open []OpenSlot) string {
	var b strings.Builder
	for _, o := range open {
		if o.Migrating != "" {
			fmt.Fprintf(&b, " [%d->-%s]", o.Slot, o.Migrating)
		} else if o.Importing != "" {
			fmt.Fprintf(&b, " [%d-<-%s]", o.Slot, o.Importing)
		}
	}
	return b.String()
}

// restoreOpen is clusterLoadConfig's reading of the markers: an unknown
// node named there is created without address or flags (createClusterNode
// with flags 0).
func (n *Node) restoreOpen(open []OpenSlot) {
	get := func(id ID) *peer {
		if id == "" {
			return nil
		}
		return n.addPeer(id, "")
	}
	for _, o := range open {
		if o.Slot >= 0 && o.Slot < NumSlots {
			n.setOpen(o.Slot, get(o.Migrating), get(o.Importing))
		}
	}
}

// migrationCommand runs the CLUSTER subcommands of this file (and
// SET-CONFIG-EPOCH, the other command of an admin's sequence); ok is false
// for any other subcommand.
func (n *Node) migrationCommand(sub string, args []string) (r Reply, ok bool) {
	switch {
	case sub == "SETSLOT" && len(args) >= 2:
		return n.setSlotCommand(args), true
	case sub == "COUNTKEYSINSLOT" && len(args) == 1:
		s, err := strconv.ParseInt(args[0], 10, 64)
		if err != nil {
			return errReply(ReplyError, "ERR value is not an integer or out of range"), true
		}
		if s < 0 || s >= NumSlots {
			return errReply(ReplyError, "ERR Invalid slot"), true
		}
		return Reply{Kind: ReplyOK, Int: int64(n.db.countKeysInSlot(int(s)))}, true
	case sub == "GETKEYSINSLOT" && len(args) == 2:
		return n.getKeysInSlotCommand(args[0], args[1]), true
	case sub == "BUMPEPOCH" && len(args) == 0:
		word := "STILL"
		if n.bumpConfigEpochWithoutConsensus("bumpepoch") {
			word = "BUMPED"
		}
		return Reply{Kind: ReplyOK, Value: fmt.Sprintf("%s %d", word, n.myself.configEpoch)}, true
	case sub == "SET-CONFIG-EPOCH" && len(args) == 1:
		return n.setConfigEpochCommand(args[0]), true
	}
	return Reply{}, false
}

// setConfigEpochCommand is CLUSTER SET-CONFIG-EPOCH, which redis-cli's
// create sends so a new cluster starts with distinct epochs: only a node
// that knows no other node and has configEpoch 0 takes it.
func (n *Node) setConfigEpochCommand(arg string) Reply {
	e, err := strconv.ParseInt(arg, 10, 64)
	switch {
	case err != nil:
		return errReply(ReplyError, "ERR value is not an integer or out of range")
	case e < 0:
		return errReply(ReplyError, fmt.Sprintf("ERR Invalid config epoch specified: %d", e))
	case len(n.nodes) > 1:
		return errReply(ReplyError, "ERR The user can assign a config epoch only when the node does not know any other node.")
	case n.myself.configEpoch != 0:
		return errReply(ReplyError, "ERR Node config epoch is already non-zero")
	}
	n.myself.configEpoch = uint64(e)
	n.emit(trace.ConfigEpoch, nil, uint64(e), "set-config-epoch")
	n.setCurrentEpoch(uint64(e), "set-config-epoch")
	n.doBeforeSleep(todoSaveConfig)
	return okReply()
}

// getKeysInSlotCommand is CLUSTER GETKEYSINSLOT slot count. Redis lists a
// slot's keys newest first (the per-slot list); rcsim lists them in sorted
// order, which changes which keys a batch holds, not how many.
func (n *Node) getKeysInSlotCommand(slotArg, countArg string) Reply {
	s, err1 := strconv.ParseInt(slotArg, 10, 64)
	c, err2 := strconv.ParseInt(countArg, 10, 64)
	if err1 != nil || err2 != nil {
		return errReply(ReplyError, "ERR value is not an integer or out of range")
	}
	if s < 0 || s >= NumSlots || c < 0 {
		return errReply(ReplyError, "ERR Invalid slot or number of keys")
	}
	keys := []string{}
	if n.db.countKeysInSlot(int(s)) > 0 {
		for _, k := range n.db.sortedKeys() {
			if int64(len(keys)) >= c {
				break
			}
			if KeySlot(k) == int(s) {
				keys = append(keys, k)
			}
		}
	}
	return Reply{Kind: ReplyOK, List: keys}
}

// setSlotCommand is CLUSTER SETSLOT slot IMPORTING|MIGRATING|STABLE|NODE
// [id] (the setslot branch of clusterCommand, Redis 7.0).
func (n *Node) setSlotCommand(args []string) Reply {
	if n.myself.is(FlagSlave) {
		return errReply(ReplyError, "ERR Please use SETSLOT only with masters.")
	}
	s, err := strconv.ParseInt(args[0], 10, 64)
	if err != nil || s < 0 || s >= NumSlots {
		return errReply(ReplyError, "ERR Invalid or out of range slot")
	}
	slot, action := int(s), strings.ToUpper(args[1])
	var r Reply
	switch {
	case action == "MIGRATING" && len(args) == 3:
		r = n.setSlotMigrating(slot, ID(args[2]))
	case action == "IMPORTING" && len(args) == 3:
		r = n.setSlotImporting(slot, ID(args[2]))
	case action == "STABLE" && len(args) == 2:
		n.setOpen(slot, nil, nil)
		n.emitSetSlot(nil, slot, "stable")
		r = okReply()
	case action == "NODE" && len(args) == 3:
		r = n.setSlotNode(slot, ID(args[2]))
	default:
		return errReply(ReplyError, "ERR Invalid CLUSTER SETSLOT action or number of arguments. Try CLUSTER HELP")
	}
	if r.Kind == ReplyOK {
		n.doBeforeSleep(todoSaveConfig | todoUpdateState)
	}
	return r
}

// setSlotMigrating is SETSLOT slot MIGRATING id: only the owner may migrate.
func (n *Node) setSlotMigrating(slot int, id ID) Reply {
	if n.slots.owner(slot) != n.myself {
		return errReply(ReplyError, fmt.Sprintf("ERR I'm not the owner of hash slot %d", slot))
	}
	p := n.byID[id]
	if p == nil {
		return errReply(ReplyError, "ERR I don't know about node "+string(id))
	}
	if p.is(FlagSlave) {
		return errReply(ReplyError, "ERR Target node is not a master")
	}
	n.setOpen(slot, p, n.importingFrom(slot))
	n.emitSetSlot(p, slot, "migrating")
	return okReply()
}

// setSlotImporting is SETSLOT slot IMPORTING id: only a non-owner may import.
func (n *Node) setSlotImporting(slot int, id ID) Reply {
	if n.slots.owner(slot) == n.myself {
		return errReply(ReplyError, fmt.Sprintf("ERR I'm already the owner of hash slot %d", slot))
	}
	p := n.byID[id]
	if p == nil {
		return errReply(ReplyError, "ERR I don't know about node "+string(id))
	}
	if p.is(FlagSlave) {
		return errReply(ReplyError, "ERR Target node is not a master")
	}
	n.setOpen(slot, n.migratingTo(slot), p)
	n.emitSetSlot(p, slot, "importing")
	return okReply()
}

// setSlotNode is SETSLOT slot NODE id: bind the slot to id. The owner must
// hold no keys of it to give it away; a migrating marker without keys is
// dropped; a master left without slots follows the new owner (with
// cluster-allow-replica-migration); closing an import on myself bumps my
// configEpoch without consensus, so my claim beats the old owner's in every
// other node's clusterUpdateSlotsConfigWith, and broadcasts a PONG so they
// learn it at once.
func (n *Node) setSlotNode(slot int, id ID) Reply {
	p := n.byID[id]
	if p == nil {
		return errReply(ReplyError, "ERR Unknown node "+string(id))
	}
	if p.is(FlagSlave) {
		return errReply(ReplyError, "ERR Target node is not a master")
	}
	me := n.myself
	keys := n.db.countKeysInSlot(slot)
	if n.slots.owner(slot) == me && p != me && keys != 0 {
		return errReply(ReplyError, fmt.Sprintf(
			"ERR Can't assign hashslot %d to a different node while I still hold keys for this hash slot.", slot))
	}
	if keys == 0 && n.migratingTo(slot) != nil {
		n.setOpen(slot, nil, n.importingFrom(slot))
	}
	wasMine := n.slots.owner(slot) == me
	n.delSlot(slot)
	n.addSlot(p, slot)
	n.emitSetSlot(p, slot, "node")
	if wasMine && p != me && me.numSlots == 0 && n.cfg.AllowReplicaMigration {
		n.setMaster(p)
		n.doBeforeSleep(todoSaveConfig | todoUpdateState)
	}
	if p == me && n.importingFrom(slot) != nil {
		n.bumpConfigEpochWithoutConsensus("setslot node")
		n.setOpen(slot, n.migratingTo(slot), nil)
		n.broadcastPong(false)
	}
	return okReply()
}

// routeVerdict is what getNodeByQuery decides for a command on an open slot.
type routeVerdict uint8

const (
	routeOn       routeVerdict = iota // not decided here: the ordinary rules (READONLY, MOVED) follow
	routeServe                        // serve it here
	routeAsk                          // -ASK to the migration target
	routeTryAgain                     // -TRYAGAIN
)

// openSlotQuery is what getNodeByQuery knows about a command on one slot.
type openSlotQuery struct {
	owned     bool // the slot is bound to myself
	migrating bool // migrating_slots_to[slot] is set
	importing bool // importing_slots_from[slot] is set
	asking    bool // CLIENT_ASKING, or a CMD_ASKING command (RESTORE-ASKING)
	isMigrate bool // the command is MIGRATE
	multiKeys bool // several distinct keys
	missing   int  // keys of the command not in my keyspace
	existing  int  // keys of the command in my keyspace
}

// openSlotRoute is the open-slot part of getNodeByQuery (after the
// cluster-down checks): MIGRATE always runs locally on an open slot; a
// migrating owner missing some keys answers ASK (none present) or TRYAGAIN
// (some present); an importing node serves ASKING commands unless a
// multi-key command misses keys. Note that "migrating" counts only on the
// owner while "importing" counts on any node, as in Redis.
func openSlotRoute(q openSlotQuery) routeVerdict {
	migrating := q.owned && q.migrating
	importing := !migrating && q.importing
	if (migrating || importing) && q.isMigrate {
		return routeServe
	}
	if migrating && q.missing > 0 {
		if q.existing > 0 {
			return routeTryAgain
		}
		return routeAsk
	}
	if importing && q.asking {
		if q.multiKeys && q.missing > 0 {
			return routeTryAgain
		}
		return routeServe
	}
	return routeOn
}

// openSlotRedirect applies openSlotRoute to a one-key command (every keyed
// command rcsim models has one key; MIGRATE checks its keys itself). done
// is false when the ordinary rules decide; r is nil when I serve it.
func (n *Node) openSlotRedirect(cmd Cmd, slot int) (r *Reply, done bool) {
	q := openSlotQuery{owned: n.slots.owner(slot) == n.myself, migrating: n.migratingTo(slot) != nil,
		importing: n.importingFrom(slot) != nil, asking: cmd.Asking, isMigrate: cmd.Op == OpMigrate}
	if q.migrating || q.importing {
		if n.db.get(cmd.Key) == nil {
			q.missing = 1
		} else {
			q.existing = 1
		}
	}
	switch openSlotRoute(q) {
	case routeServe:
		return nil, true
	case routeAsk:
		to := n.migratingTo(slot)
		return &Reply{Kind: ReplyAsk, Slot: slot, Addr: to.addr,
			Err: fmt.Sprintf("ASK %d %s", slot, to.addr)}, true
	case routeTryAgain:
		e := errReply(ReplyTryAgain, errTryAgain)
		return &e, true
	}
	return nil, false
}

// migrateCommand is MIGRATE host port "" 0 timeout [REPLACE] KEYS key…
// (cmd.Value is the target "ip:port", cmd.Keys the keys; a single cmd.Key
// is the one-key form). It checks the keys as getNodeByQuery does, then
// hands the keys that exist to the kernel (Output.Migrates); NOKEY when none
// does.
func (n *Node) migrateCommand(c ClientID, cmd Cmd) {
	keys := cmd.Keys
	if len(keys) == 0 {
		keys = []string{cmd.Key}
	}
	slot := KeySlot(keys[0])
	for _, k := range keys[1:] {
		if KeySlot(k) != slot {
			n.reply(c, cmd.Seq, errReply(ReplyError, errCrossSlot))
			return
		}
	}
	rc := cmd
	rc.Key = keys[0]
	if r := n.redirect(rc); r != nil {
		n.reply(c, cmd.Seq, *r)
		return
	}
	if n.now < n.pausedUntil { // MIGRATE is a write: a manual failover's pause holds it
		n.paused = append(n.paused, pendingCmd{c, cmd})
		return
	}
	var vals []KeyVal
	for _, k := range keys {
		if v := n.db.get(k); v != nil {
			vals = append(vals, KeyVal{Key: k, Str: v.str, List: append([]string(nil), v.list...), Kind: v.kind})
		}
	}
	if len(vals) == 0 {
		n.reply(c, cmd.Seq, Reply{Kind: ReplyOK, Value: "NOKEY"})
		return
	}
	n.out.Migrates = append(n.out.Migrates, MigrateRequest{From: n.myself.id, Client: c, Seq: cmd.Seq, Target: cmd.Value,
		Keys: vals, Replace: cmd.Replace, Timeout: cmd.Timeout})
}

// RestoreAsking runs, on the MIGRATE target, one RESTORE-ASKING per key of
// req (restoreCommand; the command carries CMD_ASKING, so an importing slot
// is served), and puts the answers for the source in out.MigrateReplies. A
// restored key reaches my replicas as the equivalent SET, or DEL and
// RPUSHes for a list.
func (n *Node) RestoreAsking(now time.Duration, req MigrateRequest, out *Output) {
	n.begin(now, out)
	defer n.end()
	answers := make([]string, len(req.Keys))
	replace := req.Replace
	for i, kv := range req.Keys {
		if r := n.redirect(Cmd{Op: OpSet, Key: kv.Key, Asking: true}); r != nil {
			answers[i] = r.Err
			continue
		}
		if n.db.get(kv.Key) != nil && !replace {
			answers[i] = errBusyKey
			continue
		}
		n.restoreKey(kv)
	}
	n.out.MigrateReplies = append(n.out.MigrateReplies, MigrateReply{Req: req, Answers: answers})
}

// restoreKey stores kv and propagates it as plain writes.
func (n *Node) restoreKey(kv KeyVal) {
	if kv.Kind == KindString {
		w := Write{Op: OpSet, Key: kv.Key, Value: kv.Str}
		n.db.apply(w)
		n.propagate(w, false)
		return
	}
	for _, w := range append([]Write{{Op: OpDel, Key: kv.Key}}, listWrites(kv)...) {
		n.db.apply(w)
		n.propagate(w, false)
	}
}

func listWrites(kv KeyVal) []Write {
	ws := make([]Write, len(kv.List))
	for i, e := range kv.List {
		ws[i] = Write{Op: OpRPush, Key: kv.Key, Value: e}
	}
	return ws
}

// MigrateDone finishes a MIGRATE on the source with the target's reply:
// every key the target acknowledged is deleted and propagated as DEL; the
// reply is +OK, or the first error the target gave, or the connection error.
func (n *Node) MigrateDone(now time.Duration, rep MigrateReply, out *Output) {
	n.begin(now, out)
	defer n.end()
	req, answers := rep.Req, rep.Answers
	if rep.ConnErr != "" {
		n.reply(req.Client, req.Seq, errReply(ReplyError, rep.ConnErr))
		return
	}
	moved, firstErr := 0, ""
	for i, kv := range req.Keys {
		if answers[i] != "" {
			if firstErr == "" {
				firstErr = answers[i]
			}
			continue
		}
		w := Write{Op: OpDel, Key: kv.Key}
		if r := n.db.apply(w); r.Int == 1 {
			n.propagate(w, false)
			moved++
		}
	}
	n.emit(trace.Migrate, n.byAddr(req.Target), 0,
		fmt.Sprintf("slot=%d keys=%d/%d", KeySlot(req.Keys[0].Key), moved, len(req.Keys)))
	if firstErr != "" {
		n.reply(req.Client, req.Seq, errReply(ReplyError, "ERR Target instance replied with error: "+firstErr))
		return
	}
	n.reply(req.Client, req.Seq, okReply())
}

// byAddr finds a known node by "ip:port" (nil if none).
func (n *Node) byAddr(addr string) *peer {
	for _, p := range n.nodes {
		if p.addr == addr {
			return p
		}
	}
	return nil
}
