package explore

import (
	"testing"
	"time"

	"github.com/rcsim/rcsim/checker"
	"github.com/rcsim/rcsim/node/trace"
	"github.com/rcsim/rcsim/sim"
)

// lostRun runs master-and-replica-lost with the settings applied and
// returns the judged summary, the crash time of m0 and the dataset m0's
// restart loaded.
func lostRun(t *testing.T, sets ...string) (checker.CheckSummary, time.Duration, trace.Detail) {
	t.Helper()
	s := builtin(t, "master-and-replica-lost")
	for i := 0; i+1 < len(sets); i += 2 {
		if err := s.Set(sets[i], sets[i+1]); err != nil {
			t.Fatal(err)
		}
	}
	res, err := sim.Run(s, sim.Options{Seed: 7, KeepTrace: true})
	if err != nil {
		t.Fatal(err)
	}
	sum, err := Check(s, res, 0)
	if err != nil {
		t.Fatal(err)
	}
	var crash time.Duration
	var loaded trace.Detail
	for _, e := range res.Trace {
		switch {
		case e.Kind == trace.Crash && e.Node == "m0":
			crash = e.At
		case e.Kind == trace.Restart && e.Node == "m0" && e.Detail != nil:
			loaded = *e.Detail
		}
	}
	return sum.Check, crash, loaded
}

// TestAOFPowerLossLosesAtMostTheLastSecond is issue 15's check: with
// appendonly yes (appendfsync everysec) a shard whose master and replica
// both lose power loses only writes acknowledged in the last second before
// the crash (flushAppendOnlyFile fsyncs once the second changed), each
// attributed to the missing fsync.
func TestAOFPowerLossLosesAtMostTheLastSecond(t *testing.T) {
	sum, crash, loaded := lostRun(t, "appendonly", "yes", "faults[0].power-loss", "true", "faults[1].power-loss", "true")
	if loaded.Source != "aof" || loaded.Through < crash-time.Second {
		t.Fatalf("m0 restarted from %+v; want its AOF, fsynced within a second of the crash at %v", loaded, crash)
	}
	if sum.LostWrites == 0 {
		t.Fatal("no lost write: the unfsynced second should be lost")
	}
	for _, l := range sum.Attributed {
		if l.Op.Return <= crash-time.Second {
			t.Errorf("lost a write acknowledged at %v, more than a second before the crash at %v", l.Op.Return, crash)
		}
		if l.Mechanism != checker.NotFsynced {
			t.Errorf("lost write attributed to %s (%s), want %s", l.Mechanism, l.Detail, checker.NotFsynced)
		}
	}
}

// TestAOFProcessKillLosesNothing: the same crash as a killed process: what
// Redis wrote before replying is in the page cache, which survives, so no
// acknowledged write is lost.
func TestAOFProcessKillLosesNothing(t *testing.T) {
	sum, crash, loaded := lostRun(t, "appendonly", "yes")
	if loaded.Source != "aof" || loaded.Through > crash || loaded.Through < crash-100*time.Millisecond {
		t.Fatalf("m0 restarted from %+v; want its AOF as of its last event before the crash at %v", loaded, crash)
	}
	if sum.LostWrites != 0 {
		t.Fatalf("lost %d acknowledged writes, e.g. %+v", sum.LostWrites, sum.Attributed[0])
	}
}

// TestDefaultSavePointsLoseWhatCameAfterTheSnapshot: with the default save
// points and no AOF, the shard lost at 320 s comes back from the last
// snapshot a save point took (at 200 writes/s over three masters the
// "60 10000" one is met first, a few minutes in): what was acknowledged
// after it is lost (and attributed to it), nothing before it.
func TestDefaultSavePointsLoseWhatCameAfterTheSnapshot(t *testing.T) {
	// faults[1] first: Set re-sorts the faults by time.
	sum, crash, loaded := lostRun(t, "duration", "400s", "faults[1].at", "320s", "faults[0].at", "320s")
	if crash != 320*time.Second {
		t.Fatalf("m0 crashed at %v", crash)
	}
	if loaded.Source != "rdb" || loaded.Through < 60*time.Second || loaded.Through >= crash {
		t.Fatalf("m0 restarted from %+v; want a snapshot a save point took before the crash", loaded)
	}
	if sum.LostWrites == 0 {
		t.Fatal("no lost write: writes after the snapshot should be lost")
	}
	for _, l := range sum.Attributed {
		if l.Op.Return <= loaded.Through {
			t.Errorf("lost a write acknowledged at %v, before the snapshot at %v", l.Op.Return, loaded.Through)
		}
		if l.Mechanism != checker.AfterLastSnapshot {
			t.Errorf("lost write attributed to %s (%s), want %s", l.Mechanism, l.Detail, checker.AfterLastSnapshot)
		}
	}
}

// TestNoSnapshotYetLosesEverything: the built-in as it is: 10 s into the
// run no save point was met, so the shard comes back empty.
func TestNoSnapshotYetLosesEverything(t *testing.T) {
	sum, _, loaded := lostRun(t)
	if loaded.Source != "" {
		t.Fatalf("m0 restarted from %+v; want nothing on disk", loaded)
	}
	if sum.LostWrites == 0 || sum.LostBy[checker.ResyncDiscarded] != sum.LostWrites {
		t.Fatalf("lost %d, by mechanism %v; want all resync_discarded", sum.LostWrites, sum.LostBy)
	}
}
