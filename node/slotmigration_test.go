package node

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
)

// Rules of slot migration, each case naming the Redis 7.0 function
// (src/cluster.c) it mirrors. members(): masters …01 (slots 0-5460),
// …02 (5461-10921), …03 (10922-16383); replicas …04-…06.

// cluster runs CLUSTER line on n at time 1s and returns the reply.
func cluster(n *Node, line string) Reply {
	var r Reply
	n.at(testT, func() { r = n.clusterCommand(line) })
	return r
}

// keyIn returns a key that hashes to slot.
func keyIn(slot int) string { return keysIn(slot, 1)[0] }

// keysIn returns n distinct keys that hash to slot.
func keysIn(slot, n int) []string {
	var ks []string
	for i := 0; len(ks) < n; i++ {
		if k := fmt.Sprintf("k%d", i); KeySlot(k) == slot {
			ks = append(ks, k)
		}
	}
	return ks
}

// TestOpenSlotRoute is the open-slot part of getNodeByQuery.
func TestOpenSlotRoute(t *testing.T) {
	for _, tc := range []struct {
		name string
		q    openSlotQuery
		want routeVerdict
	}{
		{"stable slot: ordinary rules", openSlotQuery{owned: true}, routeOn},
		{"migrating owner has the key: serve normally", openSlotQuery{owned: true, migrating: true, existing: 1}, routeOn},
		{"migrating owner lacks the key: ASK", openSlotQuery{owned: true, migrating: true, missing: 1}, routeAsk},
		{"migrating owner has some keys: TRYAGAIN", openSlotQuery{owned: true, migrating: true, missing: 1, existing: 2, multiKeys: true}, routeTryAgain},
		{"migrating marker on a non-owner is ignored", openSlotQuery{migrating: true, missing: 1}, routeOn},
		{"MIGRATE runs locally on an open slot", openSlotQuery{owned: true, migrating: true, missing: 1, isMigrate: true}, routeServe},
		{"MIGRATE on an importing slot runs locally", openSlotQuery{importing: true, missing: 1, isMigrate: true}, routeServe},
		{"importing without ASKING: ordinary rules (MOVED)", openSlotQuery{importing: true, missing: 1}, routeOn},
		{"importing with ASKING: serve a missing key", openSlotQuery{importing: true, asking: true, missing: 1}, routeServe},
		{"importing with ASKING, multi-key, some missing: TRYAGAIN", openSlotQuery{importing: true, asking: true, multiKeys: true, missing: 1, existing: 1}, routeTryAgain},
		{"importing with ASKING, multi-key, all present: serve", openSlotQuery{importing: true, asking: true, multiKeys: true, existing: 2}, routeServe},
		{"owner both migrating and importing: migrating wins", openSlotQuery{owned: true, migrating: true, importing: true, asking: true, missing: 1}, routeAsk},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := openSlotRoute(tc.q); got != tc.want {
				t.Errorf("openSlotRoute(%+v) = %d, want %d", tc.q, got, tc.want)
			}
		})
	}
}

// TestSetSlotErrors checks the refusals of clusterCommand's setslot branch.
func TestSetSlotErrors(t *testing.T) {
	for _, tc := range []struct {
		name, self, line, want string
	}{
		{"a replica refuses", "4", "SETSLOT 0 STABLE", "ERR Please use SETSLOT only with masters."},
		{"slot out of range", "1", "SETSLOT 16384 STABLE", "ERR Invalid or out of range slot"},
		{"migrating a slot I do not own", "1", "SETSLOT 6000 MIGRATING " + string(tid(2)), "ERR I'm not the owner of hash slot 6000"},
		{"migrating to an unknown node", "1", "SETSLOT 0 MIGRATING " + string(tid(9)), "ERR I don't know about node " + string(tid(9))},
		{"migrating to a replica", "1", "SETSLOT 0 MIGRATING " + string(tid(5)), "ERR Target node is not a master"},
		{"importing a slot I own", "1", "SETSLOT 0 IMPORTING " + string(tid(2)), "ERR I'm already the owner of hash slot 0"},
		{"node: unknown node", "1", "SETSLOT 0 NODE " + string(tid(9)), "ERR Unknown node " + string(tid(9))},
		{"bad action", "1", "SETSLOT 0 LIMBO", "ERR Invalid CLUSTER SETSLOT action or number of arguments. Try CLUSTER HELP"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			self := map[string]ID{"1": tid(1), "4": tid(4)}[tc.self]
			n := mk(t, testCfg(), self)
			if r := cluster(n, tc.line); r.Err != tc.want {
				t.Errorf("%s: got %q, want %q", tc.line, r.Err, tc.want)
			}
		})
	}
}

// TestSetSlotNodeRefusesWhileKeysRemain: the owner cannot give a slot away
// while it holds keys of it (setslot NODE, countKeysInSlot).
func TestSetSlotNodeRefusesWhileKeysRemain(t *testing.T) {
	n := mk(t, testCfg(), tid(1))
	k := keyIn(100)
	n.db.apply(Write{Op: OpSet, Key: k, Value: "v"})
	r := cluster(n, "SETSLOT 100 NODE "+string(tid(2)))
	want := "ERR Can't assign hashslot 100 to a different node while I still hold keys for this hash slot."
	if r.Err != want {
		t.Fatalf("got %q, want %q", r.Err, want)
	}
	n.db.apply(Write{Op: OpDel, Key: k})
	if r := cluster(n, "SETSLOT 100 MIGRATING "+string(tid(2))); r.Kind != ReplyOK {
		t.Fatalf("MIGRATING: %v", r.Err)
	}
	if r := cluster(n, "SETSLOT 100 NODE "+string(tid(2))); r.Kind != ReplyOK {
		t.Fatalf("NODE without keys: %v", r.Err)
	}
	if n.slots.owner(100) != n.byID[tid(2)] || n.migratingTo(100) != nil {
		t.Errorf("slot 100 owner %v migrating %v: want …02 and the marker dropped", n.slots.owner(100).id, n.migratingTo(100))
	}
}

// TestSetSlotNodeOnImporterBumpsEpoch: closing an import on myself bumps my
// configEpoch without consensus and broadcasts a PONG
// (clusterBumpConfigEpochWithoutConsensus, clusterBroadcastPong).
func TestSetSlotNodeOnImporterBumpsEpoch(t *testing.T) {
	n := mk(t, testCfg(), tid(2))
	for _, p := range n.nodes {
		if p != n.myself {
			p.link = &link{connected: true}
		}
	}
	cluster(n, "SETSLOT 100 IMPORTING "+string(tid(1)))
	out := n.at(testT, func() { n.clusterCommand("SETSLOT 100 NODE " + string(tid(2))) })
	if n.myself.configEpoch != 7 || n.currentEpoch != 7 {
		t.Errorf("configEpoch %d currentEpoch %d, want 7 and 7 (max epoch 6, plus one)", n.myself.configEpoch, n.currentEpoch)
	}
	if n.importingFrom(100) != nil || n.slots.owner(100) != n.myself {
		t.Errorf("slot 100 still importing or not mine")
	}
	pongs := 0
	for _, e := range out.Msgs {
		if e.Msg.Type == MsgPong {
			pongs++
		}
	}
	if pongs != len(n.nodes)-1 || !out.Save {
		t.Errorf("%d PONGs, save %v: want one to every other node and a save", pongs, out.Save)
	}
	// A second close without a marker bumps nothing.
	cluster(n, "SETSLOT 101 NODE "+string(tid(2)))
	if n.myself.configEpoch != 7 {
		t.Errorf("configEpoch %d after a SETSLOT NODE without import, want 7", n.myself.configEpoch)
	}
}

// TestSetSlotNodeLastSlotMakesReplica: a master that gives away its last
// slot becomes a replica of the new owner (setslot NODE with
// cluster-allow-replica-migration).
func TestSetSlotNodeLastSlotMakesReplica(t *testing.T) {
	cfg := testCfg()
	n := mk(t, cfg, tid(1))
	for s := 1; s <= 5460; s++ {
		n.delSlot(s)
		n.addSlot(n.byID[tid(2)], s)
	}
	cluster(n, "SETSLOT 0 NODE "+string(tid(2)))
	if n.myself.master != n.byID[tid(2)] || !n.myself.is(FlagSlave) {
		t.Errorf("after giving away slot 0: master %v slave %v, want a replica of …02", n.myself.master, n.myself.is(FlagSlave))
	}
	if r := cluster(n, "SETSLOT 0 NODE "+string(tid(2))); r.Err != "ERR Please use SETSLOT only with masters." {
		t.Errorf("redis-cli's second SETSLOT NODE to the old source: %q", r.Err)
	}
}

// TestUpdateSlotsSkipsImporting: a claim for a slot I am importing is not
// applied (clusterUpdateSlotsConfigWith: "only redis-cli closes it").
func TestUpdateSlotsSkipsImporting(t *testing.T) {
	n := mk(t, testCfg(), tid(2))
	cluster(n, "SETSLOT 100 IMPORTING "+string(tid(1)))
	third := n.byID[tid(3)]
	n.at(testT, func() { n.updateSlotsConfigWith(third, 99, SlotSetOf([]SlotRange{{Start: 100, End: 101}})) })
	if n.slots.owner(100) != n.byID[tid(1)] {
		t.Errorf("importing slot 100 rebound to %s", n.slots.owner(100).id)
	}
	if n.slots.owner(101) != third {
		t.Errorf("stable slot 101 not rebound to the higher epoch")
	}
}

// TestMarkersInClusterNodes: the myself line ends with [slot->-id] for a
// migrating slot and [slot-<-id] for an importing one
// (clusterGenNodeDescription); nodes.conf carries them and Restore reads
// them back (clusterLoadConfig).
func TestMarkersInClusterNodes(t *testing.T) {
	n := mk(t, testCfg(), tid(1))
	cluster(n, "SETSLOT 7 MIGRATING "+string(tid(2)))
	cluster(n, "SETSLOT 6000 IMPORTING "+string(tid(3)))
	want := " 0-5460 [7->-" + string(tid(2)) + "] [6000-<-" + string(tid(3)) + "]"
	for what, text := range map[string]string{"CLUSTER NODES": n.ClusterNodes(), "nodes.conf": n.Disk().Text()} {
		var mine string
		for _, l := range strings.Split(text, "\n") {
			if strings.Contains(l, "myself") {
				mine = l
			}
		}
		if !strings.HasSuffix(mine, want) {
			t.Errorf("%s myself line %q, want it to end %q", what, mine, want)
		}
		if strings.Count(text, "->-")+strings.Count(text, "-<-") != 2 {
			t.Errorf("%s: markers on other lines:\n%s", what, text)
		}
	}
	r, err := Restore(testCfg(), n.Disk(), rand.NewPCG(9, 9))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := r.OpenSlots(), n.OpenSlots(); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("restored open slots %v, want %v", got, want)
	}
	cluster(n, "SETSLOT 7 STABLE")
	if len(n.OpenSlots()) != 1 {
		t.Errorf("STABLE left %v", n.OpenSlots())
	}
}

// TestForgetClearsMarkers: deleting a node clears the markers naming it
// (clusterDelNode step 1).
func TestForgetClearsMarkers(t *testing.T) {
	n := mk(t, testCfg(), tid(1))
	cluster(n, "SETSLOT 7 MIGRATING "+string(tid(3)))
	n.at(testT, func() { n.delNode(n.byID[tid(3)], "test") })
	if len(n.OpenSlots()) != 0 {
		t.Errorf("markers after deleting the target: %v", n.OpenSlots())
	}
}

// TestGetKeysInSlot covers CLUSTER GETKEYSINSLOT and COUNTKEYSINSLOT.
func TestGetKeysInSlot(t *testing.T) {
	n := mk(t, testCfg(), tid(1))
	var keys []string
	for i := 0; len(keys) < 3; i++ {
		k := fmt.Sprintf("{t}%d", i)
		keys = append(keys, k)
		n.db.apply(Write{Op: OpSet, Key: k, Value: "v"})
	}
	slot := KeySlot("{t}")
	if r := cluster(n, fmt.Sprintf("COUNTKEYSINSLOT %d", slot)); r.Int != 3 {
		t.Errorf("COUNTKEYSINSLOT = %d, want 3", r.Int)
	}
	if r := cluster(n, fmt.Sprintf("GETKEYSINSLOT %d 2", slot)); len(r.List) != 2 {
		t.Errorf("GETKEYSINSLOT count 2 = %v", r.List)
	}
	if r := cluster(n, fmt.Sprintf("GETKEYSINSLOT %d -1", slot)); r.Err != "ERR Invalid slot or number of keys" {
		t.Errorf("negative count: %q", r.Err)
	}
	if r := cluster(n, "COUNTKEYSINSLOT 16384"); r.Err != "ERR Invalid slot" {
		t.Errorf("slot out of range: %q", r.Err)
	}
}

// command runs one client command on n and returns its replies and output.
func command(n *Node, cmd Cmd) *Output {
	out := &Output{}
	n.Command(testT, 1, cmd, out)
	return out
}

// TestMigrateMovesKeysAndAsk walks one slot through a migration: ASK for a
// key already moved, ASKING served by the importer, MOVED without ASKING,
// keys deleted on the source only for RESTOREs the target acknowledged, and
// BUSYKEY for a key the target already has (migrateCommand, restoreCommand,
// getNodeByQuery).
func TestMigrateMovesKeysAndAsk(t *testing.T) {
	src, dst := mk(t, testCfg(), tid(1)), mk(t, testCfg(), tid(2))
	for _, n := range []*Node{src, dst} {
		n.stateOK = true
	}
	ks := keysIn(100, 4)
	a, b := ks[0], ks[1]
	src.db.apply(Write{Op: OpSet, Key: a, Value: "va"})
	src.db.apply(Write{Op: OpSet, Key: b, Value: "vb"})
	dst.db.apply(Write{Op: OpSet, Key: b, Value: "old"})
	cluster(dst, "SETSLOT 100 IMPORTING "+string(tid(1)))
	cluster(src, "SETSLOT 100 MIGRATING "+string(tid(2)))

	out := command(src, Cmd{Seq: 1, Op: OpMigrate, Value: dst.myself.addr, Keys: []string{a, b, ks[2]}})
	if len(out.Migrates) != 1 || len(out.Replies) != 0 || len(out.Migrates[0].Keys) != 2 {
		t.Fatalf("MIGRATE: requests %+v replies %+v, want a request for the 2 existing keys and no reply yet", out.Migrates, out.Replies)
	}
	req := out.Migrates[0]
	dout := &Output{}
	dst.RestoreAsking(testT, req, dout)
	if len(dout.MigrateReplies) != 1 {
		t.Fatalf("RESTORE-ASKING replies %+v, want one", dout.MigrateReplies)
	}
	rep := dout.MigrateReplies[0]
	if answers := rep.Answers; answers[0] != "" || answers[1] != errBusyKey {
		t.Fatalf("RESTORE-ASKING answers %q, want OK then BUSYKEY", answers)
	}
	out = &Output{}
	src.MigrateDone(testT, rep, out)
	if got := out.Replies[0].Reply.Err; got != "ERR Target instance replied with error: "+errBusyKey {
		t.Errorf("MIGRATE reply %q", got)
	}
	if _, ok := src.Get(a); ok {
		t.Errorf("acknowledged key %s still on the source", a)
	}
	if v, _ := src.Get(b); v != "vb" {
		t.Errorf("refused key %s lost on the source: %q", b, v)
	}
	if v, _ := dst.Get(a); v != "va" {
		t.Errorf("target has %s = %q, want va", a, v)
	}

	for _, tc := range []struct {
		name string
		n    *Node
		cmd  Cmd
		want ReplyKind
	}{
		{"source: moved key gets ASK", src, Cmd{Op: OpGet, Key: a}, ReplyAsk},
		{"source: present key is served", src, Cmd{Op: OpGet, Key: b}, ReplyOK},
		{"target with ASKING serves it", dst, Cmd{Op: OpGet, Key: a, Asking: true}, ReplyOK},
		{"target without ASKING: MOVED to the owner", dst, Cmd{Op: OpGet, Key: a}, ReplyMoved},
		{"target with ASKING, new key: served (written there)", dst, Cmd{Op: OpSet, Key: ks[3], Value: "1", Asking: true}, ReplyOK},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := command(tc.n, tc.cmd).Replies[0].Reply
			if r.Kind != tc.want {
				t.Errorf("reply %+v, want kind %d", r, tc.want)
			}
			if r.Kind == ReplyAsk && r.Err != fmt.Sprintf("ASK 100 %s", dst.myself.addr) {
				t.Errorf("ASK text %q", r.Err)
			}
		})
	}
}

// TestRestoreAskingNotImporting: a target that neither owns nor imports the
// slot answers MOVED to each RESTORE-ASKING, so the source keeps the keys.
func TestRestoreAskingNotImporting(t *testing.T) {
	dst := mk(t, testCfg(), tid(2))
	dst.stateOK = true
	out := &Output{}
	dst.RestoreAsking(testT, MigrateRequest{Keys: []KeyVal{{Key: keyIn(100), Str: "v"}}}, out)
	if answers := out.MigrateReplies[0].Answers; !strings.HasPrefix(answers[0], "MOVED 100 ") {
		t.Errorf("answer %q, want MOVED", answers[0])
	}
}

// TestMigrateNoKeyAndCrossSlot: NOKEY when no key exists; CROSSSLOT when the
// keys are in different slots.
func TestMigrateNoKeyAndCrossSlot(t *testing.T) {
	src := mk(t, testCfg(), tid(1))
	src.stateOK = true
	if r := command(src, Cmd{Op: OpMigrate, Value: "127.0.0.1:7001", Keys: []string{keyIn(5)}}).Replies[0].Reply; r.Value != "NOKEY" {
		t.Errorf("no key: %+v", r)
	}
	if r := command(src, Cmd{Op: OpMigrate, Value: "127.0.0.1:7001", Keys: []string{keyIn(5), keyIn(6)}}).Replies[0].Reply; r.Err != errCrossSlot {
		t.Errorf("cross slot: %+v", r)
	}
}

// TestBecomingReplicaClosesSlots: a master turned replica forgets its open
// slots (clusterSetMaster calls clusterCloseAllSlots).
func TestBecomingReplicaClosesSlots(t *testing.T) {
	n := mk(t, testCfg(), tid(1))
	cluster(n, "SETSLOT 6000 IMPORTING "+string(tid(2)))
	for s := 0; s <= 5460; s++ {
		n.delSlot(s)
		n.addSlot(n.byID[tid(2)], s)
	}
	n.at(testT, func() { n.setMaster(n.byID[tid(2)]) })
	if len(n.OpenSlots()) != 0 {
		t.Errorf("open slots after becoming a replica: %v", n.OpenSlots())
	}
}

// TestRangesMatchesBitByBit: the word-skipping Ranges gives the same ranges
// as a bit-by-bit scan, for sets with ranges on and across word edges.
func TestRangesMatchesBitByBit(t *testing.T) {
	naive := func(s *SlotSet) []SlotRange {
		var rs []SlotRange
		for i := 0; i < NumSlots; i++ {
			if !s.Has(i) {
				continue
			}
			if len(rs) > 0 && rs[len(rs)-1].End == i-1 {
				rs[len(rs)-1].End = i
			} else {
				rs = append(rs, SlotRange{Start: i, End: i})
			}
		}
		return rs
	}
	for _, rs := range [][]SlotRange{nil, {{Start: 0, End: NumSlots - 1}}, {{Start: 0, End: 63}}, {{Start: 63, End: 64}}, {{Start: 64, End: 127}, {Start: 129, End: 129}},
		{{Start: 0, End: 5460}, {Start: 5462, End: 5462}, {Start: 16383, End: 16383}}, {{Start: 100, End: 6000}, {Start: 6400, End: 6463}}} {
		s := SlotSetOf(rs)
		if got, want := s.Ranges(), naive(s); fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("Ranges(%v) = %v, want %v", rs, got, want)
		}
	}
}

// TestSetConfigEpoch: only a lone node with configEpoch 0 takes an epoch
// (clusterCommand's set-config-epoch branch).
func TestSetConfigEpoch(t *testing.T) {
	n := mk(t, testCfg(), tid(1))
	if r := cluster(n, "SET-CONFIG-EPOCH 9"); r.Err != "ERR The user can assign a config epoch only when the node does not know any other node." {
		t.Errorf("node knowing others: %q", r.Err)
	}
	lone := New(testCfg(), tid(7), []Member{{ID: tid(7), Addr: "127.0.0.1:7007"}}, rand.NewPCG(9, 9))
	if r := cluster(lone, "SET-CONFIG-EPOCH -1"); r.Err != "ERR Invalid config epoch specified: -1" {
		t.Errorf("negative: %q", r.Err)
	}
	if r := cluster(lone, "SET-CONFIG-EPOCH 9"); r.Kind != ReplyOK || lone.myself.configEpoch != 9 || lone.currentEpoch != 9 {
		t.Errorf("lone node: %+v, configEpoch %d currentEpoch %d", r, lone.myself.configEpoch, lone.currentEpoch)
	}
	if r := cluster(lone, "SET-CONFIG-EPOCH 10"); r.Err != "ERR Node config epoch is already non-zero" {
		t.Errorf("second time: %q", r.Err)
	}
}

// TestMigrateHeldByPause: MIGRATE is a write command, so a manual
// failover's client pause holds it until the pause ends (pauseClients).
func TestMigrateHeldByPause(t *testing.T) {
	src := mk(t, testCfg(), tid(1))
	src.stateOK = true
	k := keyIn(100)
	src.db.apply(Write{Op: OpSet, Key: k, Value: "v"})
	src.pausedUntil = 2 * testT
	out := command(src, Cmd{Seq: 1, Op: OpMigrate, Value: "127.0.0.1:7001", Keys: []string{k}})
	if len(out.Migrates) != 0 || len(out.Replies) != 0 || len(src.paused) != 1 {
		t.Fatalf("paused MIGRATE ran: requests %+v replies %+v", out.Migrates, out.Replies)
	}
	out = &Output{}
	src.Tick(2*testT, out)
	if len(out.Migrates) != 1 || out.Migrates[0].Keys[0].Key != k {
		t.Errorf("MIGRATE not released after the pause: %+v", out.Migrates)
	}
}
