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

	"rcsim/checker"
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

// Meta describes what a report is about: the scenario, the swept axes and
// the seeds, for titles and the HTML page.
type Meta struct {
	Source       string // the scenario argument
	Scenario     string // its name
	ScenarioYAML string
	Axes         []Axis
	Seeds        []uint64
}

// Group is the runs of one combination of settings.
type Group struct {
	Label    string   // "5000", or "cluster-node-timeout=5000 masters=3"
	Settings []string // one value per axis
	Runs     []Run
}

// Groups splits runs by their settings, in the order of the axes (first
// axis slowest), leaving out combinations with no run.
func Groups(m Meta, runs []Run) []Group {
	index := map[string]int{}
	var out []Group
	for _, combo := range combos(m.Axes) {
		index[strings.Join(combo, "\x00")] = len(out)
		out = append(out, Group{Label: label(m.Axes, combo), Settings: combo})
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
	return slices.DeleteFunc(out, func(g Group) bool { return len(g.Runs) == 0 })
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

func label(axes []Axis, combo []string) string {
	if len(axes) == 0 {
		return "all runs"
	}
	if len(axes) == 1 {
		return combo[0]
	}
	parts := make([]string, len(axes))
	for i, a := range axes {
		parts[i] = a.Key + "=" + combo[i]
	}
	return strings.Join(parts, " ")
}

// AxisTitle names the groups' axis with its unit, e.g.
// "cluster-node-timeout (ms)".
func AxisTitle(axes []Axis) string {
	switch len(axes) {
	case 0:
		return "runs"
	case 1:
		if u := settingUnit(axes[0].Key); u != "" {
			return axes[0].Key + " (" + u + ")"
		}
		return axes[0].Key
	}
	return "settings"
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
	s.Min, s.P25, s.P50, s.P75, s.P90, s.P99, s.Max = xs[0], rank(25), rank(50), rank(75), rank(90), rank(99), xs[len(xs)-1]
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
