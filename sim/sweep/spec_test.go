package sweep

import (
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/rcsim/rcsim/scenarios"
)

func TestParseAxis(t *testing.T) {
	cases := []struct {
		name, in string
		want     Axis
		err      string
	}{
		{"values in order", "cluster-node-timeout=1000,2000,5000", Axis{"cluster-node-timeout", []string{"1000", "2000", "5000"}}, ""},
		{"commas inside braces do not split", "network.latency={dist: constant, value: 1ms},{dist: constant, value: 5ms}",
			Axis{"network.latency", []string{"{dist: constant, value: 1ms}", "{dist: constant, value: 5ms}"}}, ""},
		{"no equals sign", "cluster-node-timeout", Axis{}, "want KEY=V1,V2"},
		{"empty value", "masters=3,,5", Axis{}, "empty value"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := ParseAxis(c.in)
			if c.err != "" {
				if err == nil || !strings.Contains(err.Error(), c.err) {
					t.Fatalf("error %v, want %q", err, c.err)
				}
				return
			}
			if err != nil || !reflect.DeepEqual(got, c.want) {
				t.Errorf("got %+v, %v", got, err)
			}
		})
	}
}

func TestParseSeeds(t *testing.T) {
	cases := []struct {
		name, in string
		want     []uint64
		err      string
	}{
		{"range", "1..4", []uint64{1, 2, 3, 4}, ""},
		{"list and range", "9,1..2", []uint64{9, 1, 2}, ""},
		{"zero is not a seed", "0..3", nil, "bad part"},
		{"backwards range", "5..1", nil, "bad part"},
		{"seed twice", "1..3,2", nil, "given twice"},
		{"not a number", "a", nil, "bad part"},
		{"the largest seed", "18446744073709551615", []uint64{18446744073709551615}, ""},
		{"a range ending at the largest seed", "18446744073709551614..18446744073709551615",
			[]uint64{18446744073709551614, 18446744073709551615}, ""},
		{"past the largest seed", "18446744073709551616", nil, "bad part"},
		{"one part over the cap", "1..10000001", nil, "more than 10000000 seeds"},
		{"parts over the cap together", "1..6000000,7000000..12000000", nil, "more than 10000000 seeds"},
		{"contained range twice", "1..100,50,200", nil, "seed 50 given twice"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := ParseSeeds(c.in)
			if c.err != "" {
				if err == nil || !strings.Contains(err.Error(), c.err) {
					t.Fatalf("error %v, want %q", err, c.err)
				}
				return
			}
			if err != nil || !reflect.DeepEqual(got, c.want) {
				t.Errorf("got %v, %v", got, err)
			}
		})
	}
}

func TestShardFromFlagAndEnv(t *testing.T) {
	cases := []struct {
		name  string
		env   map[string]string
		count int
		want  Shard
		ok    bool
		err   string
	}{
		{"nothing set", nil, 0, Shard{}, false, ""},
		{"kubernetes index with --shard-count", map[string]string{"JOB_COMPLETION_INDEX": "3"}, 8, Shard{3, 8}, true, ""},
		{"kubernetes index with RCSIM_SHARD_COUNT", map[string]string{"JOB_COMPLETION_INDEX": "0", "RCSIM_SHARD_COUNT": "4"}, 0, Shard{0, 4}, true, ""},
		{"kubernetes index without a count", map[string]string{"JOB_COMPLETION_INDEX": "1"}, 0, Shard{}, false, "--shard-count"},
		{"kubernetes index out of range", map[string]string{"JOB_COMPLETION_INDEX": "4"}, 4, Shard{}, false, "JOB_COMPLETION_INDEX"},
		{"slurm array from 0", map[string]string{"SLURM_ARRAY_TASK_ID": "2", "SLURM_ARRAY_TASK_COUNT": "5"}, 0, Shard{2, 5}, true, ""},
		{"slurm array from 1", map[string]string{"SLURM_ARRAY_TASK_ID": "5", "SLURM_ARRAY_TASK_COUNT": "5", "SLURM_ARRAY_TASK_MIN": "1"}, 0, Shard{4, 5}, true, ""},
		{"slurm id not a number", map[string]string{"SLURM_ARRAY_TASK_ID": "x", "SLURM_ARRAY_TASK_COUNT": "5"}, 0, Shard{}, false, "SLURM_ARRAY_TASK_ID"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, ok, err := ShardFromEnv(func(k string) string { return c.env[k] }, c.count)
			if c.err != "" {
				if err == nil || !strings.Contains(err.Error(), c.err) {
					t.Fatalf("error %v, want %q", err, c.err)
				}
				return
			}
			if err != nil || ok != c.ok || got != c.want {
				t.Errorf("got %v %v %v, want %v %v", got, ok, err, c.want, c.ok)
			}
		})
	}
	for _, bad := range []string{"2/2", "-1/3", "1", "a/b", "0/0"} {
		if _, err := ParseShard(bad); err == nil {
			t.Errorf("ParseShard(%q) succeeded", bad)
		}
	}
}

func TestPointsCrossAxesFirstSlowest(t *testing.T) {
	sp := Spec{Axes: []Axis{{"a", []string{"1", "2"}}, {"b", []string{"x", "y", "z"}}}, Seeds: []uint64{5, 6}}
	if sp.Runs() != 12 {
		t.Fatalf("runs %d", sp.Runs())
	}
	var got []string
	for i := 0; i < sp.Runs(); i += 2 {
		got = append(got, strings.Join(sp.Point(i), ""))
	}
	if want := []string{"1x", "1y", "1z", "2x", "2y", "2z"}; !reflect.DeepEqual(got, want) {
		t.Errorf("points %v, want %v", got, want)
	}
	if sp.Seed(7) != 6 {
		t.Errorf("seed of run 7: %d", sp.Seed(7))
	}
}

func TestNewRejectsBadSettings(t *testing.T) {
	base, err := scenarios.Builtin("master-crash")
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		axes []Axis
		err  string
	}{
		{"unknown key", []Axis{{"nope", []string{"1"}}}, "unknown setting"},
		{"invalid value", []Axis{{"cluster-node-timeout", []string{"1000", "-5"}}}, "cluster-node-timeout=-5"},
		{"key twice", []Axis{{"masters", []string{"3"}}, {"masters", []string{"5"}}}, "given twice"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if _, err := New("master-crash", base, c.axes, []uint64{1}, false); err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("error %v, want %q", err, c.err)
			}
		})
	}
}

// TestNewCapsRuns: combinations × seeds over MaxSeeds is refused before any
// scenario is built, however many axes multiply.
func TestNewCapsRuns(t *testing.T) {
	base, err := scenarios.Builtin("master-crash")
	if err != nil {
		t.Fatal(err)
	}
	seeds, err := ParseSeeds("1..5000001")
	if err != nil {
		t.Fatal(err)
	}
	two := []Axis{{"cluster-node-timeout", []string{"1000", "2000"}}}
	if _, err := New("master-crash", base, two, seeds, false); err == nil || !strings.Contains(err.Error(), "more than 10000000 runs") {
		t.Errorf("error %v", err)
	}
	var many []Axis
	for i := 0; i < 70; i++ { // 2^70 combinations
		many = append(many, Axis{fmt.Sprintf("faults[%d].at", i), []string{"1s", "2s"}})
	}
	if _, err := New("master-crash", base, many, []uint64{1}, false); err == nil || !strings.Contains(err.Error(), "more than 10000000 runs") {
		t.Errorf("error %v", err)
	}
}

// TestFromSpecKeepsMaxEvents: a sweep run with --max-events reads back from
// its sweep.json (rcsim report and --resume rebuild it there); it once
// failed with "the stored scenario does not read back the same".
func TestFromSpecKeepsMaxEvents(t *testing.T) {
	s, err := scenarios.Builtin("master-crash")
	if err != nil {
		t.Fatal(err)
	}
	sw, err := New("master-crash", s, []Axis{{"cluster-node-timeout", []string{"1000", "2000"}}}, []uint64{1}, false)
	if err != nil {
		t.Fatal(err)
	}
	if err := sw.SetMaxEvents(50_000_000); err != nil {
		t.Fatal(err)
	}
	back, err := FromSpec(sw.Spec)
	if err != nil {
		t.Fatalf("FromSpec: %v", err)
	}
	if back.Spec.MaxEvents != 50_000_000 {
		t.Errorf("max_events read back as %d", back.Spec.MaxEvents)
	}
}
