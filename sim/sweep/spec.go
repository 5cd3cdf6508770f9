package sweep

// The sweep's specification: which settings take which values, which seeds,
// and how run indices map to (settings, seed) points and to shards.

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/rcsim/rcsim/scenarios"
	"github.com/rcsim/rcsim/sim"
)

// Axis is one swept setting: a scenario key as scenarios.Set takes it and
// the values it takes, in the order given.
type Axis struct {
	Key    string   `json:"key"`
	Values []string `json:"values"`
}

// Spec is what a sweep runs. It is written to DIR/sweep.json; a resumed
// sweep and the shards of a merge must have the same Spec.
type Spec struct {
	Version int `json:"version"` // FormatVersion
	// Source is the scenario argument (a built-in name or a file path).
	Source string `json:"source"`
	// Scenario is the base scenario's name; ScenarioYAML the base scenario
	// as scenarios.Marshal writes it, before the axes are applied.
	Scenario     string   `json:"scenario"`
	ScenarioYAML string   `json:"scenario_yaml"`
	Axes         []Axis   `json:"axes"`
	Seeds        []uint64 `json:"seeds"`
	AllowBugs    bool     `json:"allow_bugs,omitempty"`
	// MaxEvents is every run's sim.Options.MaxEvents (0: the default).
	MaxEvents int `json:"max_events,omitempty"`
}

// FormatVersion is the version of sweep.json and runs.jsonl.
const FormatVersion = 1

// Points is the number of setting combinations (the product of the axes'
// lengths; 1 with no axis).
func (sp Spec) Points() int {
	n := 1
	for _, a := range sp.Axes {
		n *= len(a.Values)
	}
	return n
}

// Runs is the number of runs: points × seeds.
func (sp Spec) Runs() int { return sp.Points() * len(sp.Seeds) }

// Point returns the settings of run i's combination, one value per axis.
// Runs are numbered point-major: the first axis varies slowest, the seed
// fastest.
func (sp Spec) Point(i int) []string {
	p := i / len(sp.Seeds)
	vals := make([]string, len(sp.Axes))
	for a := len(sp.Axes) - 1; a >= 0; a-- {
		n := len(sp.Axes[a].Values)
		vals[a] = sp.Axes[a].Values[p%n]
		p /= n
	}
	return vals
}

// Seed returns run i's seed.
func (sp Spec) Seed(i int) uint64 { return sp.Seeds[i%len(sp.Seeds)] }

// Settings returns run i's settings as the summary records them.
func (sp Spec) Settings(i int) map[string]string {
	if len(sp.Axes) == 0 {
		return nil
	}
	m := make(map[string]string, len(sp.Axes))
	for a, v := range sp.Point(i) {
		m[sp.Axes[a].Key] = v
	}
	return m
}

// ParseAxis reads one --set flag: "key=v1,v2,v3". Commas inside brackets
// or braces do not split ("network.latency={dist: constant, value: 1ms}").
func ParseAxis(flag string) (Axis, error) {
	key, list, ok := strings.Cut(flag, "=")
	key = strings.TrimSpace(key)
	if !ok || key == "" {
		return Axis{}, fmt.Errorf("--set %q: want KEY=V1,V2,…", flag)
	}
	var vals []string
	depth, start := 0, 0
	for i := 0; i <= len(list); i++ {
		if i < len(list) {
			switch list[i] {
			case '{', '[':
				depth++
			case '}', ']':
				depth--
			}
			if list[i] != ',' || depth > 0 {
				continue
			}
		}
		v := strings.TrimSpace(list[start:i])
		if v == "" {
			return Axis{}, fmt.Errorf("--set %s: empty value in %q", key, list)
		}
		vals = append(vals, v)
		start = i + 1
	}
	return Axis{Key: key, Values: vals}, nil
}

// MaxSeeds caps how many seeds one sweep takes, over all comma-separated
// parts, and how many runs (settings combinations × seeds): at a tenth of a
// second per run that is still days of CPU time, so only a typo reaches it.
// A larger study is several sweeps, merged.
const MaxSeeds = 10_000_000

// ParseSeeds reads "1..200", "1,5,9" or a mix ("1..10,100"). Seeds are
// positive and distinct, kept in the order given, at most MaxSeeds in all.
func ParseSeeds(s string) ([]uint64, error) {
	type span struct{ lo, hi uint64 }
	var spans []span
	var total uint64
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		lo, hi, isRange := strings.Cut(part, "..")
		a, err := strconv.ParseUint(lo, 10, 64)
		b := a
		if err == nil && isRange {
			b, err = strconv.ParseUint(hi, 10, 64)
		}
		if err != nil || a == 0 || b < a {
			return nil, fmt.Errorf("--seeds %q: bad part %q (want N, A..B with 0 < A <= B <= %d, comma separated)",
				s, part, uint64(math.MaxUint64))
		}
		if total += b - a + 1; b-a >= MaxSeeds || total > MaxSeeds {
			return nil, fmt.Errorf("--seeds %q: more than %d seeds in all (split the study into several sweeps and merge them)",
				s, MaxSeeds)
		}
		spans = append(spans, span{a, b})
	}
	sorted := slices.Clone(spans)
	slices.SortFunc(sorted, func(x, y span) int { return cmp.Compare(x.lo, y.lo) })
	for i := 1; i < len(sorted); i++ {
		if sorted[i].lo <= sorted[i-1].hi {
			return nil, fmt.Errorf("--seeds %q: seed %d given twice", s, sorted[i].lo)
		}
	}
	out := make([]uint64, 0, total)
	for _, sp := range spans {
		for x := sp.lo; ; x++ { // x <= hi would never end at hi = MaxUint64
			out = append(out, x)
			if x == sp.hi {
				break
			}
		}
	}
	return out, nil
}

// Sweep is a validated Spec with the scenario of each point built.
type Sweep struct {
	Spec   Spec
	points []*scenarios.Scenario
}

// New validates axes and seeds against base (every combination must be a
// valid scenario) and returns the sweep. source names base for sweep.json.
func New(source string, base *scenarios.Scenario, axes []Axis, seeds []uint64, allowBugs bool) (*Sweep, error) {
	if len(seeds) == 0 {
		return nil, fmt.Errorf("no seeds")
	}
	seen := map[string]bool{}
	runs := len(seeds)
	for _, a := range axes {
		if seen[a.Key] {
			return nil, fmt.Errorf("--set %s given twice", a.Key)
		}
		seen[a.Key] = true
		if runs *= max(len(a.Values), 1); runs > MaxSeeds { // checked per axis: the product cannot overflow
			return nil, fmt.Errorf("more than %d runs (the --set values' combinations × %d seeds); split the study into several sweeps and merge them",
				MaxSeeds, len(seeds))
		}
	}
	y, err := scenarios.Marshal(base)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", source, err)
	}
	sw := &Sweep{Spec: Spec{Version: FormatVersion, Source: source, Scenario: base.Name, ScenarioYAML: string(y),
		Axes: axes, Seeds: seeds, AllowBugs: allowBugs}}
	for p := 0; p < sw.Spec.Points(); p++ {
		c := *base // Set replaces the whole struct, so base is untouched
		s := &c
		for a, v := range sw.Spec.Point(p * len(seeds)) {
			if err := s.Set(axes[a].Key, v); err != nil {
				return nil, err
			}
		}
		if s.Bugs.Any() && !allowBugs {
			return nil, fmt.Errorf("%s: x-bugs: the scenario breaks Redis rules on purpose; rerun with --allow-bugs", source)
		}
		sw.points = append(sw.points, s)
	}
	return sw, nil
}

// SetMaxEvents sets every run's event limit (rcsim sweep --max-events) and
// checks each point fits in it.
func (sw *Sweep) SetMaxEvents(n int) error {
	if n < 0 {
		return fmt.Errorf("--max-events %d: want a positive number", n)
	}
	if n == sim.DefaultMaxEvents {
		n = 0 // sweep.json stays as it was without the flag
	}
	sw.Spec.MaxEvents = n
	return sw.checkCost()
}

// checkCost refuses a sweep with a point that cannot fit in its event limit
// (sim.CheckCost), before any run.
func (sw *Sweep) checkCost() error {
	for _, s := range sw.points {
		if err := sim.CheckCost(s, 0, sw.Spec.MaxEvents); err != nil {
			return err
		}
	}
	return nil
}

// Shard is a deterministic slice of a sweep: the runs whose index i has
// i mod Count == Index. The zero value (Count 0) is the whole sweep.
type Shard struct {
	Index int `json:"index"`
	Count int `json:"count"`
}

// Has reports whether run i belongs to the shard.
func (sh Shard) Has(i int) bool { return sh.Count <= 1 || i%sh.Count == sh.Index }

// String is "I/N", as --shard takes it.
func (sh Shard) String() string { return fmt.Sprintf("%d/%d", sh.Index, sh.Count) }

// ParseShard reads "I/N" with 0 <= I < N.
func ParseShard(s string) (Shard, error) {
	a, b, ok := strings.Cut(s, "/")
	i, err1 := strconv.Atoi(a)
	n, err2 := strconv.Atoi(b)
	if !ok || err1 != nil || err2 != nil || n < 1 || i < 0 || i >= n {
		return Shard{}, fmt.Errorf("--shard %q: want I/N with 0 <= I < N", s)
	}
	return Shard{Index: i, Count: n}, nil
}

// ShardFromEnv finds the shard of a batch job that did not pass --shard:
// a Kubernetes indexed Job's JOB_COMPLETION_INDEX with count (from
// --shard-count or RCSIM_SHARD_COUNT, since the Job does not export its
// completions), or a Slurm array's SLURM_ARRAY_TASK_ID and
// SLURM_ARRAY_TASK_COUNT (offset by SLURM_ARRAY_TASK_MIN). ok is false
// when none is set.
func ShardFromEnv(getenv func(string) string, count int) (sh Shard, ok bool, err error) {
	if count == 0 {
		if c := getenv("RCSIM_SHARD_COUNT"); c != "" {
			if count, err = strconv.Atoi(c); err != nil {
				return Shard{}, false, fmt.Errorf("RCSIM_SHARD_COUNT=%q: not a number", c)
			}
		}
	}
	if idx := getenv("JOB_COMPLETION_INDEX"); idx != "" {
		if count == 0 {
			return Shard{}, false, fmt.Errorf("JOB_COMPLETION_INDEX=%s is set: give the number of shards with --shard-count or RCSIM_SHARD_COUNT", idx)
		}
		sh, err := ParseShard(idx + "/" + strconv.Itoa(count))
		return sh, err == nil, envError("JOB_COMPLETION_INDEX", err)
	}
	id, n := getenv("SLURM_ARRAY_TASK_ID"), getenv("SLURM_ARRAY_TASK_COUNT")
	if id == "" || n == "" {
		return Shard{}, false, nil
	}
	i, err := strconv.Atoi(id)
	if err != nil {
		return Shard{}, false, fmt.Errorf("SLURM_ARRAY_TASK_ID=%q: not a number", id)
	}
	if m := getenv("SLURM_ARRAY_TASK_MIN"); m != "" {
		lo, err := strconv.Atoi(m)
		if err != nil {
			return Shard{}, false, fmt.Errorf("SLURM_ARRAY_TASK_MIN=%q: not a number", m)
		}
		i -= lo
	}
	sh, err = ParseShard(strconv.Itoa(i) + "/" + n)
	return sh, err == nil, envError("SLURM_ARRAY_TASK_ID", err)
}

func envError(name string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("%s: %v", name, err)
}

// FromSpec rebuilds a sweep from a Spec read back from sweep.json, from
// the scenario text it stores (the original file is not needed).
func FromSpec(sp Spec) (*Sweep, error) {
	base, err := scenarios.Parse(sp.Source, []byte(sp.ScenarioYAML))
	if err != nil {
		return nil, err
	}
	sw, err := New(sp.Source, base, sp.Axes, sp.Seeds, sp.AllowBugs)
	if err != nil {
		return nil, err
	}
	if sp.MaxEvents != 0 {
		// Part of the spec since --max-events; New does not know it.
		if err := sw.SetMaxEvents(sp.MaxEvents); err != nil {
			return nil, fmt.Errorf("%s: max_events: %v", sp.Source, err)
		}
	}
	if !sameSpec(sw.Spec, sp) {
		return nil, fmt.Errorf("%s: the stored scenario does not read back the same", sp.Source)
	}
	return sw, nil
}

// Scenario returns the scenario of run i, with its settings applied. Runs
// share it: callers must not change it.
func (sw *Sweep) Scenario(i int) *scenarios.Scenario { return sw.points[i/len(sw.Spec.Seeds)] }
