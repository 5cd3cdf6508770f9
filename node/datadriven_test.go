package node_test

import (
	"flag"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/cockroachdb/datadriven"

	"github.com/rcsim/rcsim/node"
	"github.com/rcsim/rcsim/node/nodetest"
	"github.com/rcsim/rcsim/node/trace"
)

var update = flag.Bool("update", false, "rewrite the golden output of node/testdata scripts")

// TestScripts runs the message-level scripts in testdata, one behaviour per
// file, over nodetest's hand-driven cluster:
//
//	cluster masters=3 replicas=1 timeout=1000 seed=1   a formed cluster
//	crash m0 | restart m0 | partition m0 m0r0 | heal
//	run for=5s only=pfail,fail                         the node events of the run, filtered by kind
func TestScripts(t *testing.T) {
	if *update {
		_ = flag.Set("rewrite", "true")
	}
	datadriven.Walk(t, "testdata", func(t *testing.T, path string) {
		var c *nodetest.Cluster
		datadriven.RunTest(t, path, func(t *testing.T, d *datadriven.TestData) string {
			if d.Cmd != "cluster" && c == nil {
				d.Fatalf(t, "%s before cluster", d.Cmd)
			}
			switch d.Cmd {
			case "cluster":
				masters, replicas, timeout, seed := 3, 1, 1000, uint64(1)
				d.MaybeScanArgs(t, "masters", &masters)
				d.MaybeScanArgs(t, "replicas", &replicas)
				d.MaybeScanArgs(t, "timeout", &timeout)
				d.MaybeScanArgs(t, "seed", &seed)
				cfg := node.DefaultConfig()
				cfg.NodeTimeout = time.Duration(timeout) * time.Millisecond
				c = nodetest.New(masters, replicas, cfg, seed)
				return ""
			case "crash", "restart", "partition":
				var names []string
				for _, a := range d.CmdArgs {
					names = append(names, a.Key)
				}
				switch {
				case d.Cmd == "partition":
					c.Partition(names...)
				case len(names) != 1:
					d.Fatalf(t, "%s wants one node", d.Cmd)
				case d.Cmd == "crash":
					c.Crash(names[0])
				default:
					c.Restart(names[0])
				}
				return ""
			case "heal":
				c.Heal()
				return ""
			case "run":
				var span, only string
				d.ScanArgs(t, "for", &span)
				d.MaybeScanArgs(t, "only", &only)
				dur, err := time.ParseDuration(span)
				if err != nil {
					d.Fatalf(t, "for: %v", err)
				}
				from := len(c.Events)
				c.RunFor(dur)
				return describe(c.Events[from:], only)
			}
			d.Fatalf(t, "unknown command %q", d.Cmd)
			return ""
		})
	})
}

// describe renders events one a line, keeping the kinds listed in only
// (comma-separated; empty: all).
func describe(events []trace.Event, only string) string {
	keep := map[trace.Kind]bool{}
	for _, k := range strings.Split(only, ",") {
		if k != "" {
			keep[trace.Kind(k)] = true
		}
	}
	var b strings.Builder
	for _, e := range events {
		if len(keep) == 0 || keep[e.Kind] {
			fmt.Fprintln(&b, trace.Describe(e))
		}
	}
	return b.String()
}
