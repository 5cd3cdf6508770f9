package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"slices"
	"time"

	"github.com/spf13/cobra"

	"rcsim/checker"
	"rcsim/checker/history"
	"rcsim/sim/trace"
)

// checkFlags are the options of `rcsim check`.
type checkFlags struct {
	model, html, tracePath, summary string
	budget, converge                time.Duration
	maxInputMiB                     int64
}

// defaultMaxInputMiB bounds a history or trace `rcsim check` reads (about a
// million operations; the checker needs several times a file's size in
// memory). --max-input-mib raises it.
const defaultMaxInputMiB = 512

func newCheckCmd(stdout io.Writer) *cobra.Command {
	var f checkFlags
	cmd := &cobra.Command{
		Use:   "check HISTORY.jsonl",
		Short: "Check a client history for linearizability, lost writes and stale reads",
		Long: `Check a history.jsonl (from rcsim or from outside it, in the documented
format) against a model. With --trace (an rcsim trace.jsonl) the findings
are explained with the cluster's state at the time, lost writes are
attributed to their mechanism, and the trace invariants are checked.
Exits 0 if the history is linearizable and every invariant holds, 1 if not
or if the checker ran out of budget (verdict unknown), 2 on bad input.`,
		Args: cobra.ExactArgs(1),
		RunE: func(_ *cobra.Command, args []string) error { return checkFile(args[0], f, stdout) },
	}
	fl := cmd.Flags()
	fl.StringVar(&f.model, "model", "register", "register | counter | list")
	fl.StringVar(&f.html, "html", "", "write Porcupine's visualization to this file")
	fl.StringVar(&f.tracePath, "trace", "", "trace.jsonl of the same run, for context, attribution and invariants")
	fl.StringVar(&f.summary, "summary", "", "write the findings as JSON (the check part of summary.json) to this file")
	fl.DurationVar(&f.budget, "budget", time.Minute, "wall-clock budget per key; past it the verdict is unknown")
	fl.DurationVar(&f.converge, "converge-within", 0, "bound of the convergence invariant (with --trace; default 30s)")
	fl.Int64Var(&f.maxInputMiB, "max-input-mib", defaultMaxInputMiB, "refuse a history or trace file larger than this many MiB")
	return cmd
}

func checkFile(path string, f checkFlags, stdout io.Writer) error {
	switch f.model {
	case "register", "counter", "list":
	default:
		return badInput("--model: unknown model %q (want register, counter or list)", f.model)
	}
	if f.budget <= 0 {
		return badInput("--budget: must be positive, got %s", f.budget)
	}
	if f.maxInputMiB <= 0 || f.maxInputMiB > 1<<20 {
		return badInput("--max-input-mib: want 1 to %d, got %d", 1<<20, f.maxInputMiB)
	}
	limit := f.maxInputMiB << 20
	ops, err := readHistoryFile(path, limit)
	if err != nil {
		return err
	}
	var events []trace.Event
	if f.tracePath != "" {
		if events, err = readTraceFile(f.tracePath, limit); err != nil {
			return err
		}
	}
	sum, err := checker.Check(checker.Input{History: ops, Trace: events, Model: f.model, Budget: f.budget,
		ConvergeWithin: f.converge})
	if err != nil {
		return inputError{fmt.Errorf("%s: %w", path, err)}
	}
	c := sum.Check
	fmt.Fprintf(stdout, "%s: %s (%d ops, %d unknown, %d failed), %d acknowledged writes lost, %d stale reads\n",
		path, c.Verdict, c.Ops, c.Unknown, c.Failed, c.LostWrites, c.StaleReads)
	printFindings(stdout, sum, len(events) > 0, -1)
	if f.summary != "" {
		if err := writeJSONFile(f.summary, sum); err != nil {
			return err
		}
	}
	if f.html != "" {
		if err := writeVisualization(f.html, f.model, ops); err != nil {
			return err
		}
	}
	if c.Verdict != checker.VerdictOK || len(sum.Invariants) > 0 {
		return failedError{fmt.Sprintf("%s: %s, %d invariants violated", path, c.Verdict, len(sum.Invariants))}
	}
	return nil
}

func readHistoryFile(path string, limit int64) ([]history.Op, error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, badInput("%v", err)
	}
	defer fh.Close()
	ops, err := history.Read(path, &boundedReader{r: fh, left: limit, path: path})
	if err != nil {
		return nil, inputError{err}
	}
	return ops, nil
}

func readTraceFile(path string, limit int64) ([]trace.Event, error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, badInput("--trace: %v", err)
	}
	defer fh.Close()
	events, err := trace.Read(path, &boundedReader{r: fh, left: limit, path: path})
	if err != nil {
		return nil, inputError{err}
	}
	return events, nil
}

// boundedReader fails with a clear error once more than left bytes were
// asked of it, so a huge file (or /dev/zero) is refused after reading the
// limit, not after filling memory.
type boundedReader struct {
	r    io.Reader
	left int64
	path string
	max  int64
}

func (b *boundedReader) Read(p []byte) (int, error) {
	if b.max == 0 {
		b.max = b.left
	}
	if b.left <= 0 {
		return 0, fmt.Errorf("%s is larger than %d MiB (raise the limit with --max-input-mib)", b.path, b.max>>20)
	}
	if int64(len(p)) > b.left {
		p = p[:b.left]
	}
	n, err := b.r.Read(p)
	b.left -= int64(n)
	return n, err
}

func writeJSONFile(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return simBugError{fmt.Sprintf("rcsim: encoding %s: %v", path, err)}
	}
	if err := os.WriteFile(path, append(b, '\n'), 0o644); err != nil {
		return badInput("%v", err)
	}
	return nil
}

// writeVisualization writes Porcupine's HTML for ops to path.
func writeVisualization(path, model string, ops []history.Op) error {
	hf, err := os.Create(path)
	if err != nil {
		return badInput("%v", err)
	}
	defer hf.Close()
	if err := checker.Visualize(model, ops, hf); err != nil {
		return simBugError{fmt.Sprintf("rcsim: visualization: %v", err)}
	}
	return nil
}

// printFindings prints the failing keys with their ops and context, the lost
// writes with their mechanism, the stale reads and the broken invariants;
// each list is cut after limit entries (-1: no limit).
func printFindings(w io.Writer, sum checker.Summary, withTrace bool, limit int) {
	c := sum.Check
	cut := func(n int) int {
		if limit >= 0 && n > limit {
			return limit
		}
		return n
	}
	for _, k := range c.Keys[:cut(len(c.Keys))] {
		fmt.Fprintf(w, "key %s: %s", k.Key, k.Verdict)
		if k.Reason != "" {
			fmt.Fprintf(w, " (%s)", k.Reason)
		}
		fmt.Fprintln(w)
		if len(k.Context) > 0 {
			for _, line := range k.Context {
				fmt.Fprintf(w, "  %s\n", line)
			}
			continue
		}
		for _, op := range k.Ops {
			fmt.Fprintf(w, "  %s\n", checker.DescribeOp(op))
		}
	}
	for _, l := range c.Attributed[:cut(len(c.Attributed))] {
		fmt.Fprintf(w, "lost: %s\n", checker.DescribeOp(l.Op))
		if withTrace {
			fmt.Fprintf(w, "  %s: %s\n", l.Mechanism, l.Detail)
		}
	}
	for _, s := range c.Stale[:cut(len(c.Stale))] {
		fmt.Fprintf(w, "stale read: %s\n  missed %s\n  seen later by %s\n",
			checker.DescribeOp(s.Read), checker.DescribeOp(s.Missed), checker.DescribeOp(s.Later))
	}
	if len(c.LostBy) > 0 && withTrace {
		fmt.Fprintf(w, "lost writes by mechanism: %s\n", mechanismCounts(c.LostBy))
	}
	for _, v := range sum.Invariants {
		fmt.Fprintf(w, "invariant violated: %s\n", v)
	}
}

// mechanismCounts prints "minority_master=3 unreplicated_at_crash=1" in the
// order of the names.
func mechanismCounts(m map[checker.Mechanism]int) string {
	names := make([]string, 0, len(m))
	for k := range m {
		names = append(names, string(k))
	}
	slices.Sort(names)
	out := ""
	for i, n := range names {
		if i > 0 {
			out += " "
		}
		out += fmt.Sprintf("%s=%d", n, m[checker.Mechanism(n)])
	}
	return out
}
