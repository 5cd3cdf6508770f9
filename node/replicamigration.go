// Replica migration to orphaned masters: clusterCron's orphan bookkeeping
// and clusterHandleSlaveMigration.

package node

import "time"

// slaveMigrationDelay is CLUSTER_SLAVE_MIGRATION_DELAY.
const slaveMigrationDelay = 5000 * time.Millisecond

// orphanCount is clusterCron's step 5a bookkeeping.
type orphanCount struct {
	orphanedMasters int
	maxSlaves       int
	thisSlaves      int
}

func (o *orphanCount) reset() { *o = orphanCount{} }

// okReplicas counts p's replicas without FAIL (PFAIL ones count as ok).
func okReplicas(p *peer) int {
	ok := 0
	for _, r := range p.replicas {
		if !r.is(FlagFail) {
			ok++
		}
	}
	return ok
}

// count looks at one node in the cron loop (only on replicas, for non-FAIL
// masters).
func (o *orphanCount) count(n *Node, p *peer) {
	if !n.myself.is(FlagSlave) || !p.is(FlagMaster) || p.is(FlagFail) {
		return
	}
	ok := len(p.replicas)
	if n.failNodes != 0 { // 0: no replica is FAIL, so skip reading each one
		ok = okReplicas(p)
	}
	if ok == 0 && p.numSlots > 0 && p.is(FlagMigrateTo) {
		o.orphanedMasters++
	}
	o.maxSlaves = max(o.maxSlaves, ok)
	if n.myself.master == p {
		o.thisSlaves = ok
	}
}

// mayMigrate is whether this cron's orphan count can lead to a migration:
// only a replica whose master has two or more replicas can be in the
// largest group (this_slaves == max_slaves >= 2), so for every other node
// the count, which reads every master's replica list, is skipped; Redis
// always counts, with the same outcome.
func (n *Node) mayMigrate() bool {
	m := n.myself.master
	return n.cfg.AllowReplicaMigration && n.myself.is(FlagSlave) && m != nil && len(m.replicas) >= 2
}

// maybeMigrate is clusterCron's step 8 condition for migration.
func (n *Node) maybeMigrate() {
	o := n.orphaned
	if o.orphanedMasters > 0 && o.maxSlaves >= 2 && o.thisSlaves == o.maxSlaves &&
		n.cfg.AllowReplicaMigration {
		n.handleSlaveMigration(o.maxSlaves)
	}
}

// handleSlaveMigration is clusterHandleSlaveMigration (reference 11).
func (n *Node) handleSlaveMigration(maxSlaves int) {
	me := n.myself
	if !n.stateOK || me.master == nil {
		return
	}
	okSlaves := 0
	for _, r := range me.master.replicas {
		if !r.is(FlagFail | FlagPFail) {
			okSlaves++
		}
	}
	if okSlaves <= n.cfg.MigrationBarrier {
		return
	}
	candidate := me
	var target *peer
	for _, p := range n.nodes {
		ok := 0
		isOrphaned := false
		if p.is(FlagSlave) || p.is(FlagFail) {
			continue
		}
		if p.is(FlagMigrateTo) {
			ok = okReplicas(p)
			isOrphaned = ok == 0
		}
		if !p.is(FlagMigrateTo) {
			ok = okReplicas(p)
		}
		if isOrphaned {
			if target == nil && p.numSlots > 0 {
				target = p
			}
			if p.orphanedTime == 0 {
				p.orphanedTime = n.now
			}
		} else {
			p.orphanedTime = 0
		}
		if ok == maxSlaves {
			for _, r := range p.replicas {
				if r.id < candidate.id {
					candidate = r
				}
			}
		}
	}
	if target != nil && candidate == me && n.now-target.orphanedTime > slaveMigrationDelay {
		n.setMaster(target)
	}
}
