// Package reports draws what sweeps and runs found: failover latency
// against the swept settings, the anatomy of a failover, CDFs, lost writes
// against partition length and a per-node timeline of one run, as PNG and
// SVG (gonum/plot), a self-contained report.html and summary.csv.
//
// The figures are built from data (Figure.Data) that tests pin as golden
// JSON; the pictures themselves are not compared byte for byte.
package reports

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/rcsim/rcsim/checker"
)

// Run is one line of a sweep's runs.jsonl: the run's index, the checker's
// summary with the run's settings, how long a partition was in force, and
// the simulator's panic if it failed. sim/sweep writes it; reports cannot
// import sim/sweep, so the file format is the contract between them.
type Run struct {
	Run int `json:"run"`
	checker.Summary
	PartitionMs int64  `json:"partition_ms"`
	Panic       string `json:"panic,omitempty"`
}

// LoadRuns reads runs.jsonl strictly: a malformed line is an error naming
// the file and line.
func LoadRuns(path string) ([]Run, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<28)
	var out []Run
	for n := 1; sc.Scan(); n++ {
		if len(strings.TrimSpace(sc.Text())) == 0 {
			continue
		}
		var r Run
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			return nil, fmt.Errorf("%s:%d: %v", path, n, err)
		}
		out = append(out, r)
	}
	return out, sc.Err()
}

// Axis is one swept setting and its values, in sweep order.
type Axis struct {
	Key    string
	Values []string
}

// varies reports whether the axis takes more than one value: a setting
// held at one value is context for the title, not a label.
func (a Axis) varies() bool { return len(a.Values) > 1 }

// Point is one combination of settings with the scenario it runs: the
// base scenario with the settings applied, as YAML, and its
// cluster-node-timeout (the T that latency is normalised by).
type Point struct {
	Settings      []string // one value per axis
	YAML          string
	NodeTimeoutMs int64
}

// Meta describes what a report is about: the scenario, the swept axes and
// the seeds, for titles and the HTML page.
type Meta struct {
	Source       string // the scenario argument
	Scenario     string // its name
	ScenarioYAML string
	Axes         []Axis
	Seeds        []uint64
	// Points are the effective scenarios, one per combination of settings
	// (optional: without them the page shows only the base scenario, and
	// T is known only when cluster-node-timeout is swept).
	Points []Point
}

// Group is the runs of one combination of settings.
type Group struct {
	Label    string   // the varying settings: "5000", or "cluster-node-timeout=5000 masters=3"
	Settings []string // one value per axis
	Runs     []Run
	// X is the group's place on a numeric x axis (the first varying axis
	// whose values are numbers or durations); Series names the other
	// varying settings ("" when there are none). Without a numeric axis X
	// is the group's index.
	X      float64
	Series string
	// NodeTimeoutMs is the group's cluster-node-timeout (0: unknown).
	NodeTimeoutMs int64
}

// Groups splits runs by their settings, in the order of the axes (first
// axis slowest), leaving out combinations with no run.
func Groups(m Meta, runs []Run) []Group {
	index := map[string]int{}
	var out []Group
	xa := xAxisOf(m.Axes)
	for _, combo := range combos(m.Axes) {
		index[strings.Join(combo, "\x00")] = len(out)
		g := Group{Label: label(m.Axes, combo, -1), Settings: combo, Series: label(m.Axes, combo, xa)}
		if xa >= 0 {
			g.X, _ = numeric(combo[xa])
		}
		g.NodeTimeoutMs = nodeTimeout(m, combo)
		out = append(out, g)
	}
	for _, r := range runs {
		key := make([]string, len(m.Axes))
		for a, ax := range m.Axes {
			key[a] = r.Settings[ax.Key]
		}
		if g, ok := index[strings.Join(key, "\x00")]; ok {
			out[g].Runs = append(out[g].Runs, r)
		}
	}
	out = slices.DeleteFunc(out, func(g Group) bool { return len(g.Runs) == 0 })
	if xa < 0 {
		for i := range out {
			out[i].X = float64(i)
		}
	}
	return out
}

// nodeTimeout is combo's cluster-node-timeout from m.Points, else from a
// swept cluster-node-timeout, else 0.
func nodeTimeout(m Meta, combo []string) int64 {
	for _, p := range m.Points {
		if slices.Equal(p.Settings, combo) {
			return p.NodeTimeoutMs
		}
	}
	for a, ax := range m.Axes {
		if isNodeTimeout(ax.Key) {
			v, _ := strconv.ParseInt(combo[a], 10, 64)
			return v
		}
	}
	return 0
}

func isNodeTimeout(key string) bool {
	return key == "cluster-node-timeout" || key == "cluster.config.cluster-node-timeout"
}

// xAxisOf is the index of the first varying axis whose values are all
// numbers or durations, or -1.
func xAxisOf(axes []Axis) int {
	for i, a := range axes {
		if !a.varies() {
			continue
		}
		ok := true
		for _, v := range a.Values {
			_, isNum := numeric(v)
			ok = ok && isNum
		}
		if ok {
			return i
		}
	}
	return -1
}

// numeric reads a setting's value as a number: a plain number, or a
// duration in seconds ("15s", "500ms").
func numeric(v string) (float64, bool) {
	if x, err := strconv.ParseFloat(v, 64); err == nil {
		return x, true
	}
	if d, err := time.ParseDuration(v); err == nil {
		return d.Seconds(), true
	}
	return 0, false
}

// combos is the cross product of the axes, first axis slowest.
func combos(axes []Axis) [][]string {
	out := [][]string{{}}
	for _, a := range axes {
		var next [][]string
		for _, c := range out {
			for _, v := range a.Values {
				next = append(next, append(slices.Clone(c), v))
			}
		}
		out = next
	}
	return out
}

// label names combo by its varying settings other than axis skip (-1:
// none skipped): the bare value when one axis varies, "k=v k=v" when
// several do.
func label(axes []Axis, combo []string, skip int) string {
	var parts, values []string
	for i, a := range axes {
		if a.varies() && i != skip {
			parts = append(parts, a.Key+"="+combo[i])
			values = append(values, combo[i])
		}
	}
	switch {
	case len(parts) == 0 && skip < 0:
		return "all runs"
	case len(parts) == 1 && skip < 0:
		return values[0]
	}
	return strings.Join(parts, " ")
}

// Fixed lists the settings that do not vary, "k=v k=v", for titles.
func Fixed(axes []Axis) string {
	var parts []string
	for _, a := range axes {
		if !a.varies() && len(a.Values) == 1 {
			parts = append(parts, a.Key+"="+a.Values[0])
		}
	}
	return strings.Join(parts, " ")
}

// AxisTitle names the groups' axis with its unit, e.g.
// "cluster-node-timeout (ms)": the numeric axis when there is one, the
// one varying setting, or "settings".
func AxisTitle(axes []Axis) string {
	if i := xAxisOf(axes); i >= 0 {
		return keyTitle(axes[i])
	}
	var varying []Axis
	for _, a := range axes {
		if a.varies() {
			varying = append(varying, a)
		}
	}
	switch len(varying) {
	case 0:
		return "runs"
	case 1:
		return keyTitle(varying[0])
	}
	names := make([]string, len(varying))
	for i, a := range varying {
		names[i] = keyTitle(a)
	}
	return strings.Join(names, " / ")
}

// categoryTitle names a categorical axis of groups: the varying settings'
// names with units, "cluster-node-timeout (ms) / replicas-per-master".
func categoryTitle(axes []Axis) string {
	var names []string
	for _, a := range axes {
		if a.varies() {
			names = append(names, keyTitle(a))
		}
	}
	if len(names) == 0 {
		return "runs"
	}
	return strings.Join(names, " / ")
}

// tickLabel is a group's label under a categorical axis: the varying
// values one per line, their keys being in the axis title.
func tickLabel(axes []Axis, g Group) string {
	if len(g.Settings) != len(axes) {
		return g.Label
	}
	var vs []string
	for i, a := range axes {
		if a.varies() {
			vs = append(vs, g.Settings[i])
		}
	}
	if len(vs) == 0 {
		return g.Label
	}
	return strings.Join(vs, "\n")
}

// keyTitle is a setting's name with its unit.
func keyTitle(a Axis) string {
	u := settingUnit(a.Key)
	if u == "" && len(a.Values) > 0 {
		if _, err := strconv.ParseFloat(a.Values[0], 64); err != nil {
			if _, isNum := numeric(a.Values[0]); isNum {
				u = "s" // durations, plotted in seconds
			}
		}
	}
	if u != "" {
		return a.Key + " (" + u + ")"
	}
	return a.Key
}

// settingUnit is the unit of a redis.conf or scenario setting whose values
// are bare numbers; "" when the value carries its own unit or has none.
func settingUnit(key string) string {
	switch key[strings.LastIndex(key, ".")+1:] {
	case "cluster-node-timeout":
		return "ms"
	case "repl-ping-replica-period", "repl-ping-slave-period", "repl-timeout", "min-replicas-max-lag":
		return "s"
	}
	return ""
}

// Stats are nearest-rank percentiles of a set of millisecond values, with
// Missing counting runs where the step never happened.
type Stats struct {
	N       int   `json:"n"`
	Missing int   `json:"missing"`
	Min     int64 `json:"min"`
	P10     int64 `json:"p10"`
	P25     int64 `json:"p25"`
	P50     int64 `json:"p50"`
	P75     int64 `json:"p75"`
	P90     int64 `json:"p90"`
	P99     int64 `json:"p99"`
	Max     int64 `json:"max"`
}

// StatsOf summarises the non-nil values of vs.
func StatsOf(vs []*int64) Stats {
	var xs []int64
	for _, v := range vs {
		if v != nil {
			xs = append(xs, *v)
		}
	}
	s := Stats{N: len(xs), Missing: len(vs) - len(xs)}
	if len(xs) == 0 {
		return s
	}
	slices.Sort(xs)
	rank := func(p int) int64 { return xs[max(0, (p*len(xs)+99)/100-1)] }
	s.Min, s.P10, s.P25, s.P50, s.P75, s.P90, s.P99, s.Max = xs[0], rank(10), rank(25), rank(50), rank(75), rank(90), rank(99), xs[len(xs)-1]
	return s
}

// Metric picks one failover step of a run (the first failover's), in ms
// after the fault; nil when the run had no failover or the step never
// happened.
type Metric struct {
	Name  string // column name, e.g. "promoted_ms"
	Title string // "crash → promotion"
	Of    func(checker.Failover) *int64
}

// Promoted and WritesResumed are the two latencies users ask about.
var (
	Promoted      = Metric{"promoted_ms", "crash → promotion", func(f checker.Failover) *int64 { return f.PromotedMs }}
	WritesResumed = Metric{"writes_resumed_ms", "crash → writes resumed", func(f checker.Failover) *int64 { return f.WritesResumedMs }}
)

// values is m over the runs.
func (m Metric) values(runs []Run) []*int64 {
	out := make([]*int64, len(runs))
	for i, r := range runs {
		if len(r.Failovers) > 0 {
			out[i] = m.Of(r.Failovers[0])
		}
	}
	return out
}

// SeedText prints seeds compactly: "1..200" or "1..5, 9".
func SeedText(seeds []uint64) string {
	var parts []string
	for i := 0; i < len(seeds); {
		j := i
		for j+1 < len(seeds) && seeds[j+1] == seeds[j]+1 {
			j++
		}
		p := strconv.FormatUint(seeds[i], 10)
		if j > i {
			p += ".." + strconv.FormatUint(seeds[j], 10)
		}
		parts = append(parts, p)
		i = j + 1
	}
	return strings.Join(parts, ", ")
}
