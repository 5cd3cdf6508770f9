package main

import (
	"fmt"
	"io"
	"os"
	"time"

	"github.com/spf13/cobra"

	"rcsim/checker"
	"rcsim/checker/history"
)

func newCheckCmd(stdout io.Writer) *cobra.Command {
	var model, html string
	var budget time.Duration
	cmd := &cobra.Command{
		Use:   "check HISTORY.jsonl",
		Short: "Check a client history for linearizability and lost writes",
		Long: `Check a history.jsonl (from rcsim or from outside it, in the documented
format) against a model. Exits 0 if it is linearizable, 1 if it is not or
the checker ran out of budget (verdict unknown), 2 on bad input.`,
		Args: cobra.ExactArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			return checkFile(args[0], model, html, budget, stdout)
		},
	}
	cmd.Flags().StringVar(&model, "model", "register", "register | counter | list")
	cmd.Flags().StringVar(&html, "html", "", "write Porcupine's visualization to this file")
	cmd.Flags().DurationVar(&budget, "budget", time.Minute, "wall-clock budget; past it the verdict is unknown")
	return cmd
}

func checkFile(path, model, html string, budget time.Duration, stdout io.Writer) error {
	switch model {
	case "register", "counter", "list":
	default:
		return badInput("--model: unknown model %q (want register, counter or list)", model)
	}
	f, err := os.Open(path)
	if err != nil {
		return badInput("%v", err)
	}
	defer f.Close()
	ops, err := history.Read(path, f)
	if err != nil {
		return inputError{err}
	}
	lin, err := checker.CheckLinearizable(model, ops, budget)
	if err != nil {
		return inputError{err}
	}
	lost := checker.LostWrites(model, ops)
	fmt.Fprintf(stdout, "%s: %s (%d ops, %d unknown, %d failed), %d acknowledged writes lost\n",
		path, lin.Verdict, lin.Ops, lin.Unknown, lin.Failed, len(lost))
	for _, k := range lin.Keys {
		fmt.Fprintf(stdout, "key %s: %s\n", k.Key, k.Verdict)
		for _, op := range k.Ops {
			fmt.Fprintf(stdout, "  %s\n", checker.DescribeOp(op))
		}
	}
	for _, op := range lost {
		fmt.Fprintf(stdout, "lost: %s\n", checker.DescribeOp(op))
	}
	if html != "" {
		hf, err := os.Create(html)
		if err != nil {
			return badInput("%v", err)
		}
		defer hf.Close()
		if err := checker.Visualize(model, ops, hf); err != nil {
			return simBugError{fmt.Sprintf("rcsim: visualization: %v", err)}
		}
	}
	if lin.Verdict != checker.VerdictOK {
		return failedError{fmt.Sprintf("%s: %s", path, lin.Verdict)}
	}
	return nil
}
