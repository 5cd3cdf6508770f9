package checker

// Recovery from masters going down: the figure Valkey measured on 2,000
// servers (its 2025 post "Scaling a Valkey Cluster to 1 Billion Request per
// Second"), read from the trace: from the first PFAIL any node flags after
// the first fault until every live node reports cluster_state ok and every
// slot is served by a live master; and, per master that went down, when a
// replica took its slots and how many elections its replicas started.

import (
	"github.com/rcsim/rcsim/node/trace"
)

// Recovery is the cluster's recovery from the masters that went down (were
// crashed or paused) after the run's first fault. Slot owners are followed
// through Boot and Promoted events: a slot moved by an admin step is not
// followed. Only crashed and paused masters are down: a master cut off by a
// partition is still a live owner of its slots and a live node whose state
// must be ok, so a partition's recovery ends when every node reports ok.
type Recovery struct {
	FaultMs      int64 `json:"fault_ms"`       // the first fault step
	FirstPFailMs int64 `json:"first_pfail_ms"` // the first PFAIL flagged at or after it
	// RecoveryMs is from first_pfail_ms to the first moment every live node's
	// state is ok and every slot's owner is live; nil if that never happened.
	RecoveryMs *int64 `json:"recovery_ms"`
	// Masters are the masters serving slots that went down, in the order
	// they did.
	Masters []MasterRecovery `json:"failed_masters"`
	// Unrecovered counts those whose slots no live master serves at the end.
	Unrecovered int `json:"unrecovered_shards"`
}

// MasterRecovery is one master that went down.
type MasterRecovery struct {
	Master string `json:"master"`
	DownMs int64  `json:"down_ms"` // when it crashed or was paused
	// Promoted is the replica that took its slots; PromotedMs is how long
	// after down_ms (nil: none did).
	Promoted   string `json:"promoted,omitempty"`
	PromotedMs *int64 `json:"promotion_ms"`
	// Elections counts the elections (election_start) its replicas started
	// after down_ms, the successful one included: more than one means votes
	// split or an attempt timed out.
	Elections int `json:"elections"`
}

// recoveryState follows what Recovery needs through the trace.
type recoveryState struct {
	masterOf map[string]string // replica → master (Boot, Role)
	owns     map[string]bool   // nodes owning slots (Boot, Promoted)
	down     map[string]bool   // crashed or paused
	state    map[string]string // latest State per node
	member   map[string]bool   // booted into the formed cluster (not alone)
	notOK    int               // live members whose state is not ok
	downOwn  int               // owners that are down
	masters  []MasterRecovery  // masters that went down after the first fault
	failed   map[string]int    // master → index in masters, while down
	// fault and pfail are the first fault step and the first PFAIL at or
	// after it (ms, -1 until seen); recovered is RecoveryMs once known.
	fault, pfail int64
	recovered    *int64
}

// RecoveryOf computes Recovery from a trace; nil when the run has no fault
// followed by a PFAIL.
func RecoveryOf(events []trace.Event) *Recovery {
	st := newRecoveryState()
	walk(events, st)
	return st.recovery()
}

func newRecoveryState() *recoveryState {
	return &recoveryState{masterOf: map[string]string{}, owns: map[string]bool{}, down: map[string]bool{},
		state: map[string]string{}, failed: map[string]int{}, member: map[string]bool{}, fault: -1, pfail: -1}
}

// see folds events[i] in (the recovery stage of the walk).
func (st *recoveryState) see(events []trace.Event, i int, _ *world) {
	e := events[i]
	at := e.At.Milliseconds()
	if st.fault < 0 && isFault(e.Kind) {
		st.fault = at
	}
	if st.fault >= 0 && st.pfail < 0 && e.Kind == trace.PFail {
		st.pfail = at
	}
	st.apply(e, st.fault >= 0)
	if st.pfail < 0 || st.recovered != nil || i+1 < len(events) && events[i+1].At == e.At {
		return // judge a moment after all its events
	}
	if st.notOK == 0 && st.downOwn == 0 {
		d := at - st.pfail
		st.recovered = &d
	}
}

// recovery returns what the walk found (nil: no fault followed by a PFAIL).
func (st *recoveryState) recovery() *Recovery {
	if st.pfail < 0 {
		return nil
	}
	r := &Recovery{FaultMs: st.fault, FirstPFailMs: st.pfail, RecoveryMs: st.recovered, Masters: st.masters}
	if r.Masters == nil {
		r.Masters = []MasterRecovery{}
	}
	for _, m := range r.Masters {
		if m.PromotedMs == nil || st.down[m.Promoted] {
			r.Unrecovered++
		}
	}
	return r
}

// setDown marks n down or up, keeping the counts.
func (st *recoveryState) setDown(n string, down bool) {
	if st.down[n] == down {
		return
	}
	st.down[n] = down
	d := 1
	if !down {
		d = -1
	}
	if st.member[n] && st.state[n] != "ok" {
		st.notOK -= d
	}
	if st.owns[n] {
		st.downOwn += d
	}
}

// setOwns marks n as owning slots or not, keeping the counts.
func (st *recoveryState) setOwns(n string, owns bool) {
	if st.owns[n] == owns {
		return
	}
	st.owns[n] = owns
	if st.down[n] {
		if owns {
			st.downOwn++
		} else {
			st.downOwn--
		}
	}
}

// apply updates the state with e; afterFault says the first fault happened.
func (st *recoveryState) apply(e trace.Event, afterFault bool) {
	switch e.Kind {
	case trace.Boot:
		st.state[e.Node] = "fail"
		if e.Value == "alone" {
			return // a spare or an unformed cluster: not counted until it joins (not followed)
		}
		st.member[e.Node] = true
		st.notOK++
		if bootsMaster(e) {
			st.setOwns(e.Node, true)
		} else if e.Peer != "" {
			st.masterOf[e.Node] = e.Peer
		}
	case trace.State:
		if st.member[e.Node] && !st.down[e.Node] && (st.state[e.Node] == "ok") != (e.Value == "ok") {
			if e.Value == "ok" {
				st.notOK--
			} else {
				st.notOK++
			}
		}
		st.state[e.Node] = e.Value
	case trace.Crash:
		st.wentDown(e, afterFault)
	case trace.Restart:
		st.setDown(e.Node, false)
		st.setState(e.Node, "fail") // a restarted node boots in state fail
	case trace.Fault:
		switch d := detailOf(e); d.Fault {
		case "pause":
			st.wentDown(e, afterFault)
		case "resume":
			st.setDown(e.Node, false)
		}
	case trace.Role:
		if e.Value == "replica" && e.Peer != "" {
			st.masterOf[e.Node] = e.Peer
			st.setOwns(e.Node, false)
		}
	case trace.Promoted:
		st.promoted(e)
	case trace.ElectionStart:
		if i, ok := st.failed[st.masterOf[e.Node]]; ok {
			st.masters[i].Elections++
		}
	}
}

// setState sets n's state, keeping notOK.
func (st *recoveryState) setState(n, v string) {
	st.apply(trace.Event{Kind: trace.State, Node: n, Value: v}, false)
}

// wentDown handles a crash or pause of e.Node.
func (st *recoveryState) wentDown(e trace.Event, afterFault bool) {
	if afterFault && st.owns[e.Node] && !st.down[e.Node] {
		st.failed[e.Node] = len(st.masters)
		st.masters = append(st.masters, MasterRecovery{Master: e.Node, DownMs: e.At.Milliseconds()})
	}
	st.setDown(e.Node, true)
}

// promoted handles e.Node taking e.Peer's slots.
func (st *recoveryState) promoted(e trace.Event) {
	st.setOwns(e.Node, true)
	st.setOwns(e.Peer, false)
	delete(st.masterOf, e.Node)
	if i, ok := st.failed[e.Peer]; ok {
		m := &st.masters[i]
		d := e.At.Milliseconds() - m.DownMs
		m.Promoted, m.PromotedMs = e.Node, &d
		delete(st.failed, e.Peer)
	}
}
