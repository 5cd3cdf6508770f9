// A read-only snapshot of a node for tests, dumps and the kernel's checks.

package node

// View is what a node is, in its own eyes, at one moment.
type View struct {
	ID           ID
	Master       ID // "" if I am a master
	CurrentEpoch uint64
	ConfigEpoch  uint64 // mine (a replica shows its master's, as CLUSTER INFO's cluster_my_epoch)
	StateOK      bool
	Slots        []SlotRange // slots I own (none for a replica)
	Offset       int64       // replication offset
	Peers        []PeerView  // every other known node, sorted by ID
}

// PeerView is one other node in my view.
type PeerView struct {
	ID          ID
	Flags       Flags
	Master      ID
	ConfigEpoch uint64 // a replica shows its master's, as CLUSTER NODES does (clusterGenNodeDescription)
	Slots       []SlotRange
	LinkUp      bool // my outbound bus link to it is connected
}

// View returns a read-only snapshot of the node's state for tests, the
// kernel's checks and dumps.
func (n *Node) View() View {
	me := n.myself
	v := View{ID: n.self, CurrentEpoch: n.currentEpoch, ConfigEpoch: nodeEpoch(me),
		StateOK: n.stateOK, Slots: me.slots.Ranges(), Offset: n.repl.offset}
	if me.master != nil {
		v.Master = me.master.id
	}
	for _, p := range n.nodes {
		if p == me {
			continue
		}
		pv := PeerView{ID: p.id, Flags: p.flags, ConfigEpoch: nodeEpoch(p),
			Slots: p.slots.Ranges(), LinkUp: p.link != nil && p.link.connected}
		if p.master != nil {
			pv.Master = p.master.id
		}
		v.Peers = append(v.Peers, pv)
	}
	return v
}

// Get returns the string value of key in my keyspace, for tests and
// checks ("" and false when missing or not a string).
func (n *Node) Get(key string) (string, bool) {
	v := n.db.get(key)
	if v == nil || v.kind != KindString {
		return "", false
	}
	return v.str, true
}

// StateOK reports cluster_state ok, cheaply (View copies every slot map).
func (n *Node) StateOK() bool { return n.stateOK }

// Master returns my master's ID, "" if I am a master.
func (n *Node) Master() ID {
	if n.myself.master == nil {
		return ""
	}
	return n.myself.master.id
}

// ServesSlots reports whether I am a master (no master of my own) with at
// least one slot, cheaply (View lists every peer).
func (n *Node) ServesSlots() bool { return n.myself.master == nil && n.myself.numSlots > 0 }
