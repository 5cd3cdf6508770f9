package node

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"
)

// TestFullCoverage: clusterUpdateState turns FAIL when a slot is unbound or
// its owner is FAIL, only with cluster-require-full-coverage; PFAIL owners
// never break coverage.
func TestFullCoverage(t *testing.T) {
	cases := []struct {
		name    string
		require bool
		setup   func(n *Node)
		ok      bool
	}{
		{"all_covered", true, func(n *Node) {}, true},
		{"owner_fail", true, func(n *Node) { n.byID[tid(3)].flags |= FlagFail }, false},
		{"owner_pfail", true, func(n *Node) { n.byID[tid(3)].flags |= FlagPFail }, true},
		{"unbound_slot", true, func(n *Node) { n.delSlot(NumSlots - 1) }, false},
		{"owner_fail_no_full_coverage", false, func(n *Node) { n.byID[tid(3)].flags |= FlagFail }, true},
		{"unbound_no_full_coverage", false, func(n *Node) { n.delSlot(NumSlots - 1) }, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfg := testCfg()
			cfg.RequireFullCoverage = c.require
			n := mk(t, cfg, tid(4)) // a replica: no writable or rejoin delay
			n.at(time.Second, func() {
				c.setup(n)
				n.updateState()
			})
			if n.stateOK != c.ok {
				t.Fatalf("state ok=%v, want %v", n.stateOK, c.ok)
			}
		})
	}
}

// TestReplicaSkipsRejoinDelay: clusterUpdateState's rejoin delay
// (clamp(T, 500, 5000) after the last minority sighting) holds back only a
// master; a replica goes ok at once.
func TestReplicaSkipsRejoinDelay(t *testing.T) {
	for _, c := range []struct {
		self ID
		ok   bool
	}{{tid(1), false}, {tid(4), true}} {
		n := mk(t, testCfg(), c.self)
		n.at(0, func() { n.updateState() })
		n.at(3*time.Second, func() { n.updateState() })
		n.byID[tid(2)].flags |= FlagPFail
		n.byID[tid(3)].flags |= FlagPFail
		n.at(4*time.Second, func() { n.updateState() })
		n.byID[tid(2)].flags &^= FlagPFail
		n.byID[tid(3)].flags &^= FlagPFail
		n.at(4*time.Second+time.Millisecond, func() { n.updateState() })
		if n.stateOK != c.ok {
			t.Errorf("%s: ok=%v right after the minority, want %v", c.self[38:], n.stateOK, c.ok)
		}
	}
}

// migrationCluster: masters 1..3, tid(1) with replicas 4 and 7, tid(2)
// with replica 5 (FAIL), tid(3) with 6; seen from self.
func migrationCluster(cfg Config, self ID) *Node {
	ms := append(members(), Member{ID: tid(7), Addr: "127.0.0.1:7006", Master: tid(1), ConfigEpoch: 7})
	n := New(cfg, self, ms, rand.NewPCG(1, 2))
	n.byID[tid(5)].flags |= FlagFail
	n.stateOK = true
	return n
}

// TestReplicaMigrationRules: clusterHandleSlaveMigration moves a replica
// to an orphaned master (slots, MIGRATE_TO, no working replica) only when
// its own master keeps more than cluster-migration-barrier working
// replicas, the orphan has been orphaned > 5000 ms, it is the candidate
// (smallest ID among the replicas of the best-served masters) and
// cluster-allow-replica-migration is on.
func TestReplicaMigrationRules(t *testing.T) {
	cases := []struct {
		name    string
		self    ID
		barrier int
		allow   bool
		migrate bool
	}{
		{"candidate_migrates", tid(4), 1, true, true},
		{"not_smallest_id", tid(7), 1, true, false},
		{"barrier", tid(4), 2, true, false},
		{"migration_disabled", tid(4), 1, false, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfg := testCfg()
			cfg.MigrationBarrier, cfg.AllowReplicaMigration = c.barrier, c.allow
			n := migrationCluster(cfg, c.self)
			for i := 0; i <= 60; i++ {
				n.at(time.Duration(i)*CronPeriod, func() {
					n.cronCheckNodes()
					n.maybeMigrate()
				})
			}
			got := n.Master() == tid(2)
			if got != c.migrate {
				t.Fatalf("migrated=%v, want %v (master %s)", got, c.migrate, n.Master())
			}
		})
	}
}

// TestMigrationWaitsOrphanDelay: the orphan must have been seen orphaned
// for more than CLUSTER_SLAVE_MIGRATION_DELAY before a replica moves.
func TestMigrationWaitsOrphanDelay(t *testing.T) {
	n := migrationCluster(testCfg(), tid(4))
	step := func(at time.Duration) {
		n.at(at, func() {
			n.cronCheckNodes()
			n.maybeMigrate()
		})
	}
	step(time.Second)
	step(time.Second + slaveMigrationDelay)
	if n.Master() != tid(1) {
		t.Fatal(fmt.Sprint("migrated at the delay, not after it: ", n.Master()))
	}
	step(time.Second + slaveMigrationDelay + time.Millisecond)
	if n.Master() != tid(2) {
		t.Fatal("did not migrate after the delay")
	}
}
