// Package realredis runs scenarios against real redis-server processes: a
// cluster of Debian's redis-server on loopback addresses (or in network and
// PID namespaces of its own, for partitions), formed with redis-cli, with a
// RESP client, real workload clients that record a history as sim/workload's
// do, an observer that polls CLUSTER NODES and turns what changed into the
// simulator's trace events, and process and network faults applied by PID
// and firewall rule. It reads the wall clock and starts goroutines, so it
// lives outside the deterministic packages; every process it starts is
// killed by its PID when it ends.
package realredis
