package node

import (
	"math/rand/v2"
	"testing"
	"time"
)

// FuzzStepAnyState widens FuzzStep: any of the six nodes, driven by an
// interleaving of ticks, messages of any type byte (unknown ones included),
// client commands (CLUSTER FAILOVER in its three forms included) and
// restarts from the node's own nodes.conf, so that messages reach nodes in
// whatever state that sequence leaves them: PFAIL/FAIL peers, elections,
// manual failovers, promoted replicas, restarted nodes. Nothing may panic.
func FuzzStepAnyState(f *testing.F) {
	f.Add([]byte{3, 0, 9, 1, 0, 1, 3, 3, 0, 1, 1, 0, 2, 0, 1, 2, 8, 1, 4, 3, 0})
	f.Add([]byte{4, 2, 9, 0, 0, 50, 1, 5, 4, 8, 1, 0, 0, 2, 0, 1, 0, 0, 1, 1, 3})
	f.Add([]byte{1, 1, 200, 7, 2, 9, 9, 0, 1, 1, 0, 2, 0, 3, 3, 3, 0, 255, 3, 1})
	f.Fuzz(func(t *testing.T, data []byte) { runAny(data) })
}

// runAny drives one node as data says (see FuzzStepAnyState).
func runAny(data []byte) {
	{
		if len(data) == 0 {
			return
		}
		self := tid(int(data[0])%6 + 1)
		data = data[1:]
		cfg := testCfg()
		n := New(cfg, self, members(), rand.NewPCG(1, 2))
		o := &Output{}
		now := time.Duration(0)
		restarts := uint64(0)
		for len(data) > 0 {
			op, arg := data[0]%5, data[min(1, len(data)-1)]
			data = data[min(2, len(data)):]
			o.Reset()
			switch op {
			case 0: // time passes: up to 2.55 node timeouts
				now += time.Duration(arg) * cfg.NodeTimeout / 100
				n.Tick(now, o)
			case 1: // a message, its type any byte
				k := int(arg) % 24
				chunk := data[:min(k+1, len(data))]
				data = data[len(chunk):]
				conn, m := msgFromBytes(chunk)
				conn.Peer = self
				if len(chunk) > 0 && chunk[0]%3 == 0 {
					m.Type = MsgType(arg) // possibly a type Redis does not know
				}
				n.Step(now, conn, m, o)
			case 2: // a client command, any op
				forms := []string{"", "FORCE", "TAKEOVER"}
				n.Command(now, ClientID(arg%4), Cmd{Seq: uint64(arg), Op: Op(arg % 11), Key: "k",
					Value: forms[int(arg)%3], Replicas: int(arg % 3), Timeout: time.Second}, o)
			case 3: // the process restarts from what nodes.conf kept
				restarts++
				c := cfg
				c.Incarnation = restarts
				if r, err := Restore(c, n.Disk(), rand.NewPCG(restarts, 2)); err == nil {
					n = r
				}
			case 4:
				_ = n.View()
				_ = n.ClusterNodes()
			}
		}
	}
}
