package sim

import (
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/rcsim/rcsim/checker/history"
	"github.com/rcsim/rcsim/node"
	"github.com/rcsim/rcsim/node/trace"
	"github.com/rcsim/rcsim/scenarios"
	"github.com/rcsim/rcsim/sim/admin"
)

// runBuiltin runs a built-in scenario to its end at seed and returns the
// world, with the trace kept.
func runBuiltin(t *testing.T, name string, seed uint64) *world {
	t.Helper()
	s, err := scenarios.Builtin(name)
	if err != nil {
		t.Fatal(err)
	}
	w := testWorld(t, s, seed)
	w.keepDisk = true // the tests read nodes.conf as a dump would
	w.run()
	return w
}

// host is the node host named name.
func (w *world) host(name string) *host { return w.hosts[w.names[name]] }

// adminOutcomes lists the admin trace values in order.
func adminOutcomes(w *world) []string {
	var out []string
	for _, e := range w.events {
		if e.Kind == trace.Admin {
			out = append(out, e.Value)
		}
	}
	return out
}

// TestReshardUnderLoadKeepsAcknowledgedWrites: after 2000 slots moved under
// load, every key that had an acknowledged write is readable on its slot's
// owner, with the value of a write nothing acknowledged came strictly after.
// (The cmd/rcsim test runs the same scenario through the checker:
// linearizable, no lost write.)
func TestReshardUnderLoadKeepsAcknowledgedWrites(t *testing.T) {
	w := runBuiltin(t, "reshard-under-load", 7)
	if got := adminOutcomes(w); len(got) != 2 || !strings.HasSuffix(got[1], ": ok") {
		t.Fatalf("admin steps %q, want the reshard to finish ok", got)
	}
	moved := 0
	for _, e := range w.events {
		if e.Kind == trace.Migrate {
			moved++
		}
	}
	if moved == 0 {
		t.Fatalf("no MIGRATE carried keys: the test moves no data")
	}
	writes := map[string][]history.Op{}
	for _, op := range w.ops {
		if op.Kind == "set" && op.Status != history.Fail {
			writes[op.Key] = append(writes[op.Key], op)
		}
	}
	for key, ws := range writes {
		h := w.ownerOf(node.KeySlot(key))
		got, ok := h.n.Get(key)
		if !ok {
			t.Errorf("%s (slot %d): acknowledged writes but missing on owner %s", key, node.KeySlot(key), h.name)
			continue
		}
		if !notSuperseded(ws, got) {
			t.Errorf("%s on %s = %q: not the value of any write that could be last", key, h.name, got)
		}
	}
}

// notSuperseded reports whether v is the value of a write in ws that no
// acknowledged write began after it returned.
func notSuperseded(ws []history.Op, v string) bool {
	for _, a := range ws {
		if a.Value != v {
			continue
		}
		last := true
		for _, b := range ws {
			if b.Status == history.OK && a.Status == history.OK && b.Invoke > a.Return {
				last = false
			}
		}
		if last {
			return true
		}
	}
	return false
}

// TestSourceCrashLeavesSlotOpen: a reshard whose source crashes after
// MIGRATE stops at the refused connection; the target keeps the slot
// IMPORTING (in CLUSTER NODES, in nodes.conf and in the run's OpenSlots)
// with the moved key, and keeps the dead source as its owner, so its
// cluster_state stays fail; the promoted replica serves the slot without the
// key.
func TestSourceCrashLeavesSlotOpen(t *testing.T) {
	w := runBuiltin(t, "reshard-source-crash", 7)
	got := adminOutcomes(w)
	if len(got) != 4 || !strings.Contains(got[3], "failed") || !strings.Contains(got[3], "ECONNREFUSED") {
		t.Fatalf("admin steps %q, want the second reshard to fail on a refused connection", got)
	}
	if _, ok := w.host("m1").n.Get("k78"); !ok {
		t.Errorf("m1 lacks k78, moved by MIGRATE before the crash")
	}
	if w.host("m0r0").n.View().Master != "" {
		t.Errorf("m0r0 not promoted")
	}
	nilRead := false
	for _, op := range w.ops {
		nilRead = nilRead || (op.Key == "k78" && op.Node == "m0r0" && op.Kind == "get" && op.Status == history.OK && op.Nil)
	}
	if !nilRead {
		t.Errorf("no read of k78 on the promoted m0r0 returned nil: the moved key's loss is not shown")
	}
	res := w.result()
	if len(res.OpenSlots) != 1 || !regexp.MustCompile(`^m1: \d+ importing from m0$`).MatchString(res.OpenSlots[0]) {
		t.Fatalf("open slots %q, want one slot importing on m1 from m0", res.OpenSlots)
	}
	m0, m1 := w.host("m0"), w.host("m1")
	marker := regexp.MustCompile(`\[\d+-<-` + string(m0.id) + `\]`)
	for what, text := range map[string]string{"CLUSTER NODES": m1.n.ClusterNodes(), "nodes.conf": m1.disk.Text()} {
		if !marker.MatchString(text) {
			t.Errorf("m1 %s lacks the importing marker:\n%s", what, text)
		}
	}
	if m1.n.StateOK() {
		t.Errorf("m1 cluster_state ok: want fail, the importing slot still bound to the dead m0")
	}
}

// TestAdminStepsRunInOrder: add_node joins a spare as a replica, failover
// promotes it, and the old master follows it.
func TestAdminStepsRunInOrder(t *testing.T) {
	w := runBuiltin(t, "add-replica-failover", 7)
	got := adminOutcomes(w)
	want := []string{"add_node s0 replica of m0: start", "add_node s0 replica of m0: ok", "failover s0: start", "failover s0: ok"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("admin steps %q, want %q", got, want)
	}
	s0, m0 := w.host("s0"), w.host("m0")
	if v := s0.n.View(); v.Master != "" || len(v.Slots) == 0 {
		t.Errorf("s0 master %q slots %v: want a master with m0's slots", v.Master, v.Slots)
	}
	if v := m0.n.View(); v.Master != s0.id {
		t.Errorf("m0 replicates %q, want s0", v.Master)
	}
}

// TestRebalanceByWeight: a weight of 11 against 10 moves the difference to
// m0 (clusterManagerCommandRebalance), and every node ends up agreeing.
func TestRebalanceByWeight(t *testing.T) {
	s := parse(t, `name: rb
description: d
duration: 20s
cluster: {masters: 2, replicas-per-master: 0}
admin:
  - at: 3s
    rebalance: {weights: {m0: 11, m1: 10}}
`)
	w := testWorld(t, s, 3)
	w.run()
	if got := adminOutcomes(w); len(got) != 2 || !strings.HasSuffix(got[1], ": ok") {
		t.Fatalf("admin steps %q", got)
	}
	want := node.NumSlots * 11 / 21
	for _, name := range []string{"m0", "m1"} {
		owned := 0
		for _, r := range w.host(name).n.View().Peers {
			if r.ID == w.host("m0").id {
				owned = slotCount(r.Slots)
			}
		}
		if name == "m0" {
			owned = slotCount(w.host("m0").n.View().Slots)
		}
		if owned < want-1 || owned > want+1 {
			t.Errorf("%s sees m0 with %d slots, want %d±1", name, owned, want)
		}
	}
}

func slotCount(rs []node.SlotRange) int {
	n := 0
	for _, r := range rs {
		n += r.End - r.Start + 1
	}
	return n
}

// TestCreateFromUnjoinedNodes: the create step leaves the cluster as the
// formed start does: same slots, roles and configEpochs 1..N on every node.
func TestCreateFromUnjoinedNodes(t *testing.T) {
	w := runBuiltin(t, "create-cluster", 7)
	if got := adminOutcomes(w); len(got) != 2 || got[1] != "create: ok" {
		t.Fatalf("admin steps %q", got)
	}
	for i, h := range w.hosts {
		v := h.n.View()
		if !v.StateOK || len(v.Peers) != len(w.hosts)-1 {
			t.Errorf("%s: state ok %v, knows %d peers", h.name, v.StateOK, len(v.Peers))
		}
		if i < 3 {
			lo, hi := admin.CreateSlots(i, 3)
			if v.ConfigEpoch != uint64(i+1) || len(v.Slots) != 1 || v.Slots[0] != (node.SlotRange{Start: lo, End: hi}) {
				t.Errorf("%s: epoch %d slots %v, want %d and %d-%d", h.name, v.ConfigEpoch, v.Slots, i+1, lo, hi)
			}
		} else if want := w.hosts[i-3].id; v.Master != want {
			t.Errorf("%s replicates %s, want %s", h.name, v.Master, want)
		}
	}
}

// TestPartitionEndRejoinsAdmin: a partition ended by its `for` rejoins
// every endpoint, the admin client included (it was left alone in a group
// of its own until a heal), so a later admin step reaches the cluster.
func TestPartitionEndRejoinsAdmin(t *testing.T) {
	s := parse(t, `name: admin-partition-for
description: test
duration: 20s
cluster: {masters: 3, replicas-per-master: 1}
admin:
  - at: 6s
    failover: {node: m0r0}
faults:
  - at: 2s
    partition: [[admin], [rest]]
    for: 2s
`)
	w := testWorld(t, s, 1)
	w.runTo(4*time.Second + time.Millisecond)
	a := w.names[admin.Name]
	for _, h := range w.hosts {
		if !w.net.Reachable(a, h.idx) || !w.net.Reachable(h.idx, a) {
			t.Errorf("admin and %s cannot reach each other after the partition ended", h.name)
		}
	}
	w.runTo(s.Duration)
	if got := adminOutcomes(w); len(got) != 2 || !strings.HasSuffix(got[1], ": ok") {
		t.Fatalf("admin steps %q, want the failover to end ok", got)
	}
}

// TestDiskCopiesUnobserved: a run that skips the nodes.conf copies (nothing
// restarts a node, no dump) gives the same trace as one that makes them,
// and the scenarios that can restart keep them.
func TestDiskCopiesUnobserved(t *testing.T) {
	for _, name := range []string{"mass-failure-small", "multi-primary-crash"} {
		s, err := scenarios.Builtin(name)
		if err != nil {
			t.Fatal(err)
		}
		var traces [2][]trace.Event
		for i, keep := range []bool{false, true} {
			w := testWorld(t, s, 5)
			if w.keepDisk {
				t.Fatalf("%s: keepDisk set, but nothing in it restarts a node", name)
			}
			w.keepDisk = keep
			w.run()
			traces[i] = w.events
		}
		if len(traces[0]) == 0 || !reflect.DeepEqual(traces[0], traces[1]) {
			t.Errorf("%s: the trace without nodes.conf copies (%d events) differs from the one with them (%d)", name, len(traces[0]), len(traces[1]))
		}
	}
	if w := testWorld(t, parse(t, `name: crash-for
description: d
cluster: {masters: 3, replicas-per-master: 1}
duration: 5s
faults: [{at: 1s, crash: m0, for: 1s}]
`), 1); !w.keepDisk {
		t.Errorf("a crash with for: does not keep nodes.conf")
	}
}
