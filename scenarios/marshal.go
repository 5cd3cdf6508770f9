// Marshal writes a scenario back as YAML in the format Parse reads, every
// setting spelled out, so a generated fault schedule is a plain scenario file.
package scenarios

import (
	"bytes"
	"strconv"

	"go.yaml.in/yaml/v3"
)

// Marshal writes s as a scenario file. Parse(name, Marshal(s)) equals s but
// for File and each Fault's Line. Every cluster, network and workload setting
// is written, defaults included; unset expectations and off bugs are not.
func Marshal(s *Scenario) ([]byte, error) {
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(marshalNode(s)); err != nil {
		return nil, err
	}
	if err := enc.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// marshalNode builds the document's top mapping.
func marshalNode(s *Scenario) *yaml.Node {
	top := mapping(false,
		"name", str(s.Name),
		"description", str(s.Description),
		"duration", str(fmtDur(s.Duration)),
		"seed", &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!int", Value: strconv.FormatUint(s.Seed, 10)},
		"cluster", marshalCluster(s.Cluster),
		"network", mapping(false, "latency", marshalLatency(s.Network.Latency)),
		"workload", marshalWorkload(s.Workload))
	if len(s.Faults) > 0 {
		faults := &yaml.Node{Kind: yaml.SequenceNode}
		for _, f := range s.Faults {
			faults.Content = append(faults.Content, marshalFault(f))
		}
		add(top, "faults", faults)
	}
	if len(s.Admin) > 0 {
		admin := &yaml.Node{Kind: yaml.SequenceNode}
		for _, st := range s.Admin {
			admin.Content = append(admin.Content, marshalAdmin(st))
		}
		add(top, "admin", admin)
	}
	if e := marshalExpect(s.Expect); len(e.Content) > 0 {
		add(top, "expect", e)
	}
	bugs := mapping(false)
	for _, sw := range bugSwitches {
		if b := *sw.ptr(&s.Bugs); b {
			add(bugs, sw.name, boolean(b))
		}
	}
	if len(bugs.Content) > 0 {
		add(top, "x-bugs", bugs)
	}
	return top
}

func marshalCluster(c Cluster) *yaml.Node {
	conf := mapping(false)
	for _, cs := range confSettings {
		if cs.intp != nil {
			add(conf, cs.name, integer(*cs.intp(&c.Config)))
		} else {
			add(conf, cs.name, yesNo(*cs.boolp(&c.Config)))
		}
	}
	n := mapping(false,
		"masters", integer(c.Masters),
		"replicas-per-master", integer(c.ReplicasPerMaster))
	if c.Spares > 0 {
		add(n, "spares", integer(c.Spares))
	}
	if !c.Formed {
		add(n, "formed", boolean(false))
	}
	add(n, "config", conf)
	return n
}

func marshalLatency(l Latency) *yaml.Node {
	n := mapping(true, "dist", str(l.Dist))
	for _, key := range latencyFields[l.Dist] {
		add(n, key, str(fmtDur(*latencyField(&l, key))))
	}
	return n
}

func marshalWorkload(w Workload) *yaml.Node {
	n := mapping(false,
		"kind", str(w.Kind),
		"clients", integer(w.Clients),
		"rate", str(strconv.Itoa(w.Rate)+"/s"),
		"keys", integer(w.Keys),
		"timeout", str(fmtDur(w.Timeout)),
		"read-ratio", integer(w.ReadRatio),
		"distribution", str(w.Distribution))
	if w.Distribution == "zipf" {
		add(n, "zipf-exponent", &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!float", Value: fmtMilli(w.ZipfMilli)})
	}
	add(n, "wait", integer(w.Wait))
	add(n, "read-from-replicas", boolean(w.ReadFromReplicas))
	return n
}

func marshalFault(f Fault) *yaml.Node {
	n := mapping(false, "at", str(fmtDur(f.At)))
	switch f.Kind {
	case Crash:
		add(n, "crash", marshalTarget(f.Target))
		add(n, "persist", boolean(f.Persist))
	case Restart:
		add(n, "restart", marshalTarget(f.Target))
	case Partition:
		groups := &yaml.Node{Kind: yaml.SequenceNode, Style: yaml.FlowStyle}
		for _, g := range f.Groups {
			grp := &yaml.Node{Kind: yaml.SequenceNode, Style: yaml.FlowStyle}
			for _, t := range g {
				grp.Content = append(grp.Content, marshalTarget(t))
			}
			groups.Content = append(groups.Content, grp)
		}
		add(n, "partition", groups)
	case Heal:
		add(n, "heal", str("all"))
	default:
		add(n, string(f.Kind), str(""))
	}
	return n
}

func marshalTarget(t Target) *yaml.Node {
	switch {
	case t.MasterOfSlot != nil:
		return mapping(true, "master_of_slot", integer(*t.MasterOfSlot))
	case t.ReplicaOf != nil:
		return mapping(true, "replica_of", marshalTarget(*t.ReplicaOf))
	}
	return str(t.String())
}

func marshalExpect(e Expect) *yaml.Node {
	n := mapping(false)
	if e.FailoverWithin != nil {
		add(n, "failover-within", str(fmtDur(*e.FailoverWithin)))
	}
	if e.Linearizable != nil {
		add(n, "linearizable", boolean(*e.Linearizable))
	}
	if e.ConvergedWithin != nil {
		add(n, "converged-within", str(fmtDur(*e.ConvergedWithin)))
	}
	if e.MaxLostWrites != nil {
		add(n, "max-lost-writes", integer(*e.MaxLostWrites))
	}
	if e.ClusterOK != nil {
		add(n, "cluster-ok", boolean(*e.ClusterOK))
	}
	return n
}

// mapping builds a mapping node from key, value pairs.
func mapping(flow bool, kv ...any) *yaml.Node {
	n := &yaml.Node{Kind: yaml.MappingNode}
	if flow {
		n.Style = yaml.FlowStyle
	}
	for i := 0; i+1 < len(kv); i += 2 {
		add(n, kv[i].(string), kv[i+1].(*yaml.Node))
	}
	return n
}

// add appends key: v to the mapping n.
func add(n *yaml.Node, key string, v *yaml.Node) {
	n.Content = append(n.Content, str(key), v)
}

func str(s string) *yaml.Node { return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: s} }

func integer(i int) *yaml.Node {
	return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!int", Value: strconv.Itoa(i)}
}

func boolean(b bool) *yaml.Node {
	return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!bool", Value: strconv.FormatBool(b)}
}

// yesNo writes a redis.conf boolean as Redis does.
func yesNo(b bool) *yaml.Node {
	v := "no"
	if b {
		v = "yes"
	}
	return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: v}
}
