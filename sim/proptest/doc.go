// Package proptest holds rcsim's property tests (in its _test.go files):
// random topologies, settings, workloads and fault schedules drawn by
// scenarios/gen, run by sim and judged by the checker through sim/explore.
// It is also the worked example of writing the same kind of test from
// another module. It exports nothing.
package proptest
