package main

// `rcsim merge`: join the directories of a sharded sweep into one,
// identical to the sweep run unsharded.

import (
	"fmt"
	"io"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/rcsim/rcsim/sim/sweep"
)

func newMergeCmd(stdout io.Writer) *cobra.Command {
	var out string
	cmd := &cobra.Command{
		Use:   "merge DIR... --out DIR",
		Short: "Join the shards of a sweep",
		Long: `Join sweep directories (the shards of one sweep, written by rcsim sweep --shard)
into --out: sweep.json, runs.jsonl and runs.csv exactly as the unsharded sweep
writes them. Every shard must hold the same sweep, and every run must be
present. Exit 2 when they do not.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(_ *cobra.Command, dirs []string) error {
			if out == "" {
				return badInput("merge: --out DIR is required")
			}
			spec, err := sweep.Merge(dirs, out)
			if err != nil {
				return inputError{err}
			}
			fmt.Fprintf(stdout, "merged %d shards: %d runs of %s in %s\n", len(dirs), spec.Runs(), spec.Scenario,
				filepath.Join(out, sweep.RunsFile))
			return nil
		},
	}
	cmd.Flags().StringVarP(&out, "out", "o", "", "output directory (required)")
	return cmd
}
