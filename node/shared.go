// What the nodes of one run share inside the simulator and never put on the
// wire: small numbers for node IDs and a free list of bus messages. Redis has
// no counterpart; both exist so that a 2,000-node cluster, whose PINGs carry
// 200 gossip entries each, runs in minutes.

package node

// Shared is handed to every node of one run through Config.Shared. It numbers
// the node IDs and addresses the nodes learn (in the order they are first
// seen, so a run numbers them the same way every time), so that a gossip
// entry names its node and address by numbers the receiver turns into its
// own peer with a slice index instead of hashing a 40-character ID, and so
// that building one reads nothing but the node's hot record. Every output
// still shows the IDs; the numbers stay inside the process (a message
// carries the Shared its numbers belong to, and a node of another Shared
// reads the IDs back from it). Shared also keeps PING, PONG and MEET messages the kernel has
// finished with (Recycle) for the next one a node builds. A Shared is not
// safe for concurrent use: one run, one goroutine.
type Shared struct {
	refs  map[ID]uint32
	ids   []ID // by number; ids[0] is ""
	addrs map[string]uint32
	addr  []string // by number; addr[0] is ""
	free  []*Message
	// freeRepl holds MsgReplData messages of one write each (propagate).
	freeRepl []*Message
}

// NewShared returns an empty Shared for one run.
func NewShared() *Shared {
	return &Shared{refs: map[ID]uint32{"": 0}, ids: []ID{""}, addrs: map[string]uint32{}, addr: []string{""}}
}

// ref is id's number (1, 2, …), assigned on first sight.
func (s *Shared) ref(id ID) uint32 {
	r, ok := s.refs[id]
	if !ok {
		r = uint32(len(s.ids))
		s.refs[id] = r
		s.ids = append(s.ids, id)
	}
	return r
}

// id is the ID numbered r.
func (s *Shared) id(r uint32) ID { return s.ids[r] }

// addrRef is the number of address a ("" is 0), assigned on first sight: a
// gossip entry carries a node's address as this number, so that building
// one reads nothing but the node's hot record.
func (s *Shared) addrRef(a string) uint32 {
	if a == "" {
		return 0
	}
	r, ok := s.addrs[a]
	if !ok {
		r = uint32(len(s.addr))
		s.addrs[a] = r
		s.addr = append(s.addr, a)
	}
	return r
}

// addrOf is the address numbered r.
func (s *Shared) addrOf(r uint32) string { return s.addr[r] }

// Recycle hands back a message the kernel has delivered or dropped, once
// for each receiver it was sent to. Only the PING, PONG and MEET messages
// and the one-write replication messages nodes build from the free lists
// are kept, once every receiver is done with them; anything else (and one
// that was lost on the way, so never handed back) is left to the collector.
func (s *Shared) Recycle(m *Message) {
	if s == nil || m == nil || m.holders <= 0 {
		return
	}
	if m.holders--; m.holders > 0 {
		return
	}
	if m.Type == MsgReplData {
		s.freeRepl = append(s.freeRepl, m)
		return
	}
	s.free = append(s.free, m)
}

// replData returns a replication message of one write, w, for receivers
// replicas (its Repl and Ops are the message's own, reused with it).
func (s *Shared) replData(w Write, receivers int) *Message {
	if s == nil || len(s.freeRepl) == 0 {
		// One allocation for the message, its payload and its one write.
		d := &struct {
			m Message
			r Repl
			w [1]Write
		}{w: [1]Write{w}}
		d.r.Ops = d.w[:]
		d.m = Message{Type: MsgReplData, Repl: &d.r}
		if s != nil {
			d.m.holders = int32(receivers)
		}
		return &d.m
	}
	m := s.freeRepl[len(s.freeRepl)-1]
	s.freeRepl = s.freeRepl[:len(s.freeRepl)-1]
	r, ops := m.Repl, m.Repl.Ops[:1]
	ops[0] = w
	*r = Repl{Ops: ops}
	*m = Message{Type: MsgReplData, Repl: r, holders: int32(receivers)}
	return m
}

// message returns an empty message, reusing a recycled one when it can.
func (s *Shared) message() *Message {
	if len(s.free) == 0 {
		return &Message{shared: s}
	}
	m := s.free[len(s.free)-1]
	s.free = s.free[:len(s.free)-1]
	g := m.gossip[:0]
	*m = Message{gossip: g, shared: s}
	return m
}
