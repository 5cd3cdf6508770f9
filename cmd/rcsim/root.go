package main

import (
	"io"

	"github.com/spf13/cobra"
)

// run is the whole program, in-process for tests: it parses args, runs the
// command and returns the exit code.
func run(args []string, stdout, stderr io.Writer) int {
	cmdArgs = args
	root := &cobra.Command{
		Use:           "rcsim",
		Short:         "Deterministic simulator and failover test harness for Redis Cluster",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.SetArgs(args)
	root.CompletionOptions.DisableDefaultCmd = true
	root.AddCommand(newRunCmd(stdout, stderr), newScenariosCmd(stdout), newCheckCmd(stdout))
	root.AddCommand(newExploreCmd(stdout))
	root.AddCommand(newSweepCmd(stdout, stderr), newReportCmd(stdout), newMergeCmd(stdout))
	root.AddCommand(newCompareCmd(stdout, stderr))
	root.AddCommand(newCalibrateCmd(stdout, stderr), newReplayCmd(stdout, stderr))
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return inputError{err} })
	err := root.Execute()
	if err != nil && !isTyped(err) {
		err = inputError{err} // cobra's own errors: unknown command, bad args
	}
	return exitCode(err, stderr)
}

func isTyped(err error) bool {
	switch err.(type) {
	case inputError, failedError, simBugError, childExit:
		return true
	}
	return false
}
