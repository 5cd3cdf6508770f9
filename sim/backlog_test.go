package sim

import (
	"strings"
	"testing"

	"github.com/rcsim/rcsim/node/trace"
)

// TestReplBacklogSizeDecidesPSYNC: a replica stopped for 10 s under load
// (its master drops it after repl-timeout, 5 s) reconnects on resume with a
// partial resync when the writes it missed fit repl-backlog-size (1mb), and
// needs a full one when they do not (16kb: the master wrote tens of KB
// meanwhile, more than 16 KiB plus one 20,440-byte block).
func TestReplBacklogSizeDecidesPSYNC(t *testing.T) {
	for _, c := range []struct {
		size, want string
	}{
		{"1mb", "psync partial"},
		{"16kb", "psync full: offset before the backlog"},
	} {
		s := parse(t, `name: b
description: d
duration: 30s
cluster:
  masters: 3
  replicas-per-master: 1
  config: {cluster-node-timeout: 5000, repl-timeout: 5, repl-backlog-size: `+c.size+`}
workload: {kind: register, clients: 4, rate: 1000/s}
faults:
  - at: 5s
    pause: m0r0
    for: 10s
`)
		res, err := Run(s, Options{Seed: 1, KeepTrace: true})
		if err != nil {
			t.Fatal(err)
		}
		var notes []string
		for _, e := range res.Trace {
			if e.Kind == trace.Note && e.Node == "m0" && strings.HasPrefix(e.Value, "psync") && e.At > 15e9 {
				notes = append(notes, e.Value)
			}
		}
		if len(notes) == 0 || !strings.HasPrefix(notes[0], c.want) {
			t.Errorf("repl-backlog-size %s: m0's PSYNC answers after the heal %q, want %q first", c.size, notes, c.want)
		}
	}
}
