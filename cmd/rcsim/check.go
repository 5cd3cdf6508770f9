package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/rcsim/rcsim/checker"
	"github.com/rcsim/rcsim/checker/history"
	"github.com/rcsim/rcsim/node/trace"
)

// checkFlags are the options of `rcsim check`.
type checkFlags struct {
	model, format, html, tracePath, summary string
	budget, converge                        time.Duration
}

func newCheckCmd(stdout io.Writer) *cobra.Command {
	var f checkFlags
	cmd := &cobra.Command{
		Use:   "check HISTORY",
		Short: "Check a client history for linearizability, lost writes and stale reads",
		Long: `Check a history (rcsim's history.jsonl, from rcsim or from outside it in
the documented format, or a Jepsen history.edn with --format jepsen)
against a model, inferred from the operations unless --model is given.
With --trace (an rcsim trace.jsonl) the findings are explained with the
cluster's state at the time, lost writes are attributed to their
mechanism, and the trace invariants are checked.
Exits 0 if the history is linearizable and every invariant holds, 1 if not
or if the checker ran out of budget (verdict unknown), 2 on bad input.`,
		Args: cobra.ExactArgs(1),
		RunE: func(_ *cobra.Command, args []string) error { return checkFile(args[0], f, stdout) },
	}
	fl := cmd.Flags()
	fl.StringVar(&f.model, "model", "", "register | counter | list (default: inferred from the ops)")
	fl.StringVar(&f.format, "format", "", "jsonl | jepsen (default: jepsen for a .edn file, else jsonl)")
	fl.StringVar(&f.html, "html", "", "write Porcupine's visualization to this file")
	fl.StringVar(&f.tracePath, "trace", "", "trace.jsonl of the same run, for context, attribution and invariants")
	fl.StringVar(&f.summary, "summary", "", "write the findings as JSON (the check part of summary.json) to this file")
	fl.DurationVar(&f.budget, "budget", time.Minute, "wall-clock budget of the whole check; past it the verdict is unknown")
	fl.DurationVar(&f.converge, "converge-within", 0, "bound of the convergence invariant (with --trace; default 30s)")
	return cmd
}

func checkFile(path string, f checkFlags, stdout io.Writer) error {
	switch f.model {
	case "", "register", "counter", "list":
	default:
		return badInput("--model: unknown model %q (want register, counter or list)", f.model)
	}
	if f.budget <= 0 {
		return badInput("--budget: must be positive, got %s", f.budget)
	}
	file, err := readHistoryFile(path, f.format)
	if err != nil {
		return err
	}
	ops := file.Ops
	inferred := ""
	if f.model == "" {
		inferred = " inferred"
	}
	if f.model, err = historyModel(path, file, f.model); err != nil {
		return err
	}
	var events []trace.Event
	if f.tracePath != "" {
		if events, err = readTraceFile(f.tracePath); err != nil {
			return err
		}
	}
	sum, err := checker.Check(checker.Input{History: ops, Trace: events, Model: f.model, Budget: f.budget,
		ConvergeWithin: f.converge})
	if err != nil {
		return inputError{fmt.Errorf("%s: %w", path, err)}
	}
	c := sum.Check
	fmt.Fprintf(stdout, "%s: %s (%s model%s; %d ops, %d unknown, %d failed), %d acknowledged writes lost, %d stale reads",
		path, c.Verdict, f.model, inferred, c.Ops, c.Unknown, c.Failed, c.LostWrites, c.StaleReads)
	if c.Unattributed > 0 {
		fmt.Fprintf(stdout, ", %d reads that missed a write but cannot be attributed (values repeat)", c.Unattributed)
	}
	fmt.Fprintln(stdout)
	if c.Incomplete != "" {
		fmt.Fprintf(stdout, "anomalies: %s\n", c.Incomplete)
	}
	if len(file.Notes) > 0 {
		fmt.Fprintf(stdout, "%d nemesis ops, kept as annotations for --html\n", len(file.Notes))
	}
	if c.Verdict == checker.VerdictOK && c.LostWrites+c.StaleReads+c.Unattributed > 0 {
		return simBugError{fmt.Sprintf("rcsim: checker bug: %s judged linearizable with %d lost writes, %d stale and %d unattributed reads",
			path, c.LostWrites, c.StaleReads, c.Unattributed)}
	}
	printFindings(stdout, sum, len(events) > 0, -1)
	if f.summary != "" {
		if err := writeJSONFile(f.summary, sum); err != nil {
			return err
		}
	}
	if f.html != "" {
		v := checker.Visual{Model: f.model, Ops: ops, Keys: c.Keys, Trace: events, Notes: file.Notes,
			Budget: f.budget, Title: filepath.Base(path)}
		if err := writeVisualization(f.html, v); err != nil {
			return err
		}
	}
	if c.Verdict != checker.VerdictOK || len(sum.Invariants) > 0 {
		return failedError{fmt.Sprintf("%s: %s, %d invariants violated", path, c.Verdict, len(sum.Invariants))}
	}
	return nil
}

// historyModel returns model, or the one the ops imply when it is "", after
// checking that it takes every op; errors name the line.
func historyModel(path string, file history.File, model string) (string, error) {
	ops := file.Ops
	if model == "" {
		m, bad, other := checker.InferModel(ops)
		if bad >= 0 {
			return "", badInput("%s:%d: op: %s does not go with the %s at line %d: one history is checked against one model "+
				"(give --model, or split the file)", path, file.Line(bad), ops[bad].Kind, ops[other].Kind, file.Line(other))
		}
		model = m
	}
	if i, err := checker.CheckOps(model, ops); err != nil {
		field := "op"
		if ops[i].Kind == "get" && checker.Accepts(model, "get") {
			field = "result"
		}
		return "", badInput("%s:%d: %s: %s %q: %v", path, file.Line(i), field, ops[i].Kind, ops[i].Key, err)
	}
	return model, nil
}

// readHistoryFile reads a history in format ("jsonl", "jepsen", or "" for
// jepsen when the name ends in .edn, else jsonl).
func readHistoryFile(path, format string) (history.File, error) {
	if format == "" {
		format = "jsonl"
		if strings.HasSuffix(path, ".edn") {
			format = "jepsen"
		}
	}
	read := map[string]func(string, io.Reader) (history.File, error){"jsonl": history.ReadFile, "jepsen": history.ReadJepsen}[format]
	if read == nil {
		return history.File{}, badInput("--format: unknown format %q (want jsonl or jepsen)", format)
	}
	fh, err := os.Open(path)
	if err != nil {
		return history.File{}, badInput("%v", err)
	}
	defer fh.Close()
	file, err := read(path, fh)
	if err != nil {
		return history.File{}, inputError{err}
	}
	return file, nil
}

func readTraceFile(path string) ([]trace.Event, error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, badInput("--trace: %v", err)
	}
	defer fh.Close()
	events, err := trace.Read(path, &boundedReader{r: fh, left: history.MaxInputBytes, path: path})
	if err != nil {
		return nil, inputError{err}
	}
	return events, nil
}

// boundedReader fails with a clear error once more than left bytes were
// asked of it, so a huge trace is refused after reading the limit (the same
// as a history's, history.MaxInputBytes), not after filling memory.
type boundedReader struct {
	r    io.Reader
	left int64
	path string
}

func (b *boundedReader) Read(p []byte) (int, error) {
	if b.left <= 0 {
		return 0, fmt.Errorf("%s is larger than the limit of %d MiB", b.path, history.MaxInputBytes>>20)
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

// writeVisualization writes the Porcupine page of v to path.
func writeVisualization(path string, v checker.Visual) error {
	hf, err := os.Create(path)
	if err != nil {
		return badInput("%v", err)
	}
	defer hf.Close()
	if err := checker.Visualize(v, hf); err != nil {
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
	for _, u := range c.UnattributedReads[:cut(len(c.UnattributedReads))] {
		fmt.Fprintf(w, "cannot attribute: %s\n  %s\n", checker.DescribeOp(u.Read), u.Why)
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
