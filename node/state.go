// The node's cluster_state: clusterUpdateState, with its boot-time writable
// delay and its rejoin delay after a minority.

package node

import (
	"time"

	"github.com/rcsim/rcsim/node/trace"
)

// Delays of clusterUpdateState.
const (
	writableDelay  = 2000 * time.Millisecond // CLUSTER_WRITABLE_DELAY
	maxRejoinDelay = 5000 * time.Millisecond // CLUSTER_MAX_REJOIN_DELAY
	minRejoinDelay = 500 * time.Millisecond  // CLUSTER_MIN_REJOIN_DELAY
)

// updateState is clusterUpdateState (reference 3.4).
func (n *Node) updateState() {
	if n.firstCallTime == never {
		n.firstCallTime = n.now
	}
	if n.myself.is(FlagMaster) && !n.stateOK && n.now-n.firstCallTime < writableDelay {
		return
	}
	ok := true
	if n.cfg.RequireFullCoverage {
		ok = n.slots.covered()
	}
	size, reachable := 0, 0
	for _, p := range n.nodes {
		if p.is(FlagMaster) && p.numSlots > 0 {
			size++
			if !p.is(FlagPFail | FlagFail) {
				reachable++
			}
		}
	}
	n.size = size
	if reachable < size/2+1 {
		ok = false
		n.amongMinorityTime = n.now
	}
	if ok == n.stateOK {
		return
	}
	rejoin := min(max(n.cfg.NodeTimeout, minRejoinDelay), maxRejoinDelay)
	if ok && n.myself.is(FlagMaster) && n.now-n.amongMinorityTime < rejoin {
		return
	}
	n.stateOK = ok
	if ok {
		n.emit(trace.State, nil, 0, "ok")
	} else {
		n.emit(trace.State, nil, 0, "fail")
	}
}
