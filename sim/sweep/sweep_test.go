package sweep

// The sweep's promises: the files depend on the sweep alone, not on the
// number of jobs, on sharding and merging, or on interruptions and resumes.

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/rcsim/rcsim/scenarios"
)

// smallSweep is 2 node timeouts × 3 seeds of a short master crash.
func smallSweep(t *testing.T) *Sweep {
	t.Helper()
	base, err := scenarios.Load("testdata/short-crash.yaml")
	if err != nil {
		t.Fatal(err)
	}
	sw, err := New("testdata/short-crash.yaml", base,
		[]Axis{{Key: "cluster-node-timeout", Values: []string{"500", "1000"}}}, []uint64{1, 2, 3}, false)
	if err != nil {
		t.Fatal(err)
	}
	return sw
}

func runInto(t *testing.T, sw *Sweep, opt Options) (string, Result) {
	t.Helper()
	dir := t.TempDir()
	res, err := sw.Run(dir, opt)
	if err != nil {
		t.Fatal(err)
	}
	return dir, res
}

// sameFiles fails unless dirs a and b hold byte-identical sweep files.
func sameFiles(t *testing.T, a, b string) {
	t.Helper()
	for _, f := range []string{SpecFile, RunsFile, CSVFile} {
		x, err1 := os.ReadFile(filepath.Join(a, f))
		y, err2 := os.ReadFile(filepath.Join(b, f))
		if err1 != nil || err2 != nil {
			t.Fatalf("%s: %v %v", f, err1, err2)
		}
		if !bytes.Equal(x, y) {
			t.Errorf("%s differs:\n%s\n---\n%s", f, x, y)
		}
	}
}

func readRecords(t *testing.T, dir string) []Record {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, RunsFile))
	if err != nil {
		t.Fatal(err)
	}
	var out []Record
	for _, l := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		var r Record
		if err := json.Unmarshal([]byte(l), &r); err != nil {
			t.Fatalf("%q: %v", l, err)
		}
		out = append(out, r)
	}
	return out
}

func TestSweepRecordsEveryPointInOrder(t *testing.T) {
	dir, res := runInto(t, smallSweep(t), Options{Jobs: 2})
	if !res.Complete || res.Ran != 6 || res.Total != 6 {
		t.Fatalf("result %+v", res)
	}
	recs := readRecords(t, dir)
	wantTimeout := []string{"500", "500", "500", "1000", "1000", "1000"}
	for i, r := range recs {
		if r.Run != i || r.Seed != uint64(i%3+1) || r.Settings["cluster-node-timeout"] != wantTimeout[i] {
			t.Errorf("line %d: run %d seed %d settings %v", i, r.Run, r.Seed, r.Settings)
		}
		if len(r.Failovers) != 1 || r.Failovers[0].PromotedMs == nil {
			t.Errorf("run %d: no promotion recorded: %+v", i, r.Failovers)
		}
	}
	csv, _ := os.ReadFile(filepath.Join(dir, CSVFile))
	if n := strings.Count(string(csv), "\n"); n != 7 {
		t.Errorf("runs.csv has %d lines, want header + 6", n)
	}
}

func TestSweepTwiceIdentical(t *testing.T) {
	a, _ := runInto(t, smallSweep(t), Options{Jobs: 2})
	b, _ := runInto(t, smallSweep(t), Options{Jobs: 2})
	sameFiles(t, a, b)
}

func TestJobsDoNotChangeResults(t *testing.T) {
	a, _ := runInto(t, smallSweep(t), Options{Jobs: 1})
	b, _ := runInto(t, smallSweep(t), Options{Jobs: 2})
	c, _ := runInto(t, smallSweep(t), Options{Jobs: 5})
	sameFiles(t, a, b)
	sameFiles(t, a, c)
}

func TestShardsMergedEqualUnsharded(t *testing.T) {
	whole, _ := runInto(t, smallSweep(t), Options{Jobs: 2})
	s0, r0 := runInto(t, smallSweep(t), Options{Jobs: 1, Shard: Shard{0, 2}})
	s1, r1 := runInto(t, smallSweep(t), Options{Jobs: 1, Shard: Shard{1, 2}})
	if r0.Total != 3 || r1.Total != 3 || !r0.Complete || !r1.Complete {
		t.Fatalf("shards %+v %+v", r0, r1)
	}
	merged := t.TempDir()
	if _, err := Merge([]string{s1, s0}, merged); err != nil {
		t.Fatal(err)
	}
	sameFiles(t, whole, merged)
	if _, err := Merge([]string{s0}, t.TempDir()); err == nil || !strings.Contains(err.Error(), "3 of 6 runs are missing") {
		t.Errorf("merging one shard of two: %v", err)
	}
}

func TestMergeRefusesDifferentSweeps(t *testing.T) {
	a, _ := runInto(t, smallSweep(t), Options{Jobs: 2, Shard: Shard{0, 2}})
	other := smallSweep(t)
	other.Spec.Seeds = []uint64{1, 2, 4}
	b, _ := runInto(t, other, Options{Jobs: 2, Shard: Shard{1, 2}})
	if _, err := Merge([]string{a, b}, t.TempDir()); err == nil || !strings.Contains(err.Error(), "different sweeps") {
		t.Errorf("merge of two sweeps: %v", err)
	}
}

func TestResumeAfterInterruptEqualsUninterrupted(t *testing.T) {
	whole, _ := runInto(t, smallSweep(t), Options{Jobs: 2})
	cases := []struct {
		name string
		kept int                            // whole runs the interruption left
		tear func(t *testing.T, dir string) // what else it did
	}{
		{"stopped after whole lines", 2, func(*testing.T, string) {}},
		{"results lost", 0, func(t *testing.T, dir string) {
			for _, f := range []string{RunsFile, CSVFile} {
				if err := os.Remove(filepath.Join(dir, f)); err != nil {
					t.Fatal(err)
				}
			}
		}},
		{"killed mid-line", 2, func(t *testing.T, dir string) {
			f, err := os.OpenFile(filepath.Join(dir, RunsFile), os.O_APPEND|os.O_WRONLY, 0)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			f.WriteString(`{"run":5,"scenario":"short-cr`)
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir, res := runInto(t, smallSweep(t), Options{Jobs: 2, StopAfter: 2})
			if res.Complete || res.Ran != 2 {
				t.Fatalf("interrupted sweep: %+v", res)
			}
			c.tear(t, dir)
			res, err := smallSweep(t).Run(dir, Options{Jobs: 2, Resume: true})
			if err != nil {
				t.Fatal(err)
			}
			if !res.Complete || res.Resumed != c.kept || res.Ran != 6-c.kept {
				t.Errorf("resumed: %+v", res)
			}
			sameFiles(t, whole, dir)
		})
	}
}

func TestRunRefusesToMixSweeps(t *testing.T) {
	dir, _ := runInto(t, smallSweep(t), Options{Jobs: 2, StopAfter: 1})
	if _, err := smallSweep(t).Run(dir, Options{Jobs: 2}); err == nil || !strings.Contains(err.Error(), "--resume") {
		t.Errorf("rerun without --resume: %v", err)
	}
	other := smallSweep(t)
	other.Spec.Seeds = []uint64{7, 8, 9}
	if _, err := other.Run(dir, Options{Jobs: 2, Resume: true}); err == nil || !strings.Contains(err.Error(), "different sweep") {
		t.Errorf("resume with other seeds: %v", err)
	}
	if _, err := smallSweep(t).Run(dir, Options{Jobs: 2, Resume: true, Shard: Shard{1, 2}}); err == nil {
		t.Errorf("resume of the whole sweep as a shard succeeded")
	}
}

// TestResumeRefusesDamagedDirectories: what --resume and merge cannot trust
// is refused, naming the file, and left as it was.
func TestResumeRefusesDamagedDirectories(t *testing.T) {
	edit := func(t *testing.T, dir string, f func(lines []string) []string) {
		t.Helper()
		path := filepath.Join(dir, RunsFile)
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		lines := f(strings.SplitAfter(string(b), "\n"))
		if err := os.WriteFile(path, []byte(strings.Join(lines, "")), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cases := []struct {
		name   string
		damage func(t *testing.T, dir string)
		want   string
	}{
		{"no sweep.json", func(t *testing.T, dir string) {
			if err := os.Remove(filepath.Join(dir, SpecFile)); err != nil {
				t.Fatal(err)
			}
		}, "holds runs.jsonl but no sweep.json, so it cannot be resumed"},
		{"torn line in the middle", func(t *testing.T, dir string) {
			edit(t, dir, func(ls []string) []string { ls[1] = ls[1][:20] + "\n"; return ls })
		}, "runs.jsonl:2: a malformed record with more records after it"},
		{"seed not the run's", func(t *testing.T, dir string) {
			edit(t, dir, func(ls []string) []string {
				ls[0] = regexp.MustCompile(`"seed":\d+,`).ReplaceAllString(ls[0], `"seed":9,`)
				return ls
			})
		}, "has seed 9, but run"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir, _ := runInto(t, smallSweep(t), Options{Jobs: 2, StopAfter: 4})
			c.damage(t, dir)
			before, _ := os.ReadFile(filepath.Join(dir, RunsFile))
			if _, err := smallSweep(t).Run(dir, Options{Jobs: 2, Resume: true}); err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("resume: %v, want %q", err, c.want)
			}
			if after, _ := os.ReadFile(filepath.Join(dir, RunsFile)); !bytes.Equal(before, after) {
				t.Errorf("runs.jsonl changed")
			}
		})
	}
	s0, _ := runInto(t, smallSweep(t), Options{Jobs: 2, Shard: Shard{0, 2}})
	s1, _ := runInto(t, smallSweep(t), Options{Jobs: 2, Shard: Shard{1, 2}})
	before, _ := os.ReadFile(filepath.Join(s1, RunsFile))
	if _, err := Merge([]string{s0, s1}, s1); err == nil || !strings.Contains(err.Error(), "is one of the shards being merged") {
		t.Errorf("merge into a shard: %v", err)
	}
	if after, _ := os.ReadFile(filepath.Join(s1, RunsFile)); !bytes.Equal(before, after) {
		t.Errorf("the shard changed")
	}
}
