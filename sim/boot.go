package sim

// Building a run from its scenario: endpoints and their names, node IDs and
// the cluster as `redis-cli --cluster create` leaves it, the first cron
// ticks.

import (
	"fmt"
	"math/rand/v2"
	"strconv"

	"github.com/rcsim/rcsim/netmodel"
	"github.com/rcsim/rcsim/node"
	"github.com/rcsim/rcsim/node/trace"
	"github.com/rcsim/rcsim/scenarios"
	"github.com/rcsim/rcsim/scenarios/rng"
	"github.com/rcsim/rcsim/sim/admin"
)

func newWorld(s *scenarios.Scenario, opt Options) (*world, error) {
	w := &world{s: s, opt: opt, seed: opt.Seed, byID: map[node.ID]*host{}, sockBuf: s.Network.SocketBuffer,
		byAddr: map[string]int{}, names: map[string]int{}, shared: node.NewShared()}
	if w.sockBuf <= 0 {
		w.sockBuf = scenarios.DefaultSocketBuffer // a scenario built without Default
	}
	w.keepDisk = opt.Dump != nil || opt.handClient || mayRestart(s.Faults)
	w.tw = trace.NewWriter(opt.Trace)
	if opt.HashEvery > 0 && opt.HashOut != nil {
		w.tw.HashEvery(opt.HashEvery, opt.HashOut)
	}
	members := w.buildHosts()
	w.wakes = wakes{timers: &w.timers, base: len(w.hosts)}
	nClients := 0
	if s.Workload.Kind != "" && s.Workload.Kind != "none" {
		nClients = s.Workload.Clients
	}
	endpoints := len(w.hosts) + nClients
	seed := w.seed
	names := w.endpointNames(nClients)
	if len(s.Admin) > 0 {
		w.names[admin.Name] = endpoints
		names = append(names, admin.Name)
		endpoints++
	}
	if opt.handClient {
		w.names[HandClient] = endpoints
		names = append(names, HandClient)
		endpoints++
	}
	net, err := netmodel.New(netConfig(s.Network), endpoints, func(from, to int) rng.Stream {
		return rng.NewStream(seed, "net/"+names[from]+"->"+names[to])
	})
	if err != nil {
		return nil, fmt.Errorf("%s: network: %v", s.File, err)
	}
	w.net = net
	w.mss = mss(s.Network)
	if err := w.applyLinks(s.Network.Links); err != nil {
		return nil, fmt.Errorf("%s: network.links: %v", s.File, err)
	}
	w.cuts = make([]int, endpoints*endpoints)
	w.active = make([]activeFault, len(s.Faults))
	w.bootNodes(members)
	w.bootClients(nClients)
	w.bootAdmin()
	for i, at := range scenarios.FaultTimes(s.Faults, rng.Derive(w.seed, "fault-offsets")) {
		w.q.push(event{at: at, kind: evFault, num: i})
	}
	for _, at := range opt.DumpAt {
		w.q.push(event{at: at, kind: evDump})
	}
	return w, nil
}

func (w *world) endpointNames(nClients int) []string {
	names := make([]string, 0, len(w.hosts)+nClients)
	for _, h := range w.hosts {
		names = append(names, h.name)
	}
	for i := 0; i < nClients; i++ {
		names = append(names, "client-"+strconv.Itoa(i))
	}
	for i, n := range names {
		w.names[n] = i
	}
	return names
}

// buildHosts lays the cluster out as `redis-cli --cluster create
// --cluster-replicas R` does: masters take even slot ranges in order, every
// node gets a distinct configEpoch (CLUSTER SET-CONFIG-EPOCH 1..N) and IDs are
// 40 hex characters drawn from the run's "ids" stream.
func (w *world) buildHosts() []node.Member {
	c := w.s.Cluster
	ids := rng.Derive(w.seed, "ids")
	names := c.NodeNames()
	members := make([]node.Member, len(names)-c.Spares)
	for i, name := range names {
		h := &host{name: name, idx: i, id: randomID(ids), addr: "127.0.0.1:" + strconv.Itoa(30001+i)}
		h.cfg = nodeConfig(c.Config, h.addr, w.s)
		h.cfg.Shared = w.shared
		h.cfg.ConnSpace = uint64(i) // ConnID.N names a connection: the conns table's key
		w.hosts = append(w.hosts, h)
		w.byID[h.id] = h
		w.byAddr[h.addr] = i
		if i < len(members) {
			members[i] = node.Member{ID: h.id, Addr: h.addr, ConfigEpoch: uint64(i + 1)}
		}
	}
	if !c.Formed {
		return nil // every node boots alone; a create step forms the cluster
	}
	for m := 0; m < c.Masters; m++ {
		lo, hi := admin.CreateSlots(m, c.Masters)
		members[m].Slots = []node.SlotRange{{Start: lo, End: hi}}
		for r := 0; r < c.ReplicasPerMaster; r++ {
			members[c.Masters+m*c.ReplicasPerMaster+r].Master = members[m].ID
		}
	}
	return members
}

func randomID(r *rand.Rand) node.ID {
	const hex = "0123456789abcdef"
	var b [40]byte
	for i := range b {
		b[i] = hex[r.IntN(16)]
	}
	return node.ID(b[:])
}

func (w *world) bootNodes(members []node.Member) {
	for i, h := range w.hosts {
		h.up = true
		if i >= len(members) {
			// A spare, or any node of a cluster not formed yet: a fresh
			// node that knows only itself (configEpoch 0).
			alone := []node.Member{{ID: h.id, Addr: h.addr}}
			w.startCron(h, true)
			h.n = node.New(h.cfg, h.id, alone, rng.Source(w.seed, "node/"+h.name))
			w.emit(trace.Event{Node: h.name, Kind: trace.Boot, Value: "alone"})
			continue
		}
		w.startCron(h, true)
		h.n = node.New(h.cfg, h.id, members, rng.Source(w.seed, "node/"+h.name))
		e := trace.Event{Node: h.name, Kind: trace.Boot, Value: bootValue(members[i]), Peer: w.nameOf(members[i].Master),
			Epoch: members[i].ConfigEpoch}
		if members[i].Master == "" {
			e.Detail = &trace.Detail{Slots: members[i].Slots}
		}
		w.emit(e)
	}
}

func bootValue(m node.Member) string {
	if m.Master != "" {
		return "replica"
	}
	return "master " + trace.FormatRanges(m.Slots, ",")
}

// mayRestart is whether faults can start a crashed node again, which reads
// its nodes.conf: a restart step, or a crash that ends (by for:, an end
// step, or anything else that ends faults). A Manual world can add any
// fault later, so it always keeps the disk.
func mayRestart(faults []scenarios.Fault) bool {
	for _, f := range faults {
		switch {
		case f.Kind == scenarios.Restart, f.Kind == scenarios.End:
			return true
		case f.Kind == scenarios.Crash && f.For > 0:
			return true
		}
	}
	return false
}
