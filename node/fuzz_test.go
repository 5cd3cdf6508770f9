package node

import (
	"math/rand/v2"
	"testing"
	"time"
)

// msgFromBytes decodes fuzz input into a bus or replication message from
// one of the known nodes (or a stranger).
func msgFromBytes(b []byte) (ConnID, *Message) {
	next := func() byte {
		if len(b) == 0 {
			return 0
		}
		x := b[0]
		b = b[1:]
		return x
	}
	id := func() ID {
		x := int(next() % 8)
		if x == 7 {
			return "ffff"
		}
		return tid(x)
	}
	m := &Message{Type: MsgType(next() % 14)}
	h := &m.Header
	h.Sender = id()
	h.CurrentEpoch = uint64(next() % 12)
	h.ConfigEpoch = uint64(next() % 12)
	h.Offset = int64(next())
	if next()%2 == 0 {
		h.SlaveOf = id()
	}
	h.Flags = Flags(next()) | Flags(next())<<8
	h.MFlags = MFlags(next() % 4)
	if next()%3 != 0 {
		s := new(SlotSet)
		lo := int(next()) * 64
		hi := lo + int(next())*64
		for i := lo; i < hi && i < NumSlots; i++ {
			s.Add(i)
		}
		h.MySlots = s
	}
	for k := int(next() % 4); k > 0; k-- {
		g := Gossip{ID: id()}
		_ = next() // was ping_sent, which no receiver reads: the corpus keeps its meaning
		g.PongReceived, g.Flags = uint32(next()), Flags(next())
		m.AddGossip(g)
	}
	m.About = id()
	if next()%2 == 0 {
		m.Update = &Update{ConfigEpoch: uint64(next() % 12), Node: id(), Slots: h.MySlots}
	}
	if next()%2 == 0 {
		m.Repl = &Repl{Offset: int64(next()), Full: next()%2 == 0, GetAck: next()%2 == 0,
			Ops: []Write{{Op: Op(next()%4 + 2), Key: "k", Value: "1"}}}
	}
	conn := ConnID{Dialer: h.Sender, Peer: "", N: uint64(next()), Repl: m.Type >= MsgReplSync}
	return conn, m
}

// FuzzStep feeds arbitrary messages to nodes in various states and asserts
// that nothing panics.
func FuzzStep(f *testing.F) {
	f.Add([]byte{0, 1, 3, 3, 0, 1, 1, 0, 2, 0, 1})
	f.Add([]byte{5, 4, 8, 1, 0, 0, 2, 0, 1, 0, 0, 1, 1})
	f.Add([]byte{7, 2, 9, 9, 0, 1, 1, 0, 2, 0, 3, 3, 3})
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, self := range []ID{tid(1), tid(4)} {
			n := New(testCfg(), self, members(), rand.NewPCG(1, 2))
			o := &Output{}
			now := time.Duration(0)
			for len(data) > 0 {
				k := int(data[0]) % 24
				chunk := data[:min(k+1, len(data))]
				data = data[len(chunk):]
				conn, m := msgFromBytes(chunk)
				conn.Peer = self
				if k%5 == 0 {
					conn = ConnID{Dialer: self, Peer: m.Header.Sender, N: 1}
				}
				now += time.Duration(k) * 100 * time.Millisecond
				o.Reset()
				n.Tick(now, o)
				o.Reset()
				n.Step(now, conn, m, o)
				o.Reset()
				n.Command(now, 1, Cmd{Op: OpSet, Key: "k", Value: "v"}, o)
			}
			_ = n.View()
			_ = n.Disk()
			_ = n.ClusterNodes()
		}
	})
}
