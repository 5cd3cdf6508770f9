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
		"network", marshalNetwork(s.Network),
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
		if !cs.has(c.Rules) || (cs.since != "" || cs.quiet) && cs.isDefault(c.Config) {
			continue // a later server's setting, and a quiet one, is written only when set
		}
		switch {
		case cs.strp != nil:
			add(conf, cs.name, str(*cs.strp(&c.Config)))
		case cs.intp != nil:
			add(conf, cs.name, integer(*cs.intp(&c.Config)))
		case cs.memp != nil:
			add(conf, cs.name, int64Node(*cs.memp(&c.Config)))
		default:
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
	if c.Rules != "redis-7.0" {
		add(n, "rules", str(c.Rules))
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

func marshalNetwork(nw Network) *yaml.Node {
	n := mapping(false,
		"latency", marshalLatency(nw.Latency),
		"loss", str(nw.Loss.String()),
		"bandwidth", int64Node(nw.Bandwidth),
		"mtu", integer(nw.MTU))
	if nw.SocketBuffer != DefaultSocketBuffer {
		add(n, "socket-buffer", int64Node(nw.SocketBuffer))
	}
	if len(nw.Links) == 0 {
		return n
	}
	links := &yaml.Node{Kind: yaml.SequenceNode}
	for _, o := range nw.Links {
		l := mapping(false, "from", nameList(o.From), "to", nameList(o.To), "directed", boolean(o.Directed))
		if o.Latency != nil {
			add(l, "latency", marshalLatency(*o.Latency))
		}
		if o.Loss != nil {
			add(l, "loss", str(o.Loss.String()))
		}
		if o.Bandwidth != nil {
			add(l, "bandwidth", int64Node(*o.Bandwidth))
		}
		links.Content = append(links.Content, l)
	}
	add(n, "links", links)
	return n
}

func nameList(names []string) *yaml.Node {
	n := &yaml.Node{Kind: yaml.SequenceNode, Style: yaml.FlowStyle}
	for _, s := range names {
		n.Content = append(n.Content, str(s))
	}
	return n
}

func int64Node(i int64) *yaml.Node {
	return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!int", Value: strconv.FormatInt(i, 10)}
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
	if f.Jitter != 0 {
		add(n, "jitter", str(fmtDur(f.Jitter)))
	}
	if f.ID != "" {
		add(n, "id", str(f.ID))
	}
	if f.For != 0 {
		add(n, "for", str(fmtDur(f.For)))
	}
	switch f.Kind {
	case Crash:
		add(n, "crash", marshalTarget(f.Target))
		add(n, "persist", boolean(f.Persist))
		if f.PowerLoss {
			add(n, "power-loss", boolean(true))
		}
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
	case Pause, Resume:
		add(n, string(f.Kind), marshalTarget(f.Target))
	case OneWay, Flap, Loss, Reset:
		add(n, string(f.Kind), marshalLinkFault(f))
	case Slow:
		add(n, "slow", mapping(true, "node", marshalTarget(f.Target), "delay", str(fmtDur(f.Delay))))
	case Clock:
		c := mapping(true, "node", marshalTarget(f.Target))
		if f.Jump != 0 {
			add(c, "jump", str(fmtDur(f.Jump)))
		} else {
			add(c, "drift", str(strconv.Itoa(f.DriftPct)+"%"))
		}
		add(n, "clock", c)
	case End:
		add(n, "end", str(f.EndID))
	default:
		add(n, string(f.Kind), str(""))
	}
	return n
}

func marshalLinkFault(f Fault) *yaml.Node {
	n := mapping(true, "from", targetList(f.From), "to", targetList(f.To))
	switch f.Kind {
	case Flap:
		add(n, "period", str(fmtDur(f.Period)))
		add(n, "duty", str(strconv.Itoa(f.DutyPct)+"%"))
		add(n, "directed", boolean(f.Directed))
	case Loss:
		add(n, "ratio", str(f.Ratio.String()))
		add(n, "directed", boolean(f.Directed))
	}
	return n
}

func targetList(ts []Target) *yaml.Node {
	n := &yaml.Node{Kind: yaml.SequenceNode, Style: yaml.FlowStyle}
	for _, t := range ts {
		n.Content = append(n.Content, marshalTarget(t))
	}
	return n
}

func marshalTarget(t Target) *yaml.Node {
	switch {
	case t.Masters != nil && t.Masters.Percent > 0:
		return mapping(true, "masters", str(t.Masters.String()))
	case t.Masters != nil:
		return mapping(true, "masters", integer(t.Masters.Count))
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
	if e.AdminOK != nil {
		add(n, "admin-ok", boolean(*e.AdminOK))
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

// GoString renders s as its scenario file, so %#v (which rapid uses to log
// every drawn value) prints YAML a person can read and save rather than a
// Go struct of pointers.
func (s Scenario) GoString() string {
	data, err := Marshal(&s)
	if err != nil {
		return "scenario " + strconv.Quote(s.Name) + " (not marshalable: " + err.Error() + ")"
	}
	return "scenario file:\n" + string(data)
}
