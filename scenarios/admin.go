// The admin list: cluster administration steps that do what redis-cli
// --cluster reshard, rebalance, add-node, del-node and CLUSTER FAILOVER do,
// at virtual times, alongside the faults. Each item is `at` plus exactly one
// step; node names are checked against the cluster's.
package scenarios

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// AdminKind names an admin step.
type AdminKind string

// Admin step kinds.
const (
	Reshard   AdminKind = "reshard"   // move Slots slots From → To (redis-cli --cluster reshard)
	Rebalance AdminKind = "rebalance" // even out slots by Weights (redis-cli --cluster rebalance)
	Failover  AdminKind = "failover"  // CLUSTER FAILOVER [FORCE|TAKEOVER] on Node, a replica
	AddNode   AdminKind = "add_node"  // join spare Node as an empty master, or as a replica of Master
	DelNode   AdminKind = "del_node"  // make every node forget Node, which must own no slots
	Create    AdminKind = "create"    // form the cluster from unjoined nodes (cluster.formed: false)
)

var adminKinds = []AdminKind{Reshard, Rebalance, Failover, AddNode, DelNode, Create}

// Admin defaults, redis-cli's own where it has one.
const (
	DefaultBatch     = 10 // CLUSTER_MANAGER_MIGRATE_PIPELINE: keys per GETKEYSINSLOT and MIGRATE
	DefaultThreshold = 2  // CLUSTER_MANAGER_REBALANCE_THRESHOLD, percent
)

// AdminStep is one scheduled administration step. The admin client sends
// its commands one at a time, each after the previous reply and Pace.
type AdminStep struct {
	At        time.Duration
	Kind      AdminKind
	From, To  string        // reshard: source and target masters
	Slots     int           // reshard: how many slots (the source's lowest)
	Batch     int           // reshard, rebalance: keys per MIGRATE (--cluster-pipeline)
	Pace      time.Duration // every step: pause before each command
	Weights   []Weight      // rebalance: non-default weights, sorted by node
	UseEmpty  bool          // rebalance: give slots to masters that have none (--cluster-use-empty-masters)
	Threshold int           // rebalance: percent of imbalance below which nothing moves
	Node      string        // failover: the replica; add_node, del_node: the node
	Master    string        // add_node: join as a replica of this master ("" = as a master)
	Mode      string        // failover: "" (coordinated), "force" or "takeover"
	Line      int           // line in the scenario file, for messages
}

// Weight is a rebalance weight (--cluster-weight node=w).
type Weight struct {
	Node   string
	Weight int
}

var adminFields = append([]string{"at"}, "reshard", "rebalance", "failover", "add_node", "del_node", "create")

var stepFields = map[AdminKind][]string{
	Reshard:   {"from", "to", "slots", "batch", "pace"},
	Rebalance: {"weights", "use-empty-masters", "threshold", "batch", "pace"},
	Failover:  {"node", "mode", "pace"},
	AddNode:   {"node", "master", "pace"},
	DelNode:   {"node", "pace"},
	Create:    {"pace"},
}

// admin reads the list and sorts it stably by At.
func (p *parser) admin(n *yaml.Node, s *Scenario, limit time.Duration) []AdminStep {
	items, ok := p.list(n, "admin")
	if !ok {
		return nil
	}
	var out []AdminStep
	for i, it := range items {
		if st, ok := p.adminStep(it, fmt.Sprintf("admin[%d]", i), s, limit); ok {
			out = append(out, st)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].At < out[j].At })
	return out
}

// adminStep reads one item: at plus one step.
func (p *parser) adminStep(n *yaml.Node, path string, s *Scenario, limit time.Duration) (AdminStep, bool) {
	st := AdminStep{Line: n.Line, Batch: DefaultBatch, Threshold: DefaultThreshold}
	m := p.fields(n, path, adminFields, nil)
	if m == nil {
		return st, false
	}
	ok := true
	if v := m["at"]; v == nil {
		p.add(n.Line, path+".at", "required")
		ok = false
	} else if st.At, ok = p.duration(v, path+".at", 0); ok && limit >= 0 && st.At > limit {
		p.add(v.Line, path+".at", fmt.Sprintf("%s is after the end of the run (duration %s)", fmtDur(st.At), fmtDur(limit)))
		ok = false
	}
	var kinds []string
	for _, k := range adminKinds {
		if m[string(k)] != nil {
			kinds = append(kinds, string(k))
		}
	}
	if len(kinds) != 1 {
		if len(kinds) == 0 {
			p.add(n.Line, path, "want one step: reshard, rebalance, failover, add_node, del_node or create")
		} else {
			p.add(n.Line, path, "has "+strings.Join(kinds, " and ")+": one step per item")
		}
		return st, false
	}
	st.Kind = AdminKind(kinds[0])
	return st, p.stepBody(&st, m[kinds[0]], path+"."+kinds[0], s) && ok
}

// stepBody reads the mapping of one step.
func (p *parser) stepBody(st *AdminStep, v *yaml.Node, path string, s *Scenario) bool {
	m := p.fields(v, path, stepFields[st.Kind], nil)
	if m == nil {
		return false
	}
	ok := true
	need := func(key string) *yaml.Node {
		if m[key] == nil {
			p.add(v.Line, path+"."+key, "required")
			ok = false
		}
		return m[key]
	}
	node := func(key string) string {
		x := m[key]
		if x == nil {
			return ""
		}
		name, good := p.nodeName(x, path+"."+key, s)
		ok = ok && good
		return name
	}
	if x := m["pace"]; x != nil {
		var good bool
		st.Pace, good = p.duration(x, path+".pace", 0)
		ok = ok && good
	}
	if x := m["batch"]; x != nil {
		var good bool
		st.Batch, good = p.integer(x, path+".batch", 1, 1000)
		ok = ok && good
	}
	switch st.Kind {
	case Reshard:
		need("from")
		need("to")
		st.From, st.To = node("from"), node("to")
		if x := need("slots"); x != nil {
			var good bool
			st.Slots, good = p.integer(x, path+".slots", 1, maxSlot+1)
			ok = ok && good
		}
		if st.From != "" && st.From == st.To {
			p.add(v.Line, path+".to", "same node as from")
			ok = false
		}
	case Rebalance:
		ok = p.rebalanceBody(st, m, path, s) && ok
	case Failover:
		need("node")
		st.Node = node("node")
		if x := m["mode"]; x != nil {
			mode, good := p.text(x, path+".mode")
			mode = strings.ToLower(mode) // as redis-cli users type it: FORCE or force
			if good && mode != "force" && mode != "takeover" {
				p.add(x.Line, path+".mode", "want force or takeover, got "+quote(mode))
				good = false
			}
			st.Mode, ok = mode, ok && good
		}
	case Create:
		if s.Cluster.Formed {
			p.add(v.Line, path, "the cluster starts formed: set cluster.formed: false to create it")
			ok = false
		}
	case AddNode, DelNode:
		need("node")
		st.Node = node("node")
		st.Master = node("master")
		if st.Kind == AddNode && st.Node != "" && !slices.Contains(s.Cluster.SpareNames(), st.Node) {
			p.add(m["node"].Line, path+".node", fmt.Sprintf("%s is already in the cluster; add_node takes a spare (have %s)",
				quote(st.Node), spareList(s)))
			ok = false
		}
	}
	return ok
}

// rebalanceBody reads weights, use-empty-masters and threshold.
func (p *parser) rebalanceBody(st *AdminStep, m map[string]*yaml.Node, path string, s *Scenario) bool {
	ok := true
	if x := m["weights"]; x != nil {
		wm := p.fields(x, path+".weights", s.Cluster.NodeNames(), []string{"node names"})
		keys := make([]string, 0, len(wm))
		for k := range wm {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			w, good := p.integer(wm[k], path+".weights."+k, 0, 1000)
			ok = ok && good
			st.Weights = append(st.Weights, Weight{Node: k, Weight: w})
		}
		ok = ok && wm != nil
	}
	if x := m["use-empty-masters"]; x != nil {
		var good bool
		st.UseEmpty, good = p.boolean(x, path+".use-empty-masters")
		ok = ok && good
	}
	if x := m["threshold"]; x != nil {
		var good bool
		st.Threshold, good = p.integer(x, path+".threshold", 0, 100)
		ok = ok && good
	}
	return ok
}

// nodeName reads a node name of the cluster, spares included.
func (p *parser) nodeName(v *yaml.Node, path string, s *Scenario) (string, bool) {
	name, ok := p.text(v, path)
	if !ok {
		return "", false
	}
	names := s.Cluster.NodeNames()
	if slices.Contains(names, name) {
		return name, true
	}
	p.add(v.Line, path, fmt.Sprintf("no node %s (have %s)", quote(name), have(names)))
	return "", false
}

func spareList(s *Scenario) string {
	if sp := s.Cluster.SpareNames(); len(sp) > 0 {
		return strings.Join(sp, " ")
	}
	return "none: set cluster.spares"
}

// marshalAdmin writes one step in the form adminStep reads.
func marshalAdmin(st AdminStep) *yaml.Node {
	body := mapping(true)
	switch st.Kind {
	case Reshard:
		add(body, "from", str(st.From))
		add(body, "to", str(st.To))
		add(body, "slots", integer(st.Slots))
		add(body, "batch", integer(st.Batch))
	case Rebalance:
		w := mapping(true)
		for _, x := range st.Weights {
			add(w, x.Node, integer(x.Weight))
		}
		add(body, "weights", w)
		add(body, "use-empty-masters", boolean(st.UseEmpty))
		add(body, "threshold", integer(st.Threshold))
		add(body, "batch", integer(st.Batch))
	case Failover:
		add(body, "node", str(st.Node))
		if st.Mode != "" {
			add(body, "mode", str(st.Mode))
		}
	case AddNode, DelNode:
		add(body, "node", str(st.Node))
		if st.Master != "" {
			add(body, "master", str(st.Master))
		}
	}
	add(body, "pace", str(fmtDur(st.Pace))) // create has nothing else
	return mapping(false, "at", str(fmtDur(st.At)), string(st.Kind), body)
}

// AdminNames is ["admin"] when the scenario has admin steps: the admin
// client is an endpoint a partition can name, like a workload client.
func (s *Scenario) AdminNames() []string {
	if len(s.Admin) == 0 {
		return nil
	}
	return []string{"admin"}
}
