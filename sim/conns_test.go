package sim

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/rcsim/rcsim/checker/history"
	"github.com/rcsim/rcsim/node"
	"github.com/rcsim/rcsim/node/trace"
	"github.com/rcsim/rcsim/scenarios"
)

// TestResetClosesClientConnections: a reset between a client and the
// masters tears down the client's connections like the nodes' (they were
// once left untouched): the fault counts them, and the client, answered
// with a reset on its next write, dials again and its operations succeed.
func TestResetClosesClientConnections(t *testing.T) {
	s := parse(t, `name: client-reset
description: test
duration: 10s
cluster: {masters: 3, replicas-per-master: 0}
workload: {kind: register, clients: 1, rate: 200/s, keys: 30}
faults:
  - at: 5s
    reset: {from: client-0, to: [m0, m1, m2]}
`)
	res, err := Run(s, Options{Seed: 1, KeepTrace: true})
	if err != nil {
		t.Fatal(err)
	}
	var fault string
	for _, e := range res.Trace {
		if e.Kind == trace.Fault && strings.HasPrefix(e.Value, "reset ") {
			fault = e.Value
		}
	}
	// By 5 s the client has a connection to each master.
	if !strings.HasSuffix(fault, "connections=3") {
		t.Errorf("reset fault %q, want it to close the client's 3 connections", fault)
	}
	w, err := newWorld(s, Options{Seed: 1, Until: s.Duration, MaxEvents: 1 << 30})
	if err != nil {
		t.Fatal(err)
	}
	w.runTo(5*time.Second + time.Millisecond)
	cs := w.clients[0]
	for i, c := range cs.conns {
		if c == nil || c.state != connClosed {
			t.Errorf("client-0's connection to %s after the reset: %+v, want closed", w.hosts[i].name, c)
		}
	}
	okAfter := 0
	for _, op := range res.History {
		if op.Invoke > 6*time.Second && op.Status == history.OK {
			okAfter++
		}
	}
	if okAfter == 0 {
		t.Error("no operation succeeded after the reset: the client did not reconnect")
	}
}

// TestClientConnectionsAreConns: every client connection is in the run's
// connection table, and a crash closes the ones to the crashed host as it
// closes the nodes' links.
func TestClientConnectionsAreConns(t *testing.T) {
	s := parse(t, `name: client-crash
description: test
duration: 10s
cluster: {masters: 3, replicas-per-master: 1}
workload: {kind: register, clients: 2, rate: 200/s, keys: 30}
faults:
  - at: 5s
    crash: m0
`)
	w, err := newWorld(s, Options{Seed: 1, Until: s.Duration, MaxEvents: 1 << 30})
	if err != nil {
		t.Fatal(err)
	}
	w.runTo(4 * time.Second)
	inTable := map[*conn]bool{}
	for _, c := range w.conns.all {
		inTable[c] = true
	}
	open := 0
	for _, cs := range w.clients {
		for i, c := range cs.conns {
			if c == nil || c.state != connOpen {
				continue
			}
			open++
			if !inTable[c] {
				t.Errorf("%s's connection to %s is not in the connection table", cs.name, w.hosts[i].name)
			}
		}
		if c := cs.conns[0]; c == nil || c.state != connOpen {
			t.Errorf("%s has no open connection to m0 before the crash", cs.name)
		}
	}
	if open == 0 {
		t.Fatal("no client connection open at 4s")
	}
	w.runTo(5*time.Second + time.Millisecond)
	for _, cs := range w.clients {
		if c := cs.conns[0]; c != nil && c.state != connClosed {
			t.Errorf("%s's connection to the crashed m0 is %d, want closed", cs.name, c.state)
		}
	}
}

// TestConnTableDialing: a bus connection is found by its number while it
// connects (among its dialer's dials in flight), once open (in the map) and
// not after it closes, whatever order its host's dials complete in; the
// young end's compaction keeps the others in creation order.
func TestConnTableDialing(t *testing.T) {
	var tb connTable
	id := func(host, k uint64) node.ConnID {
		return node.ConnID{Dialer: node.ID(fmt.Sprint("h", host)), N: host<<48 + k}
	}
	var cs []*conn
	for k := uint64(1); k <= 40; k++ {
		c := tb.newBus(id(k%3, k), int(k%3), 0)
		tb.add(c)
		cs = append(cs, c)
	}
	for i, c := range cs {
		switch i % 4 {
		case 0:
			tb.open(c)
		case 1:
			tb.remove(c)
		}
	}
	for i, c := range cs {
		got := tb.get(c.id)
		if want := i%4 != 1; (got == c) != want || (got != nil && got != c) {
			t.Fatalf("conn %d (state %d): get = %v, want found %v", i, c.state, got, want)
		}
	}
	for _, ds := range tb.dialing {
		for j, c := range ds {
			if c.state != connConnecting || int(c.slot) != j {
				t.Fatalf("dialing holds %v at %d (slot %d, state %d)", c.id, j, c.slot, c.state)
			}
		}
	}
	tb.compact(0)
	for i, c := range tb.all {
		if c.state == connClosed || (i > 0 && c.gen < tb.all[i-1].gen) {
			t.Fatalf("after compaction all[%d] is %v (state %d): closed or out of order", i, c.id, c.state)
		}
	}
	if len(tb.all) != tb.live || len(tb.free) != 10 {
		t.Fatalf("after compaction %d kept for %d live, %d free for 10 refused", len(tb.all), tb.live, len(tb.free))
	}
}

// refusalsEdge crashes two masters, then resets, pauses, slows and
// partitions around them while the survivors redial them every 100 ms:
// refusals are reset in flight and held by a paused or slow dialer.
const refusalsEdge = `name: refusals-edge
description: d
duration: 25s
cluster: {masters: 5, replicas-per-master: 1, config: {cluster-node-timeout: 2000}}
network: {latency: {dist: lognormal, median: 200us, p99: 30ms}}
workload: {kind: register, clients: 2, rate: 100/s, keys: 20, timeout: 1s}
faults:
  - {at: 5s, crash: {masters: 2}}
  - {at: 6s, slow: {node: m0r0, delay: 20ms}}
  - {at: 7s, pause: {replica_of: m1}, for: 3s}
  - {at: 8s, reset: {from: [m3, m4], to: rest}}
  - {at: 8500ms, reset: {from: rest, to: [m0, m2]}}
  - {at: 12s, partition: [[m3, m4r0], [rest]], for: 4s}
  - {at: 20s, reset: {from: m3, to: rest}}
`

// TestRefusalsUnobserved: a dial to a down process made a refusal (no conn
// in the table, see refusal) gives the same trace, the same number of
// events and the same generations as one made a conn, under resets, pauses
// and slow nodes as well as in a mass failure.
func TestRefusalsUnobserved(t *testing.T) {
	for _, s := range []*scenarios.Scenario{parse(t, refusalsEdge), builtin(t, "mass-failure-small"), builtin(t, "master-crash")} {
		for seed := uint64(1); seed <= 3; seed++ {
			var traces [2][]trace.Event
			var steps [2]int
			var gens [2]uint64
			fast := 0
			for i, conns := range []bool{false, true} {
				w := testWorld(t, s, seed)
				w.noRefusals = conns
				w.observe = func(ev *event) {
					if ev.kind == evLink && ev.conn == nil {
						fast++
					}
				}
				w.run()
				traces[i], steps[i], gens[i] = w.events, w.steps, w.conns.gen
			}
			if fast == 0 {
				t.Errorf("%s seed %d: no dial was a refusal", s.Name, seed)
			}
			if !reflect.DeepEqual(traces[0], traces[1]) || steps[0] != steps[1] || gens[0] != gens[1] {
				t.Errorf("%s seed %d: with refusals %d events, %d steps, generation %d; with conns only %d, %d, %d",
					s.Name, seed, len(traces[0]), steps[0], gens[0], len(traces[1]), steps[1], gens[1])
			}
		}
	}
}
