// Command rcsim runs Redis Cluster failover scenarios in virtual time, checks
// the client histories they produce and reports failover timings.
package main

import "os"

func main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) }
