package checker

// Invariants over the trace: the safety rules Redis Cluster's epochs exist to
// give (one owner per slot per configEpoch, unique configEpochs once settled,
// epochs that never go back, one vote per master per epoch: the rules of
// clusterUpdateSlotsConfigWith, clusterHandleConfigEpochCollision and
// clusterSendFailoverAuthIfNeeded), and convergence after the last fault.

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/rcsim/rcsim/node/trace"
)

// Rule names, as Violation.Rule and summary.json show them.
const (
	// RuleSlotOwner: two different nodes claimed the same slot with the same
	// configEpoch (a claim is a Boot with an Epoch, a Promoted, a ConfigEpoch
	// of a master with slots, or a Slots event naming the claimant).
	RuleSlotOwner = "one_master_per_slot_epoch"
	// RuleUniqueConfigEpoch: two live masters share a configEpoch at the end
	// of a run in which the cluster converged after the last fault.
	RuleUniqueConfigEpoch = "unique_config_epoch"
	// RuleEpochMonotonic: a node's currentEpoch (Epoch events) or configEpoch
	// (ConfigEpoch and Promoted events) went down, other than across a crash
	// that lost nodes.conf.
	RuleEpochMonotonic = "epochs_monotonic"
	// RuleOneVote: a master granted two votes in one epoch (VoteGranted).
	RuleOneVote = "one_vote_per_epoch"
	// RuleConverged: the cluster did not converge within the bound after
	// the last fault (see CheckConvergence).
	RuleConverged = "converged_within"
)

// Violation is one broken invariant: which rule, when (virtual time of the
// event that broke it), on which node ("" for the cluster as a whole) and
// what happened, in Redis terms.
type Violation struct {
	Rule   string
	At     time.Duration
	Node   string
	Detail string
}

type violationJSON struct {
	Rule   string `json:"rule"`
	AtUs   int64  `json:"at_us"`
	Node   string `json:"node,omitempty"`
	Detail string `json:"detail"`
}

// MarshalJSON writes At in whole microseconds ("at_us"), the trace's unit.
func (v Violation) MarshalJSON() ([]byte, error) {
	return json.Marshal(violationJSON{v.Rule, v.At.Microseconds(), v.Node, v.Detail})
}

// UnmarshalJSON reads what MarshalJSON writes.
func (v *Violation) UnmarshalJSON(b []byte) error {
	var j violationJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	*v = Violation{Rule: j.Rule, At: time.Duration(j.AtUs) * time.Microsecond, Node: j.Node, Detail: j.Detail}
	return nil
}

// String renders v on one line: "17.738s m0r0 one_master_per_slot_epoch: …".
func (v Violation) String() string {
	node := ""
	if v.Node != "" {
		node = " " + v.Node
	}
	return trace.FormatTime(v.At) + node + " " + v.Rule + ": " + v.Detail
}

// claimKey groups the conflicting claims of one pair of nodes in one epoch.
type claimKey struct {
	epoch         uint64
	first, second string
}

// conflict is a group of slots claimed twice in one epoch.
type conflict struct {
	at, since time.Duration
	slots     []bool
}

// invState is what the invariant checks know about each node so far.
type invState struct {
	master    map[string]bool
	own       map[string][]bool // slots each node believes it serves
	cfg       map[string]uint64 // last configEpoch an event carried
	cfgKnown  map[string]bool
	cur       map[string]uint64            // last currentEpoch
	votes     map[string]map[uint64]string // voter -> epoch -> candidate
	voteAt    map[string]map[uint64]time.Duration
	claims    map[uint64][]owner         // configEpoch -> claimant per slot, by number in claimants
	claimAt   map[uint64][]time.Duration // when the slot was first claimed
	claimants ownerNames
	groups    map[claimKey]*conflict
	order     []claimKey
	crashed   map[string]bool
	out       []Violation
}

func newInvState() *invState {
	return &invState{master: map[string]bool{}, own: map[string][]bool{}, cfg: map[string]uint64{},
		cfgKnown: map[string]bool{}, cur: map[string]uint64{}, votes: map[string]map[uint64]string{},
		voteAt: map[string]map[uint64]time.Duration{}, claims: map[uint64][]owner{},
		claimAt: map[uint64][]time.Duration{}, claimants: newOwnerNames(),
		groups: map[claimKey]*conflict{}, crashed: map[string]bool{}}
}

// CheckInvariants checks the trace-level safety rules (RuleSlotOwner,
// RuleUniqueConfigEpoch, RuleEpochMonotonic, RuleOneVote) and returns the
// violations ordered by time, then rule. Limits: a Boot event without an
// Epoch gives no configEpoch, so a boot master's epoch is known only once an
// event carries it; RuleUniqueConfigEpoch compares known epochs only.
func CheckInvariants(events []trace.Event) []Violation {
	st, c := newInvState(), newConverger(events)
	walk(events, st, c)
	_, _, converged, _ := c.result(events)
	return st.violations(events, converged)
}

// see folds events[i] into the state (the invariants stage of the walk).
func (st *invState) see(events []trace.Event, i int, _ *world) { st.apply(events[i]) }

// violations returns what the walk found, ordered by time, then rule;
// converged is whether the cluster converged after the last fault.
func (st *invState) violations(events []trace.Event, converged bool) []Violation {
	out := append(st.out, st.conflicts()...)
	if converged && len(events) > 0 {
		out = append(out, st.uniqueConfigEpochs(events[len(events)-1].At)...)
	}
	sortViolations(out)
	return out
}

func sortViolations(vs []Violation) {
	slices.SortStableFunc(vs, func(a, b Violation) int {
		if a.At != b.At {
			if a.At < b.At {
				return -1
			}
			return 1
		}
		return strings.Compare(a.Rule, b.Rule)
	})
}

// apply folds one event into the state, recording violations.
func (st *invState) apply(e trace.Event) {
	switch e.Kind {
	case trace.Boot:
		st.boot(e)
	case trace.Crash:
		st.crashed[e.Node] = true
		if e.Value == "wipe" { // nodes.conf lost: epochs and votes start over
			delete(st.cfg, e.Node)
			delete(st.cfgKnown, e.Node)
			delete(st.cur, e.Node)
			delete(st.votes, e.Node)
			delete(st.own, e.Node)
			st.master[e.Node] = false
		}
	case trace.Restart:
		st.crashed[e.Node] = false
	case trace.Epoch:
		if prev, ok := st.cur[e.Node]; ok && e.Epoch < prev {
			st.add(RuleEpochMonotonic, e, fmt.Sprintf("currentEpoch went from %d down to %d (%s)", prev, e.Epoch, e.Value))
		}
		st.cur[e.Node] = max(st.cur[e.Node], e.Epoch)
	case trace.ConfigEpoch:
		st.setConfigEpoch(e, "configEpoch set ("+e.Value+")")
		if st.master[e.Node] {
			st.claim(e.Node, st.ownRanges(e.Node), e.Epoch, e.At)
		}
	case trace.Promoted:
		st.setConfigEpoch(e, "promoted")
		st.master[e.Node] = true
		rs := slotsOf(e)
		assignOwn(st.ownOf(e.Node), rs, true)
		st.claim(e.Node, rs, e.Epoch, e.At)
	case trace.Role:
		st.master[e.Node] = e.Value == "master"
		if e.Value == "replica" {
			clear(st.ownOf(e.Node))
		}
	case trace.Slots:
		rs := slotsOf(e)
		if e.Peer != e.Node {
			assignOwn(st.ownOf(e.Node), rs, false) // the observer lost these, if it had them
		}
		st.claim(e.Peer, rs, e.Epoch, e.At)
	case trace.VoteGranted:
		st.vote(e)
	}
}

func (st *invState) boot(e trace.Event) {
	isMaster := bootsMaster(e)
	st.master[e.Node] = isMaster
	if !isMaster {
		return
	}
	rs := slotsOf(e)
	assignOwn(st.ownOf(e.Node), rs, true)
	if e.Epoch != 0 {
		st.cfg[e.Node], st.cfgKnown[e.Node] = e.Epoch, true
		st.claim(e.Node, rs, e.Epoch, e.At)
	}
}

func (st *invState) add(rule string, e trace.Event, detail string) {
	st.out = append(st.out, Violation{Rule: rule, At: e.At, Node: e.Node, Detail: detail})
}

func (st *invState) setConfigEpoch(e trace.Event, why string) {
	if st.cfgKnown[e.Node] && e.Epoch < st.cfg[e.Node] {
		st.add(RuleEpochMonotonic, e, fmt.Sprintf("configEpoch went from %d down to %d (%s)", st.cfg[e.Node], e.Epoch, why))
	}
	st.cfg[e.Node], st.cfgKnown[e.Node] = e.Epoch, true
}

// vote enforces clusterSendFailoverAuthIfNeeded's lastVoteEpoch rule.
func (st *invState) vote(e trace.Event) {
	if st.votes[e.Node] == nil {
		st.votes[e.Node] = map[uint64]string{}
		st.voteAt[e.Node] = map[uint64]time.Duration{}
	}
	if prev, ok := st.votes[e.Node][e.Epoch]; ok {
		st.add(RuleOneVote, e, fmt.Sprintf("voted twice in epoch %d: for %s at %s and for %s", e.Epoch,
			prev, trace.FormatTime(st.voteAt[e.Node][e.Epoch]), e.Peer))
		return
	}
	st.votes[e.Node][e.Epoch] = e.Peer
	st.voteAt[e.Node][e.Epoch] = e.At
}

func (st *invState) ownOf(n string) []bool {
	if st.own[n] == nil {
		st.own[n] = make([]bool, numSlots)
	}
	return st.own[n]
}

func assignOwn(own []bool, rs []slotRange, v bool) {
	for _, r := range rs {
		for s := max(r.Start, 0); s <= min(r.End, numSlots-1); s++ {
			own[s] = v
		}
	}
}

// ownRanges returns the slots n serves as ranges.
func (st *invState) ownRanges(n string) []slotRange {
	return toRanges(st.ownOf(n))
}

func toRanges(set []bool) []slotRange {
	var rs []slotRange
	for s := 0; s < len(set); s++ {
		if !set[s] {
			continue
		}
		lo := s
		for s+1 < len(set) && set[s+1] {
			s++
		}
		rs = append(rs, slotRange{Start: lo, End: s})
	}
	return rs
}

// claim records that node serves rs with configEpoch epoch, noting any slot
// another node already claimed with the same epoch.
func (st *invState) claim(node string, rs []slotRange, epoch uint64, at time.Duration) {
	if node == "" || len(rs) == 0 {
		return
	}
	owners := st.claims[epoch]
	if owners == nil {
		owners = make([]owner, numSlots)
		st.claims[epoch] = owners
		st.claimAt[epoch] = make([]time.Duration, numSlots)
	}
	me := st.claimants.of(node)
	since := st.claimAt[epoch]
	for _, r := range rs {
		for s := max(r.Start, 0); s <= min(r.End, numSlots-1); s++ {
			switch o := owners[s]; o {
			case 0:
				owners[s], since[s] = me, at
			case me:
			default:
				st.conflict(claimKey{epoch, st.claimants.names[o], node}, s, at, since[s])
			}
		}
	}
}

func (st *invState) conflict(k claimKey, slot int, at, since time.Duration) {
	c := st.groups[k]
	if c == nil {
		c = &conflict{at: at, since: since, slots: make([]bool, numSlots)}
		st.groups[k] = c
		st.order = append(st.order, k)
	}
	c.slots[slot] = true
}

func (st *invState) conflicts() []Violation {
	var out []Violation
	for _, k := range st.order {
		c := st.groups[k]
		out = append(out, Violation{Rule: RuleSlotOwner, At: c.at, Node: k.second,
			Detail: fmt.Sprintf("%s and %s both claim slots %s with configEpoch %d (%s since %s)",
				k.first, k.second, formatRanges(toRanges(c.slots)), k.epoch, k.first, trace.FormatTime(c.since))})
	}
	return out
}

// uniqueConfigEpochs checks, at the end (time end) of a run that converged
// after its last fault, that no two live masters share a known configEpoch
// (clusterHandleConfigEpochCollision's promise).
func (st *invState) uniqueConfigEpochs(end time.Duration) []Violation {
	var nodes []string
	for n := range st.master {
		if st.master[n] && !st.crashed[n] && st.cfgKnown[n] {
			nodes = append(nodes, n)
		}
	}
	slices.Sort(nodes)
	byEpoch := map[uint64][]string{}
	var epochs []uint64
	for _, n := range nodes {
		e := st.cfg[n]
		if byEpoch[e] == nil {
			epochs = append(epochs, e)
		}
		byEpoch[e] = append(byEpoch[e], n)
	}
	slices.Sort(epochs)
	var out []Violation
	for _, e := range epochs {
		if ns := byEpoch[e]; len(ns) > 1 {
			out = append(out, Violation{Rule: RuleUniqueConfigEpoch, At: end,
				Detail: fmt.Sprintf("masters %s share configEpoch %d at the end, after the cluster converged",
					strings.Join(ns, " "), e)})
		}
	}
	return out
}

// DefaultConvergeWithin is the convergence bound used when neither the
// caller nor the scenario sets one: generous for the default node timeouts of
// the built-in scenarios (a failover and the rejoin delay fit well inside).
const DefaultConvergeWithin = 30 * time.Second

// CheckConvergence checks that after the last fault (crash, restart,
// partition, heal or other fault step) or admin step's end, within bound,
// every live node reaches state ok, all of them agree on every slot's
// owner, every slot's owner is alive, and this holds to the end of the run. It is judged only
// when the trace can decide it: a run that ends with a partition still in
// place, or ends unconverged before the bound has passed, yields no
// violation. The returned text says what was found either way.
func CheckConvergence(events []trace.Event, bound time.Duration) ([]Violation, string) {
	c := newConverger(events)
	walk(events, c)
	return c.check(events, bound)
}

// check is CheckConvergence on the converger's result over events.
func (c *converger) check(events []trace.Event, bound time.Duration) ([]Violation, string) {
	if len(events) == 0 {
		return nil, "not judged: empty trace"
	}
	if partitioned(events) {
		return nil, "not judged: a partition is still in place at the end"
	}
	last, at, ok, why := c.result(events)
	end := events[len(events)-1].At
	switch {
	case ok && at-last <= bound:
		return nil, fmt.Sprintf("converged %s after the last fault or admin step at %s (bound %s)",
			trace.FormatTime(at-last), trace.FormatTime(last), bound)
	case ok:
		return []Violation{{Rule: RuleConverged, At: at, Detail: fmt.Sprintf("converged %s after the last fault or admin step at %s, over the bound %s",
			trace.FormatTime(at-last), trace.FormatTime(last), bound)}}, "converged too late"
	case end-last > bound:
		return []Violation{{Rule: RuleConverged, At: last + bound, Detail: fmt.Sprintf("not converged %s after the last fault or admin step at %s: %s",
			bound, trace.FormatTime(last), why)}}, "not converged"
	default:
		return nil, fmt.Sprintf("not judged: the run ended %s after the last fault or admin step, inside the bound %s (%s)",
			trace.FormatTime(end-last), bound, why)
	}
}

// formatRanges prints slot ranges for a violation's text, as CLUSTER NODES
// does.
func formatRanges(rs []slotRange) string { return trace.FormatRanges(rs, " ") }
