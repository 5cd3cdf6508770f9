package sweep

// Joining shards: the directories of one sweep's shards become one
// directory identical to the unsharded sweep's.

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// Merge joins the sweep directories dirs (shards of one sweep, or partial
// copies of it) into out: sweep.json without a shard, runs.jsonl and
// runs.csv in run-index order. Every dir must hold the same Spec; a run
// found twice must be byte-identical; every run must be present.
func Merge(dirs []string, out string) (Spec, error) {
	if len(dirs) == 0 {
		return Spec{}, fmt.Errorf("merge: no directories")
	}
	if st, err := os.Stat(out); err == nil {
		for _, d := range dirs {
			if ds, err := os.Stat(d); err == nil && os.SameFile(st, ds) {
				return Spec{}, fmt.Errorf("merge: --out %s is one of the shards being merged; write the merge elsewhere", out)
			}
		}
	}
	var spec Spec
	byRun := map[int]line{}
	from := map[int]string{}
	for k, d := range dirs {
		sp, _, err := ReadSpec(d)
		if err != nil {
			return Spec{}, err
		}
		if k == 0 {
			spec = sp
		} else if !sameSpec(sp, spec) {
			return Spec{}, fmt.Errorf("merge: %s and %s hold different sweeps (scenario, --set or --seeds differ)",
				filepath.Join(dirs[0], SpecFile), filepath.Join(d, SpecFile))
		}
		lines, _, err := readRuns(filepath.Join(d, RunsFile))
		if err != nil {
			return Spec{}, err
		}
		for _, l := range lines {
			if l.run < 0 || l.run >= spec.Runs() {
				return Spec{}, fmt.Errorf("merge: %s: run %d is outside the sweep (0..%d)", filepath.Join(d, RunsFile), l.run, spec.Runs()-1)
			}
			if err := spec.checkSeed(filepath.Join(d, RunsFile), l); err != nil {
				return Spec{}, fmt.Errorf("merge: %w", err)
			}
			if old, dup := byRun[l.run]; dup && !bytes.Equal(old.json, l.json) {
				return Spec{}, fmt.Errorf("merge: run %d differs between %s and %s", l.run, from[l.run], d)
			}
			byRun[l.run], from[l.run] = l, d
		}
	}
	if n, first := missingRuns(spec.Runs(), byRun); n > 0 {
		return Spec{}, fmt.Errorf("merge: %d of %d runs are missing (first: %s); finish the shards with --resume",
			n, spec.Runs(), strings.Join(first, " "))
	}
	lines := make([]line, 0, len(byRun))
	for i := 0; i < spec.Runs(); i++ {
		lines = append(lines, byRun[i])
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return Spec{}, err
	}
	if err := writeSpec(out, spec, Shard{}); err != nil {
		return Spec{}, err
	}
	return spec, writeAll(out, spec, lines)
}

// missingRuns counts the run indices below n absent from have and lists
// the first ten.
func missingRuns(n int, have map[int]line) (count int, first []string) {
	for i := 0; i < n; i++ {
		if _, ok := have[i]; !ok {
			count++
			if len(first) < 10 {
				first = append(first, fmt.Sprint(i))
			}
		}
	}
	return count, first
}
