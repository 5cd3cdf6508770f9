package main

import (
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"rcsim/scenarios"
)

func newScenariosCmd(stdout io.Writer) *cobra.Command {
	return &cobra.Command{
		Use:   "scenarios",
		Short: "List the built-in scenarios",
		Args:  cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			for _, name := range scenarios.BuiltinNames() {
				s, err := scenarios.Builtin(name)
				if err != nil {
					return simBugError{fmt.Sprintf("rcsim: built-in scenario %s does not load: %v", name, err)}
				}
				fmt.Fprintf(stdout, "%-24s %s\n", name, s.Description)
			}
			return nil
		},
	}
}
