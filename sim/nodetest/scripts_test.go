package nodetest_test

import (
	"flag"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/cockroachdb/datadriven"

	"github.com/rcsim/rcsim/node"
	"github.com/rcsim/rcsim/node/trace"
	"github.com/rcsim/rcsim/sim/nodetest"
	"github.com/rcsim/rcsim/sim/simtest"
)

// TestScripts runs the node's message-level scripts in node/testdata, one
// behaviour per file, over a hand-driven cluster run by the kernel:
//
//	cluster masters=3 replicas=1 timeout=1000 seed=1 [empty] [conf=k:v,k:v]
//	                                 a formed cluster (empty: lone, slotless nodes)
//	crash m0 | restart m0 | pause m0 | resume m0
//	partition m0 m0r0 | cut m0 m1 | oneway m0 m1 | heal
//	cluster-cmd m0 MEET <addr of m1>   CLUSTER … on m0; {addr:m1} and {id:m1}
//	                                   are replaced by m1's address and node ID
//	run for=5s only=pfail,fail         the node events of the run, filtered by kind
func TestScripts(t *testing.T) {
	if *simtest.Update {
		_ = flag.Set("rewrite", "true")
	}
	datadriven.Walk(t, "../../node/testdata", func(t *testing.T, path string) {
		var c *nodetest.Cluster
		datadriven.RunTest(t, path, func(t *testing.T, d *datadriven.TestData) string {
			if d.Cmd != "cluster" && c == nil {
				d.Fatalf(t, "%s before cluster", d.Cmd)
			}
			switch d.Cmd {
			case "cluster":
				c = newCluster(t, d)
				return ""
			case "crash", "restart", "pause", "resume", "partition", "cut", "oneway", "heal":
				nodeOp(t, d, c)
				return ""
			case "cluster-cmd":
				if len(d.CmdArgs) < 2 {
					d.Fatalf(t, "cluster-cmd wants a node and a CLUSTER subcommand")
				}
				var words []string
				for _, a := range d.CmdArgs[1:] {
					words = append(words, expand(c, a.String()))
				}
				r := c.Cluster(d.CmdArgs[0].Key, strings.Join(words, " "))
				if r.Kind == node.ReplyError {
					return "error: " + r.Err + "\n"
				}
				return "ok\n"
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

func newCluster(t *testing.T, d *datadriven.TestData) *nodetest.Cluster {
	masters, replicas, timeout, seed := 3, 1, 1000, uint64(1)
	d.MaybeScanArgs(t, "masters", &masters)
	d.MaybeScanArgs(t, "replicas", &replicas)
	d.MaybeScanArgs(t, "timeout", &timeout)
	d.MaybeScanArgs(t, "seed", &seed)
	conf := nodetest.Conf{"cluster-node-timeout": fmt.Sprint(timeout)}
	if d.HasArg("conf") {
		var kvs string
		d.ScanArgs(t, "conf", &kvs)
		for _, kv := range strings.Split(kvs, ",") {
			k, v, ok := strings.Cut(kv, ":")
			if !ok {
				d.Fatalf(t, "conf: %q is not key:value", kv)
			}
			conf[k] = v
		}
	}
	if d.HasArg("empty") {
		return nodetest.NewEmpty(masters, replicas, conf, seed)
	}
	return nodetest.New(masters, replicas, conf, seed)
}

func nodeOp(t *testing.T, d *datadriven.TestData, c *nodetest.Cluster) {
	var names []string
	for _, a := range d.CmdArgs {
		names = append(names, a.Key)
	}
	want := map[string]int{"crash": 1, "restart": 1, "pause": 1, "resume": 1, "cut": 2, "oneway": 2, "heal": 0}
	if n, ok := want[d.Cmd]; ok && len(names) != n {
		d.Fatalf(t, "%s wants %d nodes", d.Cmd, n)
	}
	switch d.Cmd {
	case "crash":
		c.Crash(names[0])
	case "restart":
		c.Restart(names[0])
	case "pause":
		c.Pause(names[0])
	case "resume":
		c.Resume(names[0])
	case "partition":
		c.Partition(names...)
	case "cut":
		c.Cut(names[0], names[1])
	case "oneway":
		c.OneWay(names[0], names[1])
	case "heal":
		c.Heal()
	}
}

// expand replaces {addr:NAME} and {id:NAME} in a word of a CLUSTER command.
func expand(c *nodetest.Cluster, w string) string {
	for _, h := range c.Hosts {
		w = strings.ReplaceAll(w, "{addr:"+h.Name+"}", strings.Replace(h.Addr, ":", " ", 1))
		w = strings.ReplaceAll(w, "{id:"+h.Name+"}", string(h.ID))
	}
	return w
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
