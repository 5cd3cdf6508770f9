// Package ballast sets a floor under the heap size at which Go's collector
// runs, for a process that runs many small simulations: rcsim itself, and
// a property-test binary.
//
// A run of a small cluster keeps a few MB live and allocates tens of MB
// (40 MB a run in a sweep of master-crash: the simulation, its history and
// the checker), so with GOGC=100 the collector runs every few MB, and the
// heap shrinking and growing again costs page faults and TLB flushes
// besides: a 1,000-run sweep of master-crash spent 10 of its 60 CPU
// seconds in the kernel. Go has no setting for a floor (GOGC scales with
// the live heap, GOMEMLIMIT only caps it), so Hold keeps a ballast: a
// large pointer-free allocation that is never read or written. The
// collector counts it as live, so it first runs at about twice (live +
// ballast), yet it takes no memory of its own (a fresh span from the OS is
// known to be zero, and an object without pointers is never scanned); what
// it costs is the garbage it lets pile up, at most about its size in
// resident memory. For a 2,000-node run, whose live heap is GBs, it
// changes next to nothing.
package ballast

import (
	"os"
	"runtime"
)

// Size is the ballast's size. On 2 cores, 128 MB took a 400-run sweep of
// master-crash from 11.1–12.9 s of wall time to 6.5–6.8 (peak RSS 77 to
// 205 MB); 256 MB gained little more (6.3 s, 350 MB).
const Size = 128 << 20

// Hold allocates the ballast and returns the function that lets it go,
// to call when the many runs are over (before os.Exit, which runs no
// deferred call). It holds nothing when the user tunes the collector
// (GOGC or GOMEMLIMIT set), whose settings are then exactly what they get.
func Hold() (release func()) { return hold(os.Getenv) }

func hold(getenv func(string) string) func() {
	if getenv("GOGC") != "" || getenv("GOMEMLIMIT") != "" {
		return func() {}
	}
	b := make([]byte, Size)
	return func() { runtime.KeepAlive(b) }
}
