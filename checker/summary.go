package checker

// The summary record of a run: what `rcsim run` writes as summary.json and a
// sweep writes per run to runs.jsonl, with the expectations judged.

import (
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/rcsim/rcsim/checker/history"
	"github.com/rcsim/rcsim/node/trace"
)

// MaxLostListed caps CheckSummary.Lost; LostWrites still counts them all.
const MaxLostListed = 100

// Summary is the record of one run. Its JSON names are part of the
// versioned output format.
type Summary struct {
	Scenario    string `json:"scenario"`
	Seed        uint64 `json:"seed"`
	VirtualMs   int64  `json:"virtual_ms"`
	Events      int    `json:"events"`
	TraceSHA256 string `json:"trace_sha256"`
	// Settings are the overridden settings of a sweep point, e.g.
	// "cluster-node-timeout": "5000".
	Settings  map[string]string `json:"settings,omitempty"`
	Failovers []Failover        `json:"failovers"`
	// OpenSlots are slots a live node still had MIGRATING or IMPORTING when
	// the run ended ("m1: 1234 importing from m0"): a reshard interrupted.
	OpenSlots    []string       `json:"open_slots,omitempty"`
	Check        CheckSummary   `json:"check"`
	Expectations []ExpectResult `json:"expectations"`
	// Invariants are the trace invariants broken (CheckInvariants and
	// CheckConvergence); empty when all held.
	Invariants []Violation `json:"invariants"`
	// Convergence says how the convergence invariant was judged.
	Convergence string `json:"convergence"`
	// Downtime is, per shard (its master at boot), how long its clients
	// got no successful answer while trying (see ShardDowntime); empty
	// without a workload.
	Downtime []ShardDowntime `json:"downtime,omitempty"`
	// Recovery is the recovery from the masters that went down (RecoveryOf);
	// absent when no fault was followed by a PFAIL.
	Recovery *Recovery `json:"recovery,omitempty"`
	OK       bool      `json:"ok"` // every expectation and every invariant held
}

// CheckSummary is the checker's verdict on the history.
type CheckSummary struct {
	Linearizable bool         `json:"linearizable"` // true only for verdict "ok"
	Verdict      Verdict      `json:"verdict"`      // ok | illegal | unknown
	Ops          int          `json:"ops"`
	Unknown      int          `json:"unknown"`
	Failed       int          `json:"failed"`
	LostWrites   int          `json:"lost_writes"`
	Lost         []history.Op `json:"lost"` // the first MaxLostListed lost writes
	// LostBy counts every lost write by mechanism (AttributeLost).
	LostBy map[Mechanism]int `json:"lost_by"`
	// Attributed is Lost with each write's mechanism and the events behind it.
	Attributed []LostWrite `json:"lost_attributed"`
	StaleReads int         `json:"stale_reads"`
	Stale      []StaleRead `json:"stale"` // the first MaxLostListed stale reads
	// Unattributed counts the reads that missed a write but that, values
	// repeating, cannot be called lost or stale (see Anomalies); the first
	// MaxLostListed are listed.
	Unattributed      int            `json:"unattributed"`
	UnattributedReads []Unattributed `json:"unattributed_reads"`
	// Incomplete says why the anomaly counts are lower bounds (the budget
	// ran out); "" when every key was analysed.
	Incomplete string       `json:"incomplete,omitempty"`
	Keys       []KeyVerdict `json:"keys"` // keys not ok, with the ops involved and their context
}

// ExpectResult is one expectation judged: what the scenario wanted, what
// the run gave, and whether that holds.
type ExpectResult struct {
	Name string `json:"name"` // failover_within | linearizable | converged_within | max_lost_writes | cluster_ok | admin_ok
	Want string `json:"want"`
	Got  string `json:"got"`
	OK   bool   `json:"ok"`
}

// Expect is what a scenario expects; nil fields are not checked. It mirrors
// scenarios.Expect, which checker cannot import.
type Expect struct {
	FailoverWithin  *time.Duration // every failover promoted within this, and one happened
	Linearizable    *bool          // the verdict is ok (true) or illegal (false)
	ConvergedWithin *time.Duration // after the last fault or admin step: all live nodes ok, agreeing on slots served by live masters, to the end
	MaxLostWrites   *int
	ClusterOK       *bool // at the end every live node's last state is ok
	// AdminOK: every admin step ended ok (true) or one failed (false). Nil
	// means true, judged whenever the run has admin steps.
	AdminOK *bool
}

// Input is everything Check needs about one run.
type Input struct {
	Scenario    string
	Seed        uint64
	VirtualMs   int64
	Events      int
	TraceSHA256 string
	Settings    map[string]string
	Trace       []trace.Event
	History     []history.Op
	Model       string // register | counter | list; "" with an empty history skips the check
	Expect      Expect
	Budget      time.Duration // wall-clock bound of the whole history check (0: DefaultBudget)
	EndMs       int64         // virtual end of the run
	// ConvergeWithin bounds the convergence invariant; 0: the scenario's
	// Expect.ConvergedWithin if set, else DefaultConvergeWithin.
	ConvergeWithin time.Duration
}

// stages are Check's trace stages, fed by one walk over the trace.
type stages struct {
	fo    *failoverStage
	conv  *converger
	inv   *invState
	rec   *recoveryState
	tl    *timeline // nil: no trace, or no lost write or key to explain
	admin adminSteps
	end   *world // the cluster after the last event
}

// walkStages walks events once for every stage; the timeline is indexed
// only when withTimeline (lost writes to attribute or keys to explain).
func walkStages(events []trace.Event, withTimeline bool) *stages {
	st := &stages{fo: newFailoverStage(), conv: newConverger(events), inv: newInvState(), rec: newRecoveryState()}
	obs := []observer{st.fo, st.conv, st.inv, st.rec, &st.admin}
	if withTimeline && len(events) > 0 {
		st.tl = newTimelineStage()
		obs = append(obs, st.tl)
	}
	st.end = walk(events, obs...)
	return st
}

// Check judges one run: linearizability, lost writes, failovers and the
// expectations. Its error is for bad input (an unknown model, an op the
// model does not take); a failed expectation is Summary.OK == false. The
// trace is walked once, for all of its stages.
func Check(in Input) (Summary, error) {
	s := Summary{Scenario: in.Scenario, Seed: in.Seed, VirtualMs: in.VirtualMs, Events: in.Events,
		TraceSHA256: in.TraceSHA256, Settings: in.Settings}
	budget := in.Budget
	if budget <= 0 {
		budget = DefaultBudget
	}
	deadline := time.Now().Add(budget)
	lin := Linearizability{Verdict: VerdictOK}
	if in.Model != "" || len(in.History) > 0 {
		var err error
		if lin, err = checkLinearizable(in.Model, in.History, deadline); err != nil {
			return Summary{}, err
		}
	}
	an := Analyze(in.Model, in.History, deadline)
	st := walkStages(in.Trace, len(an.Lost) > 0 || len(lin.Keys) > 0)
	if s.Failovers = st.fo.failovers(in.Trace, in.History); s.Failovers == nil {
		s.Failovers = []Failover{}
	}
	s.Check = judgeHistory(lin, an, st.tl)
	s.Expectations = expectations(in, s, st)
	s.Invariants, s.Convergence = invariants(in, st)
	s.Recovery = st.rec.recovery()
	if len(in.History) > 0 {
		s.Downtime = Downtime(in.Trace, in.History, in.EndMs)
	}
	s.OK = len(s.Invariants) == 0
	for _, e := range s.Expectations {
		s.OK = s.OK && e.OK
	}
	return s, nil
}

// judgeHistory gathers the history's findings: verdict, lost writes with
// their mechanisms, stale reads, unattributed reads, and each failing key's
// context. A key Porcupine left unknown but with an anomaly (a lost write,
// a stale or an unattributed read) is illegal: the anomaly proves it.
// tl is the trace's timeline (nil: no trace).
func judgeHistory(lin Linearizability, an Anomalies, tl *timeline) CheckSummary {
	lost := make([]history.Op, len(an.Lost))
	for i, l := range an.Lost {
		lost[i] = l.Write
	}
	proven(&lin, an)
	attributed := tl.attributeLost(lost)
	tl.explainKeys(lin.Keys)
	c := CheckSummary{Linearizable: lin.Verdict == VerdictOK, Verdict: lin.Verdict, Ops: lin.Ops,
		Unknown: lin.Unknown, Failed: lin.Failed, LostWrites: len(lost), Lost: clip(lost),
		LostBy: CountByMechanism(attributed), Attributed: clip(attributed),
		StaleReads: len(an.Stale), Stale: clip(an.Stale), Unattributed: len(an.Unattributed),
		UnattributedReads: clip(an.Unattributed), Incomplete: an.Incomplete, Keys: lin.Keys}
	if c.Keys == nil {
		c.Keys = []KeyVerdict{}
	}
	return c
}

// clip keeps the first MaxLostListed of s, never nil (JSON []).
func clip[T any](s []T) []T {
	return append([]T{}, s[:min(len(s), MaxLostListed)]...)
}

// proven turns each unknown key with an anomaly into an illegal one, naming
// the anomaly's ops, and the verdict with it.
func proven(lin *Linearizability, an Anomalies) {
	why := map[string][]history.Op{}
	for _, l := range an.Lost {
		if _, ok := why[l.Write.Key]; !ok {
			why[l.Write.Key] = []history.Op{l.Write, l.Evidence}
		}
	}
	for _, s := range an.Stale {
		if _, ok := why[s.Read.Key]; !ok {
			why[s.Read.Key] = []history.Op{s.Missed, s.Read, s.Later}
		}
	}
	for _, u := range an.Unattributed {
		if _, ok := why[u.Read.Key]; !ok {
			why[u.Read.Key] = []history.Op{u.Read}
		}
	}
	for i := range lin.Keys {
		k := &lin.Keys[i]
		if ops, ok := why[k.Key]; ok && k.Verdict == VerdictUnknown {
			k.Verdict, k.Ops = VerdictIllegal, ops
			k.Reason += "; not linearizable all the same: the lost write, stale read or read that missed a write below proves it"
			lin.Verdict = VerdictIllegal
		}
	}
}

// invariants checks the trace invariants and convergence within the bound.
func invariants(in Input, st *stages) ([]Violation, string) {
	bound := in.ConvergeWithin
	if bound <= 0 && in.Expect.ConvergedWithin != nil {
		bound = *in.Expect.ConvergedWithin
	}
	if bound <= 0 {
		bound = DefaultConvergeWithin
	}
	_, _, converged, _ := st.conv.result(in.Trace)
	vs := st.inv.violations(in.Trace, converged)
	how := "not judged: the scenario expects the cluster not ok at the end (cluster-ok: false)"
	if x := in.Expect.ClusterOK; x == nil || *x || in.ConvergeWithin > 0 {
		// A scenario that says the cluster ends broken (an open slot only an
		// operator can close) has no convergence to hold it to, unless the
		// caller sets a bound anyway.
		var conv []Violation
		conv, how = st.conv.check(in.Trace, bound)
		vs = append(vs, conv...)
	}
	sortViolations(vs)
	if vs == nil {
		vs = []Violation{}
	}
	return vs, how
}

// expectations judges in.Expect, in a fixed order.
func expectations(in Input, s Summary, st *stages) []ExpectResult {
	out := []ExpectResult{}
	x := in.Expect
	if x.FailoverWithin != nil {
		out = append(out, expectFailover(*x.FailoverWithin, s.Failovers))
	}
	if x.Linearizable != nil {
		r := ExpectResult{Name: "linearizable", Want: strconv.FormatBool(*x.Linearizable)}
		switch s.Check.Verdict {
		case VerdictOK:
			r.Got, r.OK = "true", *x.Linearizable
		case VerdictIllegal:
			r.Got, r.OK = fmt.Sprintf("false (%d illegal keys)", len(s.Check.Keys)), !*x.Linearizable
		default:
			r.Got = "unknown (the checker's budget ran out)"
		}
		out = append(out, r)
	}
	if x.ConvergedWithin != nil {
		out = append(out, expectConverged(*x.ConvergedWithin, st.conv, in.Trace))
	}
	if x.MaxLostWrites != nil {
		out = append(out, ExpectResult{Name: "max_lost_writes", Want: "<= " + strconv.Itoa(*x.MaxLostWrites),
			Got: strconv.Itoa(s.Check.LostWrites), OK: s.Check.LostWrites <= *x.MaxLostWrites})
	}
	if x.ClusterOK != nil {
		bad := st.end.notOK()
		r := ExpectResult{Name: "cluster_ok", Want: strconv.FormatBool(*x.ClusterOK), Got: "true"}
		if bad != "" {
			r.Got = "false (" + bad + ")"
		}
		r.OK = (bad == "") == *x.ClusterOK
		out = append(out, r)
	}
	if r, ok := expectAdmin(x.AdminOK, st.admin); ok {
		out = append(out, r)
	}
	return out
}

// expectAdmin judges the admin steps' outcomes (Admin events "<step>: ok…"
// or "<step>: failed: …"). It is judged when want is set or the trace has
// admin steps; nil wants every step ok.
func expectAdmin(want *bool, a adminSteps) (ExpectResult, bool) {
	steps, failed := a.steps, a.failed
	if want == nil && steps == 0 {
		return ExpectResult{}, false
	}
	w := want == nil || *want
	r := ExpectResult{Name: "admin_ok", Want: strconv.FormatBool(w),
		Got: fmt.Sprintf("true (%s, none failed)", plural(steps, "admin step"))}
	if len(failed) > 0 {
		r.Got = fmt.Sprintf("false (%d of %s failed: %s)", len(failed), plural(steps, "admin step"), strings.Join(failed, "; "))
	}
	r.OK = (len(failed) == 0) == w
	return r, true
}

func expectFailover(bound time.Duration, fs []Failover) ExpectResult {
	r := ExpectResult{Name: "failover_within", Want: "<= " + bound.String(), OK: len(fs) > 0}
	if len(fs) == 0 {
		r.Got = "no failover: no master was crashed or isolated"
		return r
	}
	var got []string
	for _, f := range fs {
		if f.PromotedMs == nil {
			got = append(got, f.FailedNode+": never promoted")
			r.OK = false
			continue
		}
		d := time.Duration(*f.PromotedMs) * time.Millisecond
		got = append(got, fmt.Sprintf("%s: %s promoted after %s", f.FailedNode, f.PromotedNode, trace.FormatTime(d)))
		r.OK = r.OK && d <= bound
	}
	r.Got = strings.Join(got, "; ")
	return r
}

func expectConverged(bound time.Duration, c *converger, events []trace.Event) ExpectResult {
	r := ExpectResult{Name: "converged_within", Want: "<= " + bound.String() + " after the last fault or admin step"}
	last, at, ok, why := c.result(events)
	if !ok {
		r.Got = "not converged by the end: " + why
		return r
	}
	r.Got = "converged " + trace.FormatTime(at-last) + " after the last fault or admin step at " + trace.FormatTime(last)
	r.OK = at-last <= bound
	return r
}

// WriteJSON writes s as indented JSON and a newline (summary.json). The
// bytes depend on s alone.
func WriteJSON(w io.Writer, s Summary) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	return enc.Encode(s)
}

// plural is "1 admin step" or "3 admin steps".
func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return strconv.Itoa(n) + " " + what + "s"
}
