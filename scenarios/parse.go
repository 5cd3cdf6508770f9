// Parse turns scenario YAML into a validated Scenario by walking the yaml.v3
// node tree itself, so that every problem carries file, line and field path.

package scenarios

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// Parse reads one scenario from data; name is the file name used in error
// messages and stored in File. Bad input gives an *Error listing every
// problem found; Parse never panics.
func Parse(name string, data []byte) (s *Scenario, err error) {
	p := &parser{problems: problems{file: name}}
	defer func() {
		if r := recover(); r != nil {
			p.add(1, "", fmt.Sprintf("cannot parse: %v", r))
			s, err = nil, p.err()
		}
	}()
	root, ok := p.document(data)
	if !ok {
		return nil, p.err()
	}
	s = p.scenario(root)
	s.File = name
	if err := p.err(); err != nil {
		return nil, err
	}
	return s, nil
}

var yamlLine = regexp.MustCompile(`^(?:yaml: )?line (\d+): (.*)$`)

// document decodes data into a node tree and returns its top node.
func (p *parser) document(data []byte) (*yaml.Node, bool) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			p.add(1, "", "empty file (want a mapping with name, description, duration, …)")
		} else {
			p.yamlError(err)
		}
		return nil, false
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err == nil {
		p.add(extra.Line, "", "more than one YAML document (want exactly one)")
	} else if !errors.Is(err, io.EOF) {
		p.yamlError(err)
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) != 1 {
		p.add(doc.Line, "", "want a mapping with name, description, duration, …")
		return nil, false
	}
	return doc.Content[0], true
}

// yamlError records a syntax error from yaml.v3, keeping its line.
func (p *parser) yamlError(err error) {
	for _, msg := range strings.Split(err.Error(), "\n") {
		msg = strings.TrimSpace(msg)
		if msg == "" || msg == "yaml: unmarshal errors:" {
			continue
		}
		line := 1
		if m := yamlLine.FindStringSubmatch(msg); m != nil {
			line, _ = strconv.Atoi(m[1])
			msg = m[2]
		}
		p.add(line, "", "bad YAML: "+strings.TrimPrefix(msg, "yaml: "))
	}
}

var topFields = []string{"name", "description", "duration", "seed", "cluster", "network",
	"workload", "faults", "admin", "expect", "x-bugs"}

var namePattern = regexp.MustCompile(`^[a-z0-9-]+$`)

// scenario reads the top-level mapping. Cluster and workload come before
// faults, whose targets are checked against their names.
func (p *parser) scenario(root *yaml.Node) *Scenario {
	s := Default()
	m := p.fields(root, "", topFields, nil)
	if m == nil {
		return s
	}
	for _, req := range []string{"name", "description", "duration"} {
		if m[req] == nil {
			p.add(deref(root).Line, req, "required")
		}
	}
	if n := m["name"]; n != nil {
		if v, ok := p.text(n, "name"); ok {
			if !namePattern.MatchString(v) || len(v) > 64 {
				p.add(n.Line, "name", fmt.Sprintf("%s: want 1 to 64 of a-z, 0-9 and -", quote(v)))
			}
			s.Name = v
		}
	}
	if n := m["description"]; n != nil {
		if v, ok := p.text(n, "description"); ok {
			s.Description = v
		}
	}
	durOK := false
	if n := m["duration"]; n != nil {
		s.Duration, durOK = p.duration(n, "duration", 1)
	}
	if n := m["seed"]; n != nil {
		s.Seed, _ = p.unsigned(n, "seed")
	}
	if n := m["cluster"]; n != nil {
		p.cluster(n, &s.Cluster)
	}
	if n := m["workload"]; n != nil {
		p.workload(n, &s.Workload, s.Cluster)
	}
	if n := m["admin"]; n != nil {
		limit := time.Duration(-1)
		if durOK {
			limit = s.Duration
		}
		s.Admin = p.admin(n, s, limit)
	}
	if n := m["network"]; n != nil {
		p.network(n, &s.Network, namesOf(s))
	}
	if n := m["faults"]; n != nil {
		limit := time.Duration(-1)
		if durOK {
			limit = s.Duration
		}
		s.Faults = p.faults(n, s, limit)
	}
	if n := m["expect"]; n != nil {
		p.expect(n, &s.Expect)
	}
	if n := m["x-bugs"]; n != nil {
		p.bugs(n, &s.Bugs)
	}
	return s
}

// Default returns a scenario holding every default and no name, description
// or duration: 3 masters with a replica each, Redis 7's redis.conf defaults,
// lognormal latency (median 200us, p99 2ms), no workload, no faults, seed 1.
func Default() *Scenario {
	return &Scenario{
		Seed: 1,
		Cluster: Cluster{Masters: 3, ReplicasPerMaster: 1, Formed: true, Config: RedisConfig{
			NodeTimeoutMs:           15000,
			ReplicaValidityFactor:   10,
			MigrationBarrier:        1,
			AllowReplicaMigration:   true,
			RequireFullCoverage:     true,
			ReplPingReplicaPeriodS:  10,
			ReplTimeoutS:            60,
			MinReplicasMaxLagS:      10,
			ReplBacklogSize:         1 << 20,
			ManualFailoverTimeoutMs: 5000,
			Save:                    DefaultSave,
			AppendFsync:             "everysec",
			ReplDisklessSync:        true,
			ReplDisklessSyncDelayS:  5,
		}, Rules: "redis-7.0"},
		Network: Network{SocketBuffer: DefaultSocketBuffer, Latency: Latency{Dist: "lognormal",
			Median: 200 * time.Microsecond, P99: 2 * time.Millisecond}, MTU: DefaultMTU},
		Workload: Workload{Kind: "none", Rate: 1000, Keys: 100, Timeout: time.Second, ReadRatio: 50,
			Distribution: "uniform"},
	}
}

// cluster reads the topology and its redis.conf settings.
func (p *parser) cluster(n *yaml.Node, c *Cluster) {
	m := p.fields(n, "cluster", []string{"masters", "replicas-per-master", "spares", "formed", "rules", "config"}, nil)
	if v := m["rules"]; v != nil {
		if v.Kind != yaml.ScalarNode || ruleLevel(v.Value) < 0 {
			p.add(v.Line, "cluster.rules", "must be one of "+strings.Join(RuleSets, ", "))
		} else {
			c.Rules = v.Value
		}
	}
	if v := m["masters"]; v != nil {
		if x, ok := p.integer(v, "cluster.masters", 1, MaxMasters); ok {
			c.Masters = x
		}
	}
	if v := m["replicas-per-master"]; v != nil {
		if x, ok := p.integer(v, "cluster.replicas-per-master", 0, 10); ok {
			c.ReplicasPerMaster = x
		}
	}
	if v := m["spares"]; v != nil {
		if x, ok := p.integer(v, "cluster.spares", 0, 10); ok {
			c.Spares = x
		}
	}
	if v := m["formed"]; v != nil {
		if b, ok := p.boolean(v, "cluster.formed"); ok {
			c.Formed = b
		}
	}
	if v := m["config"]; v != nil {
		p.config(v, &c.Config, c.Rules)
	}
	if total := c.Nodes(); total > MaxNodes {
		line := n.Line
		if v := m["masters"]; v != nil {
			line = v.Line
		}
		p.add(line, "cluster", fmt.Sprintf("%d masters × (1 + %d replicas) + %d spares = %d nodes; at most %d "+
			"(e.g. 1000 masters × 1 replica, 500 × 3)", c.Masters, c.ReplicasPerMaster, c.Spares, total, MaxNodes))
	}
}

// Cluster size limits: what the simulator is built and benchmarked for
// (BenchmarkScale): 2,000 nodes in minutes on one core within 8 GiB.
const (
	MaxMasters = 1000 // cluster.masters
	MaxNodes   = 2000 // masters × (1 + replicas-per-master) + spares
)

// confSetting is one redis.conf setting a scenario may set.
type confSetting struct {
	name    string
	aliases []string // the pre-5.0 "slave" spellings Redis still accepts
	since   string   // the first rule set whose server has the setting ("" for all)
	min     int      // integers only
	intp    func(*RedisConfig) *int
	boolp   func(*RedisConfig) *bool
	memp    func(*RedisConfig) *int64 // a memory size in bytes, written with Redis's units
	strp    func(*RedisConfig) *string
	check   func(string) error // strings only: what Redis accepts
	// quiet settings are written by Marshal only when not at their default.
	quiet bool
}

// confSettings lists the settings in the order Marshal writes them.
var confSettings = []confSetting{
	{name: "cluster-node-timeout", min: 1, intp: func(c *RedisConfig) *int { return &c.NodeTimeoutMs }},
	{name: "cluster-ping-interval", intp: func(c *RedisConfig) *int { return &c.PingIntervalMs }},
	{name: "cluster-replica-validity-factor", aliases: []string{"cluster-slave-validity-factor"},
		intp: func(c *RedisConfig) *int { return &c.ReplicaValidityFactor }},
	{name: "cluster-migration-barrier", intp: func(c *RedisConfig) *int { return &c.MigrationBarrier }},
	{name: "cluster-allow-replica-migration", boolp: func(c *RedisConfig) *bool { return &c.AllowReplicaMigration }},
	{name: "cluster-require-full-coverage", boolp: func(c *RedisConfig) *bool { return &c.RequireFullCoverage }},
	{name: "cluster-replica-no-failover", aliases: []string{"cluster-slave-no-failover"},
		boolp: func(c *RedisConfig) *bool { return &c.ReplicaNoFailover }},
	{name: "cluster-allow-reads-when-down", boolp: func(c *RedisConfig) *bool { return &c.AllowReadsWhenDown }},
	{name: "repl-ping-replica-period", aliases: []string{"repl-ping-slave-period"}, min: 1,
		intp: func(c *RedisConfig) *int { return &c.ReplPingReplicaPeriodS }},
	{name: "repl-timeout", min: 1, intp: func(c *RedisConfig) *int { return &c.ReplTimeoutS }},
	{name: "min-replicas-to-write", aliases: []string{"min-slaves-to-write"},
		intp: func(c *RedisConfig) *int { return &c.MinReplicasToWrite }},
	{name: "min-replicas-max-lag", aliases: []string{"min-slaves-max-lag"},
		intp: func(c *RedisConfig) *int { return &c.MinReplicasMaxLagS }},
	{name: "repl-backlog-size", memp: func(c *RedisConfig) *int64 { return &c.ReplBacklogSize }},
	{name: "cluster-manual-failover-timeout", since: "valkey-8.1", min: 1,
		intp: func(c *RedisConfig) *int { return &c.ManualFailoverTimeoutMs }},
	{name: "cluster-link-sendbuf-limit", quiet: true,
		memp: func(c *RedisConfig) *int64 { return &c.ClusterLinkSendbufLimit }},
	{name: "save", quiet: true, strp: func(c *RedisConfig) *string { return &c.Save },
		check: func(s string) error { _, err := SavePoints(s); return err }},
	{name: "appendonly", quiet: true, boolp: func(c *RedisConfig) *bool { return &c.AppendOnly }},
	{name: "appendfsync", quiet: true, strp: func(c *RedisConfig) *string { return &c.AppendFsync },
		check: func(s string) error {
			if !slices.Contains(AppendFsyncs, s) {
				return fmt.Errorf("must be one of %s", strings.Join(AppendFsyncs, ", "))
			}
			return nil
		}},
	{name: "repl-diskless-sync", quiet: true, boolp: func(c *RedisConfig) *bool { return &c.ReplDisklessSync }},
	{name: "repl-diskless-sync-delay", quiet: true, intp: func(c *RedisConfig) *int { return &c.ReplDisklessSyncDelayS }},
	{name: "repl-diskless-sync-max-replicas", quiet: true,
		intp: func(c *RedisConfig) *int { return &c.ReplDisklessSyncMaxReplicas }},
}

// isDefault reports whether c holds the setting's default.
func (cs confSetting) isDefault(c RedisConfig) bool {
	d := Default().Cluster.Config
	switch {
	case cs.intp != nil:
		return *cs.intp(&c) == *cs.intp(&d)
	case cs.memp != nil:
		return *cs.memp(&c) == *cs.memp(&d)
	case cs.strp != nil:
		return *cs.strp(&c) == *cs.strp(&d)
	}
	return *cs.boolp(&c) == *cs.boolp(&d)
}

// has reports whether a server of the given rule set has the setting.
func (cs confSetting) has(rules string) bool {
	return cs.since == "" || ruleLevel(rules) >= ruleLevel(cs.since)
}

// confByName finds a setting by its name or an alias.
func confByName(name string) (confSetting, bool) {
	for _, cs := range confSettings {
		if cs.name == name || strings.Contains(" "+strings.Join(cs.aliases, " ")+" ", " "+name+" ") {
			return cs, true
		}
	}
	return confSetting{}, false
}

// config reads cluster.config; an alias and its setting together are duplicates.
func (p *parser) config(n *yaml.Node, c *RedisConfig, rules string) {
	var known, listed []string
	for _, cs := range confSettings {
		known = append(append(known, cs.name), cs.aliases...)
		listed = append(listed, cs.name)
	}
	m := p.fields(n, "cluster.config", known, listed)
	for _, cs := range confSettings {
		key, v := cs.name, m[cs.name]
		for _, a := range cs.aliases {
			if m[a] == nil {
				continue
			}
			if v != nil {
				p.add(m[a].Line, "cluster.config."+a, "duplicate key (an alias of "+cs.name+")")
				continue
			}
			key, v = a, m[a]
		}
		if v == nil {
			continue
		}
		if !cs.has(rules) {
			p.add(v.Line, "cluster.config."+key, "a "+cs.since+" setting: "+rules+" has no such setting (set cluster.rules)")
			continue
		}
		switch {
		case cs.intp != nil:
			if x, ok := p.integer(v, "cluster.config."+key, cs.min, math.MaxInt32); ok {
				*cs.intp(c) = x
			}
		case cs.memp != nil:
			if x, ok := p.memory(v, "cluster.config."+key); ok {
				*cs.memp(c) = x
			}
		case cs.strp != nil:
			if v.Kind != yaml.ScalarNode {
				p.add(v.Line, "cluster.config."+key, "want a string, got "+describe(v))
			} else if err := cs.check(v.Value); err != nil {
				p.add(v.Line, "cluster.config."+key, err.Error())
			} else {
				*cs.strp(c) = v.Value
			}
		default:
			if b, ok := p.boolean(v, "cluster.config."+key); ok {
				*cs.boolp(c) = b
			}
		}
	}
}
