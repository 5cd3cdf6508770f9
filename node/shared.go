// What the nodes of one run share inside the simulator and never put on the
// wire: small numbers for node IDs and a free list of bus messages. Redis has
// no counterpart; both exist so that a 2,000-node cluster, whose PINGs carry
// 200 gossip entries each, runs in minutes.

package node

// Shared is handed to every node of one run through Config.Shared. It numbers
// the node IDs the nodes learn (in the order they are first seen, so a run
// numbers them the same way every time), so that a gossip entry or a header
// names its node by a number the receiver turns into its own peer with a
// slice index instead of hashing a 40-character ID. The IDs still travel in
// every message and appear in every output; the numbers stay inside the
// process. Shared also keeps PING, PONG and MEET messages the kernel has
// finished with (Recycle) for the next one a node builds. A Shared is not
// safe for concurrent use: one run, one goroutine.
type Shared struct {
	refs     map[ID]uint32
	free     []*Message
	freeRepl []*Message // MsgReplData messages of one write each (propagate)
}

// NewShared returns an empty Shared for one run.
func NewShared() *Shared { return &Shared{refs: map[ID]uint32{}} }

// ref is id's number (1, 2, …), assigned on first sight; 0 without a Shared.
func (s *Shared) ref(id ID) uint32 {
	if s == nil {
		return 0
	}
	r, ok := s.refs[id]
	if !ok {
		r = uint32(len(s.refs) + 1)
		s.refs[id] = r
	}
	return r
}

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
	if s == nil || len(s.free) == 0 {
		return &Message{}
	}
	m := s.free[len(s.free)-1]
	s.free = s.free[:len(s.free)-1]
	g := m.Gossip[:0]
	*m = Message{Gossip: g}
	return m
}
