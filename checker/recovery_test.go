package checker

import (
	"testing"
	"time"

	"github.com/rcsim/rcsim/node/trace"
)

// TestRecoveryOf: recovery_ms runs from the first PFAIL after the fault to
// the first moment every live member is ok and every slot owner is live;
// per master, the promotion time and the elections of its replicas.
func TestRecoveryOf(t *testing.T) {
	ms := func(v int) time.Duration { return time.Duration(v) * time.Millisecond }
	ev := func(at int, kind trace.Kind, node, peer, value string) trace.Event {
		e := trace.Event{At: ms(at), Kind: kind, Node: node, Peer: peer, Value: value}
		trace.Decode(&e) // the typed fields, as the kernel emits them and Read restores them
		return e
	}
	boot := []trace.Event{
		ev(0, trace.Boot, "m0", "", "master 0-5000"), ev(0, trace.Boot, "m1", "", "master 5001-10000"),
		ev(0, trace.Boot, "m2", "", "master 10001-16383"),
		ev(0, trace.Boot, "m0r0", "m0", "replica"), ev(0, trace.Boot, "m1r0", "m1", "replica"),
		ev(0, trace.Boot, "m2r0", "m2", "replica"), ev(0, trace.Boot, "s0", "", "alone"),
	}
	for _, n := range []string{"m0", "m1", "m2", "m0r0", "m1r0", "m2r0"} {
		boot = append(boot, ev(2000, trace.State, n, "", "ok"))
	}
	crash := append(boot[:len(boot):len(boot)],
		ev(10000, trace.Crash, "m0", "", "persist"), ev(10000, trace.Crash, "m1", "", "persist"),
		ev(15000, trace.PFail, "m2", "m0", ""),
		ev(16000, trace.State, "m2", "", "fail"),
		ev(17000, trace.ElectionStart, "m0r0", "", ""), ev(18000, trace.ElectionStart, "m0r0", "", ""),
		ev(18500, trace.Promoted, "m0r0", "m0", "0-5000"),
		ev(19000, trace.ElectionStart, "m1r0", "", ""), ev(19500, trace.Promoted, "m1r0", "m1", "5001-10000"),
		ev(20000, trace.ElectionStart, "m1r0", "", ""), // after its promotion: not counted
		ev(21000, trace.State, "m2", "", "ok"),
	)
	r := RecoveryOf(crash)
	if r == nil || r.RecoveryMs == nil {
		t.Fatalf("no recovery: %+v", r)
	}
	if r.FaultMs != 10000 || r.FirstPFailMs != 15000 || *r.RecoveryMs != 6000 || r.Unrecovered != 0 {
		t.Errorf("fault %d pfail %d recovery %d unrecovered %d, want 10000 15000 6000 0",
			r.FaultMs, r.FirstPFailMs, *r.RecoveryMs, r.Unrecovered)
	}
	if len(r.Masters) != 2 || r.Masters[0].Master != "m0" || *r.Masters[0].PromotedMs != 8500 ||
		r.Masters[0].Elections != 2 || r.Masters[1].Promoted != "m1r0" || r.Masters[1].Elections != 1 {
		t.Errorf("masters %+v", r.Masters)
	}

	// Without m1's promotion its slots stay on a dead master: no recovery,
	// one shard unrecovered.
	var stuck []trace.Event
	for _, e := range crash {
		if e.Node != "m1r0" {
			stuck = append(stuck, e)
		}
	}
	r = RecoveryOf(stuck)
	if r.RecoveryMs != nil || r.Unrecovered != 1 || r.Masters[1].PromotedMs != nil {
		t.Errorf("stuck: recovery %v unrecovered %d masters %+v", r.RecoveryMs, r.Unrecovered, r.Masters)
	}

	if r := RecoveryOf(boot); r != nil {
		t.Errorf("no fault: %+v", r)
	}
}
