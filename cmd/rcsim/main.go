// Command rcsim runs Redis Cluster failover scenarios in virtual time, checks
// the client histories they produce and reports failover timings.
package main

import (
	"os"

	"github.com/rcsim/rcsim/sim/ballast"
	"github.com/rcsim/rcsim/sim/realredis"
)

// cmdArgs are the arguments run was given, for a command that re-executes
// itself in a private network namespace.
var cmdArgs []string

func main() {
	args := os.Args[1:]
	if a, ok := realredis.ChildArgs(); ok {
		args = a // re-executed inside the namespace (realredis.Reexec)
	}
	release := ballast.Hold() // many small runs: see the package
	code := run(args, os.Stdout, os.Stderr)
	release()
	os.Exit(code)
}
