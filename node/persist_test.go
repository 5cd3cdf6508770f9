package node

import (
	"strings"
	"testing"
	"time"

	"github.com/rcsim/rcsim/node/trace"
)

// write applies a client SET at now the way processCommand does.
func (n *Node) write(now time.Duration, key string) {
	n.at(now, func() {
		w := Write{Op: OpSet, Key: key, Value: "v"}
		n.db.apply(w)
		n.propagate(w, false)
	})
}

// ticks runs the cron every CronPeriod in [from, to] and returns the notes
// it emitted, with their times.
func (n *Node) ticks(from, to time.Duration) []string {
	var notes []string
	for t := from; t <= to; t += CronPeriod {
		out := &Output{}
		n.Tick(t, out)
		for _, e := range out.Events {
			if e.Kind == trace.Note {
				notes = append(notes, trace.FormatTime(t)+" "+e.Value)
			}
		}
	}
	return notes
}

// TestSavePointStartsBgsave: serverCron starts a BGSAVE once a save point's
// changes are in and more whole seconds than its seconds have passed since
// lastsave; the snapshot is the keyspace at the fork, on disk once the
// child is done (next cron), and the changes after the fork stay dirty.
func TestSavePointStartsBgsave(t *testing.T) {
	cfg := testCfg()
	cfg.Save = []SavePoint{{Seconds: 2, Changes: 3}}
	n := mk(t, cfg, tid(1))
	n.ticks(0, 0)
	for i, at := range []time.Duration{500, 600, 700} {
		n.write(at*time.Millisecond, "k"+string(rune('a'+i)))
	}
	if notes := n.ticks(100*time.Millisecond, 2900*time.Millisecond); len(notes) != 0 {
		t.Fatalf("saved before unixtime-lastsave > 2: %q", notes)
	}
	if d := n.DataOnDisk(false); d.Source != "" {
		t.Fatalf("disk has %+v before any save", d)
	}
	notes := n.ticks(3000*time.Millisecond, 3000*time.Millisecond)
	n.write(3050*time.Millisecond, "late")
	notes = append(notes, n.ticks(3100*time.Millisecond, 3100*time.Millisecond)...)
	want := []string{"3.000s bgsave start: 3 changes in 2 seconds", "3.100s bgsave done: keys=3"}
	if strings.Join(notes, "|") != strings.Join(want, "|") {
		t.Fatalf("notes %q, want %q", notes, want)
	}
	d := n.DataOnDisk(true)
	if d.Source != "rdb" || d.Through != 3*time.Second || len(d.Keys) != 3 {
		t.Fatalf("disk has %+v, want the 3 keys of the fork at 3s", d)
	}
	if n.disk.dirty != 1 {
		t.Fatalf("dirty %d after the save, want 1 (the write after the fork)", n.disk.dirty)
	}
}

// TestAppendFsyncPolicies: what a crash leaves of four writes (at 0.2, 0.5,
// 1.3 and 1.6 s) under each appendfsync. A killed process loses nothing
// written (the page cache survives); a power loss keeps what was fsynced:
// everything with always, up to the first flush in second 1 with
// everysec, nothing with no before the writeback period.
func TestAppendFsyncPolicies(t *testing.T) {
	for _, tc := range []struct {
		name      string
		fsync     Fsync
		powerLoss int // keys left after a power loss at 1.7 s
	}{
		{"everysec", FsyncEverySec, 3},
		{"always", FsyncAlways, 4},
		{"no", FsyncNo, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := testCfg()
			cfg.AppendOnly, cfg.AppendFsync, cfg.Save = true, tc.fsync, nil
			n := mk(t, cfg, tid(1))
			n.ticks(0, 0)
			for i, ms := range []time.Duration{200, 500, 1300, 1600} {
				n.write(ms*time.Millisecond, "k"+string(rune('a'+i)))
			}
			if d := n.DataOnDisk(false); d.Source != "aof" || len(d.Keys) != 4 {
				t.Fatalf("killed process: disk has %d keys from %q, want 4 from the AOF", len(d.Keys), d.Source)
			}
			if d := n.DataOnDisk(true); d.Source != "aof" || len(d.Keys) != tc.powerLoss {
				t.Fatalf("power loss: disk has %d keys from %q, want %d", len(d.Keys), d.Source, tc.powerLoss)
			}
		})
	}
}

// TestDisklessSyncWaitsForTheDelay: a full resync asked for at 0.5 s forks
// at the first replicationCron (every 10th cron: here at 1.5 s, 2.5 s, …)
// where the replica has waited repl-diskless-sync-delay whole seconds
// (unixtime − lastinteraction ≥ 5): 5.5 s; with the delay 0 it forks at
// once (syncCommand); with repl-diskless-sync-max-replicas 1 the one
// waiting replica is enough at the first replicationCron.
func TestDisklessSyncWaitsForTheDelay(t *testing.T) {
	for _, tc := range []struct {
		name    string
		delay   time.Duration
		maxRepl int
		want    string
	}{
		{"delay 5", 5 * time.Second, 0, "5.500s"},
		{"delay 0", 0, 0, "0.500s"},
		{"max replicas 1", 5 * time.Second, 1, "1.500s"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := testCfg()
			cfg.ReplDisklessSyncDelay, cfg.ReplDisklessSyncMaxReplicas = tc.delay, tc.maxRepl
			n := mk(t, cfg, tid(1))
			n.ticks(0, 0)
			conn := ConnID{Dialer: tid(4), Peer: tid(1), N: 1, Repl: true}
			var notes []string
			out := n.at(500*time.Millisecond, func() { n.syncCommand(conn, &Repl{ReplID: "x", Offset: 0}) })
			for _, e := range out.Events {
				if strings.HasPrefix(e.Value, "fullsync fork") {
					notes = append(notes, "0.500s "+e.Value)
				}
			}
			for t := 600 * time.Millisecond; t <= 7*time.Second; t += CronPeriod {
				out := &Output{}
				n.Tick(t, out)
				for _, e := range out.Events {
					if strings.HasPrefix(e.Value, "fullsync fork") {
						notes = append(notes, trace.FormatTime(t)+" "+e.Value)
					}
				}
			}
			if len(notes) != 1 || !strings.HasPrefix(notes[0], tc.want+" fullsync fork: replicas=1") {
				t.Fatalf("forks %q, want one at %s", notes, tc.want)
			}
		})
	}
}
