package reports

// Failed runs, grouped by what failed, each group with one command that
// reproduces it; and every run that lost writes or broke an invariant,
// with its seed and its own command.

import (
	"fmt"
	"sort"
	"strings"
)

// maxFindings caps the runs listed one by one in report.html; runs.csv
// has them all.
const maxFindings = 200

// FailureGroup is the failed runs that failed the same way.
type FailureGroup struct {
	What     string // "failover_within; invariant:one_vote_per_epoch"
	Count    int
	Settings string // how the group's runs spread over the varying settings: "5000 ×12, 8000 ×3"
	Seeds    string // its seeds, compactly
	Example  string // the first run's "got" of each failed expectation
	Command  string // reproduces the first run of the group
}

// failureKey names what a run failed: the failed expectations, the broken
// invariant rules and a simulator panic, sorted.
func failureKey(r Run) (key, detail string) {
	var what, got []string
	for _, e := range r.Expectations {
		if !e.OK {
			what = append(what, e.Name)
			got = append(got, e.Name+": want "+e.Want+", got "+e.Got)
		}
	}
	seen := map[string]bool{}
	for _, v := range r.Invariants {
		if k := "invariant:" + v.Rule; !seen[k] {
			seen[k] = true
			what = append(what, k)
			got = append(got, v.String())
		}
	}
	if r.Panic != "" {
		what = append(what, "simulator panic")
		got = append(got, firstLine(r.Panic))
	}
	sort.Strings(what)
	return strings.Join(what, "; "), strings.Join(got, "; ")
}

func firstLine(s string) string {
	l, _, _ := strings.Cut(s, "\n")
	return l
}

// FailureGroups groups the runs whose expectations or invariants failed,
// largest group first.
func FailureGroups(m Meta, runs []Run) []FailureGroup {
	var out []FailureGroup
	index := map[string]int{}
	labels := map[string][]string{}
	seeds := map[string][]uint64{}
	for _, r := range runs {
		if r.OK {
			continue
		}
		key, detail := failureKey(r)
		i, ok := index[key]
		if !ok {
			i = len(out)
			index[key] = i
			out = append(out, FailureGroup{What: key, Example: detail, Command: RunCommand(m, r)})
		}
		out[i].Count++
		labels[key] = append(labels[key], runLabel(m, r))
		seeds[key] = append(seeds[key], r.Seed)
	}
	for i := range out {
		out[i].Settings = countList(labels[out[i].What])
		s := seeds[out[i].What]
		sort.Slice(s, func(a, b int) bool { return s[a] < s[b] })
		out[i].Seeds = SeedText(dedupe(s))
	}
	sort.SliceStable(out, func(a, b int) bool { return out[a].Count > out[b].Count })
	return out
}

func dedupe(s []uint64) []uint64 {
	var out []uint64
	for i, v := range s {
		if i == 0 || v != s[i-1] {
			out = append(out, v)
		}
	}
	return out
}

// countList prints "a ×3, b ×1" in first-seen order.
func countList(xs []string) string {
	var order []string
	n := map[string]int{}
	for _, x := range xs {
		if n[x] == 0 {
			order = append(order, x)
		}
		n[x]++
	}
	parts := make([]string, len(order))
	for i, x := range order {
		parts[i] = fmt.Sprintf("%s ×%d", x, n[x])
	}
	return strings.Join(parts, ", ")
}

// runLabel names a run's varying settings ("all runs" when none vary).
func runLabel(m Meta, r Run) string {
	combo := make([]string, len(m.Axes))
	for i, a := range m.Axes {
		combo[i] = r.Settings[a.Key]
	}
	return label(m.Axes, combo, -1)
}

// RunFinding is one run that lost acknowledged writes or broke an
// invariant.
type RunFinding struct {
	Run        int
	Seed       uint64
	Settings   string
	LostWrites int
	Invariants string
	Command    string
}

// RunFindings lists up to limit runs that lost writes or broke an
// invariant, in run order, and how many more there are.
func RunFindings(m Meta, runs []Run, limit int) ([]RunFinding, int) {
	var out []RunFinding
	more := 0
	for _, r := range runs {
		if r.Check.LostWrites == 0 && len(r.Invariants) == 0 {
			continue
		}
		if len(out) == limit {
			more++
			continue
		}
		var rules []string
		for _, v := range r.Invariants {
			rules = append(rules, v.Rule)
		}
		out = append(out, RunFinding{Run: r.Run, Seed: r.Seed, Settings: runLabel(m, r), LostWrites: r.Check.LostWrites,
			Invariants: countList(rules), Command: RunCommand(m, r)})
	}
	return out, more
}

// RunCommand is the `rcsim run` line that reruns one run of a sweep: the
// scenario, its seed and every setting of its point, so it holds whatever
// the sweep's defaults were.
func RunCommand(m Meta, r Run) string {
	parts := []string{"rcsim", "run", ShellQuote(m.Source), "--seed", fmt.Sprint(r.Seed)}
	for _, a := range m.Axes {
		if v, ok := r.Settings[a.Key]; ok {
			parts = append(parts, "--set", ShellQuote(a.Key+"="+v))
		}
	}
	return strings.Join(parts, " ")
}

// ShellQuote quotes s for a POSIX shell when it holds anything but
// letters, digits and -_./=,:@+.
func ShellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./=,:@+") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
