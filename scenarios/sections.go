// The network, workload, expect and x-bugs sections of a scenario file.

package scenarios

import (
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// latencyFields lists, per distribution, the fields it takes.
var latencyFields = map[string][]string{
	"constant":  {"value"},
	"uniform":   {"min", "max"},
	"normal":    {"mean", "stddev"},
	"lognormal": {"median", "p99"},
}

// latencyField gives the Latency field a yaml key names.
func latencyField(l *Latency, key string) *time.Duration {
	switch key {
	case "value":
		return &l.Value
	case "min":
		return &l.Min
	case "max":
		return &l.Max
	case "mean":
		return &l.Mean
	case "stddev":
		return &l.Stddev
	case "median":
		return &l.Median
	case "p99":
		return &l.P99
	}
	return nil
}

// network reads network: latency, loss, bandwidth, mtu, socket-buffer and
// per-link overrides, whose names must be the scenario's endpoints.
func (p *parser) network(n *yaml.Node, nw *Network, nm names) {
	m := p.fields(n, "network", []string{"latency", "loss", "bandwidth", "mtu", "socket-buffer", "links"}, nil)
	if v := m["latency"]; v != nil {
		p.latency(v, "network.latency", &nw.Latency)
	}
	if v := m["loss"]; v != nil {
		nw.Loss, _ = p.ratio(v, "network.loss")
	}
	if v := m["bandwidth"]; v != nil {
		nw.Bandwidth, _ = p.bandwidth(v, "network.bandwidth")
	}
	if v := m["mtu"]; v != nil {
		nw.MTU, _ = p.integer(v, "network.mtu", MinMTU, MaxMTU)
	}
	if v := m["socket-buffer"]; v != nil {
		if x, ok := p.memory(v, "network.socket-buffer"); ok {
			nw.SocketBuffer = x
		}
	}
	if v := m["links"]; v != nil {
		items, _ := p.list(v, "network.links")
		for i, it := range items {
			if o, ok := p.linkOverride(it, fmt.Sprintf("network.links[%d]", i), nm); ok {
				nw.Links = append(nw.Links, o)
			}
		}
	}
}

// linkOverride reads one network.links item: from, to, and at least one of
// latency, loss and bandwidth.
func (p *parser) linkOverride(n *yaml.Node, path string, nm names) (LinkOverride, bool) {
	var o LinkOverride
	m := p.fields(n, path, []string{"from", "to", "directed", "latency", "loss", "bandwidth"}, nil)
	if m == nil {
		return o, false
	}
	ok := p.requireKeys(n, m, path, []string{"from", "to"})
	if m["latency"] == nil && m["loss"] == nil && m["bandwidth"] == nil {
		p.add(n.Line, path, "want at least one of latency, loss, bandwidth")
		ok = false
	}
	if m["from"] != nil && m["to"] != nil {
		var f Fault
		if p.sides(&f, m["from"], m["to"], path, nm) {
			o.From, o.To = p.staticNames(f.From, m["from"], path+".from"), p.staticNames(f.To, m["to"], path+".to")
			ok = ok && o.From != nil && o.To != nil
		} else {
			ok = false
		}
	}
	if v := m["directed"]; v != nil {
		var good bool
		o.Directed, good = p.boolean(v, path+".directed")
		ok = ok && good
	}
	if v := m["latency"]; v != nil {
		var l Latency
		good := p.latency(v, path+".latency", &l)
		o.Latency, ok = &l, ok && good
	}
	if v := m["loss"]; v != nil {
		r, good := p.ratio(v, path+".loss")
		o.Loss, ok = &r, ok && good
	}
	if v := m["bandwidth"]; v != nil {
		b, good := p.bandwidth(v, path+".bandwidth")
		o.Bandwidth, ok = &b, ok && good
	}
	return o, ok
}

// staticNames turns the targets of a network.links side into names: the
// network is built before any role exists, so only names and rest count.
func (p *parser) staticNames(ts []Target, v *yaml.Node, path string) []string {
	out := make([]string, 0, len(ts))
	for _, t := range ts {
		if t.Name == "" && !t.Rest {
			p.add(v.Line, path, t.String()+": network.links takes endpoint names and rest, not roles")
			return nil
		}
		out = append(out, t.String())
	}
	return out
}

// latency reads a distribution at path and checks it has exactly its own
// fields; it reports whether l was set.
func (p *parser) latency(n *yaml.Node, path string, l *Latency) bool {
	m := p.fields(n, path, []string{"dist", "value", "min", "max", "mean", "stddev", "median", "p99"}, nil)
	if m == nil {
		return false
	}
	dn := m["dist"]
	if dn == nil {
		p.add(n.Line, path+".dist", "required (constant, uniform, normal or lognormal)")
		return false
	}
	dist, ok := p.text(dn, path+".dist")
	if !ok {
		return false
	}
	want, ok := latencyFields[dist]
	if !ok {
		p.add(dn.Line, path+".dist", "want constant, uniform, normal or lognormal, got "+describe(dn))
		return false
	}
	got := Latency{Dist: dist}
	good := true
	for _, key := range []string{"value", "min", "max", "mean", "stddev", "median", "p99"} {
		v := m[key]
		used := strings.Contains(" "+strings.Join(want, " ")+" ", " "+key+" ")
		switch {
		case v == nil && used:
			p.add(n.Line, path+"."+key, "required for dist "+dist)
			good = false
		case v != nil && !used:
			p.add(v.Line, path+"."+key, "not used by dist "+dist+" (it takes "+strings.Join(want, ", ")+")")
			good = false
		case v != nil:
			d, ok := p.duration(v, path+"."+key, 0)
			*latencyField(&got, key) = d
			good = good && ok
		}
	}
	if good && p.latencyShape(n.Line, path, got) {
		*l = got
		return true
	}
	return false
}

// latencyShape checks relations between a distribution's fields.
func (p *parser) latencyShape(line int, path string, l Latency) bool {
	switch {
	case l.Dist == "uniform" && l.Max < l.Min:
		p.add(line, path+".max", "must be >= min ("+fmtDur(l.Min)+"), got "+fmtDur(l.Max))
	case l.Dist == "normal" && l.Mean <= 0:
		p.add(line, path+".mean", "must be > 0")
	case l.Dist == "lognormal" && l.Median <= 0:
		p.add(line, path+".median", "must be > 0")
	case l.Dist == "lognormal" && l.P99 < l.Median:
		p.add(line, path+".p99", "must be >= median ("+fmtDur(l.Median)+"), got "+fmtDur(l.P99))
	default:
		return true
	}
	return false
}

var workloadKinds = []string{"register", "counter", "list", "none"}

var ratePattern = regexp.MustCompile(`^([0-9]+)/s$`)

// workloadFields lists the keys of the workload section.
var workloadFields = []string{"kind", "clients", "rate", "keys", "timeout", "read-ratio",
	"distribution", "zipf-exponent", "wait", "read-from-replicas"}

// workload reads the client load. Kind none (the default) means no clients.
// c is the cluster already read, which bounds wait.
func (p *parser) workload(n *yaml.Node, w *Workload, c Cluster) {
	m := p.fields(n, "workload", workloadFields, nil)
	if m == nil {
		return
	}
	badKind := false
	if v := m["kind"]; v != nil {
		k, _ := p.text(v, "workload.kind")
		if strings.Contains(" "+strings.Join(workloadKinds, " ")+" ", " "+k+" ") && k != "" {
			w.Kind = k
		} else {
			// A bad kind is the one error: the checks below that depend on
			// the kind would only repeat it.
			badKind = true
			p.add(v.Line, "workload.kind", "want "+strings.Join(workloadKinds, ", ")+"; got "+describe(v)+DidYouMean(k, workloadKinds))
		}
	}
	if w.Kind != "none" {
		w.Clients = 4
	}
	if v := m["clients"]; v != nil {
		if x, ok := p.integer(v, "workload.clients", 0, 1000); ok {
			w.Clients = x
			if x > 0 && w.Kind == "none" && !badKind {
				p.add(v.Line, "workload.clients", "must be 0 with kind none (set kind: register, counter or list)")
			}
		}
	}
	if v := m["rate"]; v != nil {
		if x, ok := p.rate(v); ok {
			w.Rate = x
		}
	}
	if v := m["keys"]; v != nil {
		if x, ok := p.integer(v, "workload.keys", 1, 1000000); ok {
			w.Keys = x
		}
	}
	if v := m["timeout"]; v != nil {
		if d, ok := p.duration(v, "workload.timeout", 1); ok {
			w.Timeout = d
		}
	}
	if v := m["read-ratio"]; v != nil {
		if x, ok := p.integer(v, "workload.read-ratio", 0, 100); ok {
			w.ReadRatio = x
		}
	}
	p.workloadKeys(m, w)
	p.workloadClient(m, w, c)
}

// workloadKeys reads the key distribution: uniform, or zipf with an
// exponent (default 1).
func (p *parser) workloadKeys(m map[string]*yaml.Node, w *Workload) {
	if v := m["distribution"]; v != nil {
		if d, ok := p.text(v, "workload.distribution"); ok && (d == "uniform" || d == "zipf") {
			w.Distribution = d
		} else if ok {
			p.add(v.Line, "workload.distribution", "want uniform or zipf, got "+describe(v))
		}
	}
	if w.Distribution == "zipf" {
		w.ZipfMilli = 1000
	}
	if v := m["zipf-exponent"]; v != nil {
		x, ok := p.milli(v, "workload.zipf-exponent", 1, 10000)
		switch {
		case ok && w.Distribution != "zipf":
			p.add(v.Line, "workload.zipf-exponent", "only used with distribution: zipf")
		case ok:
			w.ZipfMilli = x
		}
	}
}

// workloadClient reads the client options: wait and read-from-replicas.
func (p *parser) workloadClient(m map[string]*yaml.Node, w *Workload, c Cluster) {
	if v := m["wait"]; v != nil {
		if x, ok := p.integer(v, "workload.wait", 0, 10); ok {
			w.Wait = x
			if x > c.ReplicasPerMaster {
				p.add(v.Line, "workload.wait", fmt.Sprintf("WAIT %d can never be satisfied with replicas-per-master %d", x, c.ReplicasPerMaster))
			}
		}
	}
	if v := m["read-from-replicas"]; v != nil {
		if b, ok := p.boolean(v, "workload.read-from-replicas"); ok {
			w.ReadFromReplicas = b
		}
	}
}

// milli reads a decimal with at most three digits after the point
// ("1", "1.2", "0.75") as thousandths, without floating point, in [lo, hi].
func (p *parser) milli(v *yaml.Node, path string, lo, hi int) (int, bool) {
	mm := decimalPattern.FindStringSubmatch(v.Value)
	if v.Kind != yaml.ScalarNode || mm == nil || len(mm[1]) > 6 {
		p.add(v.Line, path, "want a decimal number like 1.2 (at most 3 decimals), got "+describe(v))
		return 0, false
	}
	whole, _ := strconv.Atoi(mm[1])
	frac, _ := strconv.Atoi((mm[2] + "000")[:3])
	x := whole*1000 + frac
	if x < lo || x > hi {
		p.add(v.Line, path, fmt.Sprintf("must be between %s and %s, got %s", fmtMilli(lo), fmtMilli(hi), v.Value))
		return 0, false
	}
	return x, true
}

var decimalPattern = regexp.MustCompile(`^([0-9]+)(?:\.([0-9]{1,3}))?$`)

// fmtMilli writes thousandths as the shortest decimal: 1200 → "1.2".
func fmtMilli(x int) string {
	s := strconv.Itoa(x/1000) + "." + fmt.Sprintf("%03d", x%1000)
	s = strings.TrimRight(s, "0")
	return strings.TrimSuffix(s, ".")
}

// rate reads total operations per second: "1000/s" or 1000.
func (p *parser) rate(v *yaml.Node) (int, bool) {
	const path, lo, hi = "workload.rate", 1, 10000000
	if v.Kind == yaml.ScalarNode && v.ShortTag() == "!!int" {
		return p.integer(v, path, lo, hi)
	}
	if mm := ratePattern.FindStringSubmatch(v.Value); v.Kind == yaml.ScalarNode && mm != nil {
		x, err := strconv.Atoi(mm[1])
		if err == nil && x >= lo && x <= hi {
			return x, true
		}
		p.add(v.Line, path, "must be between 1/s and 10000000/s, got "+describe(v))
		return 0, false
	}
	p.add(v.Line, path, "want operations per second like 1000/s, got "+describe(v))
	return 0, false
}

// expect reads the expectations; an absent one stays nil (not checked).
func (p *parser) expect(n *yaml.Node, e *Expect) {
	m := p.fields(n, "expect", []string{"failover-within", "linearizable", "converged-within",
		"max-lost-writes", "cluster-ok", "admin-ok"}, nil)
	if v := m["failover-within"]; v != nil {
		if d, ok := p.duration(v, "expect.failover-within", 1); ok {
			e.FailoverWithin = &d
		}
	}
	if v := m["linearizable"]; v != nil {
		if b, ok := p.boolean(v, "expect.linearizable"); ok {
			e.Linearizable = &b
		}
	}
	if v := m["converged-within"]; v != nil {
		if d, ok := p.duration(v, "expect.converged-within", 1); ok {
			e.ConvergedWithin = &d
		}
	}
	if v := m["max-lost-writes"]; v != nil {
		if x, ok := p.integer(v, "expect.max-lost-writes", 0, math.MaxInt32); ok {
			e.MaxLostWrites = &x
		}
	}
	if v := m["cluster-ok"]; v != nil {
		if b, ok := p.boolean(v, "expect.cluster-ok"); ok {
			e.ClusterOK = &b
		}
	}
	if v := m["admin-ok"]; v != nil {
		if b, ok := p.boolean(v, "expect.admin-ok"); ok {
			e.AdminOK = &b
		}
	}
}

// bugSwitches lists the x-bugs keys, in the order Marshal writes them.
var bugSwitches = []struct {
	name string
	ptr  func(*Bugs) *bool
}{
	{"grant-two-votes-per-epoch", func(b *Bugs) *bool { return &b.GrantTwoVotesPerEpoch }},
}

// bugs reads x-bugs.
func (p *parser) bugs(n *yaml.Node, b *Bugs) {
	var known []string
	for _, sw := range bugSwitches {
		known = append(known, sw.name)
	}
	m := p.fields(n, "x-bugs", known, nil)
	for _, sw := range bugSwitches {
		if v := m[sw.name]; v != nil {
			if x, ok := p.boolean(v, "x-bugs."+sw.name); ok {
				*sw.ptr(b) = x
			}
		}
	}
}
