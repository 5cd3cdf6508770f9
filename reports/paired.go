package reports

// Paired comparisons: the same seeds run under two choices (rule sets,
// settings or scenario files), compared seed by seed. The differences are
// paired, so each seed's fault schedule and client load cancel out; their
// median and a seeded bootstrap confidence interval say how large the
// effect is and how sure.

import (
	"encoding/json"
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"slices"
	"sort"
	"strconv"
	"strings"

	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"

	"github.com/rcsim/rcsim/checker"
)

// Side is one arm of a comparison: what ran and how to run it again.
type Side struct {
	Label  string   `json:"label"`  // "rules=redis-7.0" or the scenario file
	Source string   `json:"source"` // the scenario argument
	Sets   []string `json:"sets"`   // KEY=VALUE overrides, in order
}

// RunLine is the `rcsim run` command of one seed of this side.
func (s Side) RunLine(seed uint64) string {
	line := fmt.Sprintf("rcsim run %s --seed %d", s.Source, seed)
	for _, kv := range s.Sets {
		line += " --set '" + kv + "'"
	}
	return line
}

// PairRow is one metric of one seed: A's value, B's, and B − A (nil where
// a side has no value, e.g. no promotion).
type PairRow struct {
	Seed   uint64 `json:"seed"`
	Metric string `json:"metric"`
	A      *int64 `json:"a"`
	B      *int64 `json:"b"`
	Diff   *int64 `json:"diff"`
}

// PairedStats summarises one metric over the seeds: how many seeds have
// both values, how many only one, the medians, the median of the paired
// differences B − A and its 95% bootstrap interval.
type PairedStats struct {
	Metric     string   `json:"metric"`
	N          int      `json:"n"`
	OnlyA      int      `json:"only_a"`
	OnlyB      int      `json:"only_b"`
	Differ     int      `json:"differ"` // seeds with both values and a nonzero difference
	MedianA    *float64 `json:"median_a"`
	MedianB    *float64 `json:"median_b"`
	MedianDiff *float64 `json:"median_diff"`
	CILow      *float64 `json:"ci_low"`
	CIHigh     *float64 `json:"ci_high"`
}

// VerdictDiff is a seed whose verdict (checker verdict or expectations)
// differs between the sides, with the commands that show it.
type VerdictDiff struct {
	Seed uint64 `json:"seed"`
	A    string `json:"a"`
	B    string `json:"b"`
	RunA string `json:"run_a"`
	RunB string `json:"run_b"`
}

// Comparison is what `rcsim compare` reports and writes as compare.json
// (the rows go to compare.csv).
type Comparison struct {
	Scenario       string        `json:"scenario"`
	A              Side          `json:"a"`
	B              Side          `json:"b"`
	Seeds          []uint64      `json:"seeds"`
	Metrics        []PairedStats `json:"metrics"`
	VerdictDiffers []VerdictDiff `json:"verdict_differs"`
	Rows           []PairRow     `json:"-"`
}

// bootstrapResamples is the number of bootstrap resamples per metric.
const bootstrapResamples = 2000

// Compare pairs a[i] with b[i] (the same seed) and computes the rows, the
// statistics and the verdict differences. It is deterministic: the
// bootstrap draws from a stream seeded by the metric's name.
func Compare(scenario string, sa, sb Side, a, b []checker.Summary) (Comparison, error) {
	if len(a) != len(b) {
		return Comparison{}, fmt.Errorf("compare: %d runs under A, %d under B", len(a), len(b))
	}
	c := Comparison{Scenario: scenario, A: sa, B: sb, Seeds: []uint64{}, VerdictDiffers: []VerdictDiff{}}
	var names []string
	perSeed := make([][2]map[string]*int64, len(a))
	for i := range a {
		if a[i].Seed != b[i].Seed {
			return Comparison{}, fmt.Errorf("compare: run %d is seed %d under A, %d under B", i, a[i].Seed, b[i].Seed)
		}
		c.Seeds = append(c.Seeds, a[i].Seed)
		for side, s := range []checker.Summary{a[i], b[i]} {
			m := map[string]*int64{}
			for _, nv := range pairedValues(s) {
				m[nv.name] = nv.v
				if !slices.Contains(names, nv.name) {
					names = append(names, nv.name)
				}
			}
			perSeed[i][side] = m
		}
		if va, vb := verdictOf(a[i]), verdictOf(b[i]); va != vb {
			c.VerdictDiffers = append(c.VerdictDiffers, VerdictDiff{Seed: a[i].Seed, A: va, B: vb,
				RunA: sa.RunLine(a[i].Seed), RunB: sb.RunLine(a[i].Seed)})
		}
	}
	sort.SliceStable(names, func(i, j int) bool { return metricOrder(names[i]) < metricOrder(names[j]) })
	for _, name := range names {
		st := PairedStats{Metric: name}
		var as, bs, ds []int64
		for i, seed := range c.Seeds {
			va, vb := perSeed[i][0][name], perSeed[i][1][name]
			row := PairRow{Seed: seed, Metric: name, A: va, B: vb}
			switch {
			case va != nil && vb != nil:
				d := *vb - *va
				row.Diff = &d
				st.N++
				as, bs, ds = append(as, *va), append(bs, *vb), append(ds, d)
				if d != 0 {
					st.Differ++
				}
			case va != nil:
				st.OnlyA++
			case vb != nil:
				st.OnlyB++
			}
			c.Rows = append(c.Rows, row)
		}
		st.MedianA, st.MedianB, st.MedianDiff = median(as), median(bs), median(ds)
		st.CILow, st.CIHigh = bootstrapCI(name, ds)
		c.Metrics = append(c.Metrics, st)
	}
	return c, nil
}

// namedValue is one metric of one run.
type namedValue struct {
	name string
	v    *int64
}

// pairedValues are the metrics of a run that a comparison pairs: per
// failed master (its shard) the FAIL flag, the promotion and the write
// downtime, then the
// whole cluster's writes resumed and recovery, lost writes, stale reads
// and the verdicts as 0/1.
func pairedValues(s checker.Summary) []namedValue {
	var out []namedValue
	seen := map[string]int{}
	var resumed, recovered *int64
	complete := len(s.Failovers) > 0
	first := int64(0)
	for i, f := range s.Failovers {
		if i == 0 {
			first = f.FaultAtMs
		}
		shard := f.FailedNode
		if seen[shard]++; seen[shard] > 1 {
			shard += "#" + strconv.Itoa(seen[shard])
		}
		out = append(out, namedValue{"fail_ms:" + shard, f.FailMs}, namedValue{"promotion_ms:" + shard, f.PromotedMs},
			namedValue{"downtime_ms:" + shard, f.WritesResumedMs})
		if f.WritesResumedMs == nil || f.ClusterOKMs == nil {
			complete = false
			continue
		}
		w := f.FaultAtMs + *f.WritesResumedMs - first
		ok := f.FaultAtMs + *f.ClusterOKMs - first
		if resumed == nil || w > *resumed {
			resumed = &w
		}
		if recovered == nil || ok > *recovered {
			recovered = &ok
		}
	}
	if !complete {
		resumed, recovered = nil, nil
	}
	i64 := func(v int) *int64 { x := int64(v); return &x }
	b01 := func(b bool) *int64 {
		if b {
			return i64(1)
		}
		return i64(0)
	}
	promoted := 0
	for _, f := range s.Failovers {
		if f.PromotedMs != nil {
			promoted++
		}
	}
	return append(out,
		namedValue{"writes_resumed_ms", resumed},
		namedValue{"recovery_ms", recovered},
		namedValue{"promotions", i64(promoted)},
		namedValue{"lost_writes", i64(s.Check.LostWrites)},
		namedValue{"stale_reads", i64(s.Check.StaleReads)},
		namedValue{"linearizable", b01(s.Check.Linearizable)},
		namedValue{"ok", b01(s.OK)})
}

// metricOrder puts the whole-cluster metrics first, then per shard.
func metricOrder(name string) int {
	switch {
	case !strings.Contains(name, ":"):
		return 0
	case strings.HasPrefix(name, "fail_ms:"):
		return 1
	case strings.HasPrefix(name, "promotion_ms:"):
		return 2
	default:
		return 3
	}
}

// verdictOf is a run's verdict in words: the checker's verdict and the
// expectations that failed.
func verdictOf(s checker.Summary) string {
	v := "history " + string(s.Check.Verdict)
	var failed []string
	for _, e := range s.Expectations {
		if !e.OK {
			failed = append(failed, e.Name)
		}
	}
	for _, inv := range s.Invariants {
		failed = append(failed, "invariant "+inv.Rule)
	}
	switch {
	case len(failed) == 0 && !s.OK:
		return v + ", not ok"
	case len(failed) == 0:
		return v + ", expectations held"
	}
	return v + ", failed: " + strings.Join(failed, ", ")
}

// median of xs (the mean of the middle two for an even count); nil if none.
func median(xs []int64) *float64 {
	if len(xs) == 0 {
		return nil
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	m := float64(s[len(s)/2])
	if len(s)%2 == 0 {
		m = (float64(s[len(s)/2-1]) + m) / 2
	}
	return &m
}

// bootstrapCI is the 95% percentile bootstrap interval of the median of
// ds, from a stream seeded by the metric name, so it is the same every run.
func bootstrapCI(metric string, ds []int64) (lo, hi *float64) {
	if len(ds) == 0 {
		return nil, nil
	}
	h := fnv.New64a()
	h.Write([]byte(metric))
	rnd := rand.New(rand.NewPCG(h.Sum64(), uint64(len(ds))))
	meds := make([]float64, bootstrapResamples)
	sample := make([]int64, len(ds))
	for r := range meds {
		for i := range sample {
			sample[i] = ds[rnd.IntN(len(ds))]
		}
		meds[r] = *median(sample)
	}
	slices.Sort(meds)
	l, u := meds[bootstrapResamples*25/1000], meds[bootstrapResamples*975/1000-1]
	return &l, &u
}

// CSV is compare.csv: seed,metric,a,b,diff, a row per seed and metric
// (empty where a side has no value).
func (c Comparison) CSV() []byte {
	var b strings.Builder
	b.WriteString("seed,metric,a,b,diff\n")
	cell := func(v *int64) string {
		if v == nil {
			return ""
		}
		return strconv.FormatInt(*v, 10)
	}
	for _, r := range c.Rows {
		fmt.Fprintf(&b, "%d,%s,%s,%s,%s\n", r.Seed, r.Metric, cell(r.A), cell(r.B), cell(r.Diff))
	}
	return []byte(b.String())
}

// JSON is compare.json.
func (c Comparison) JSON() ([]byte, error) {
	b, err := json.MarshalIndent(c, "", "  ")
	return append(b, '\n'), err
}

// PairedFigure draws the paired differences B − A of the time metrics, one
// box per metric (quartiles, whiskers to 1.5 IQR), with a zero line.
func PairedFigure(c Comparison) *Figure {
	f := newFigure("compare", fmt.Sprintf("%s: %s − %s, paired by seed", c.Scenario, c.B.Label, c.A.Label),
		"metric", "B − A (s)")
	var names []string
	var stats []PairedStats
	for _, st := range c.Metrics {
		if !strings.Contains(st.Metric, "_ms") || st.N == 0 {
			continue
		}
		var vs plotter.Values
		for _, r := range c.Rows {
			if r.Metric == st.Metric && r.Diff != nil {
				vs = append(vs, float64(*r.Diff)/1000)
			}
		}
		box, err := plotter.NewBoxPlot(vg.Points(18), float64(len(names)), vs)
		if err != nil {
			continue
		}
		f.Plot.Add(box)
		names = append(names, st.Metric)
		stats = append(stats, st)
	}
	if len(names) > 0 {
		zero, err := plotter.NewLine(plotter.XYs{{X: -0.5, Y: 0}, {X: float64(len(names)) - 0.5, Y: 0}})
		if err == nil {
			f.Plot.Add(zero)
		}
		labels := make([]string, len(names))
		for i, n := range names { // "promotion_ms:m0" → "promotion\nm0", so labels do not overlap
			labels[i] = strings.Replace(strings.Replace(n, "_ms", "", 1), ":", "\n", 1)
		}
		f.Plot.NominalX(labels...)
		f.Width = max(f.Width, vg.Length(len(names))*vg.Inch)
	}
	f.Data = stats
	return f
}
