package main

import (
	"os"
	"runtime"
	"runtime/metrics"
	"testing"
)

// heapGoal is the collector's heap goal after a collection.
func heapGoal() uint64 {
	runtime.GC()
	s := []metrics.Sample{{Name: "/gc/heap/goal:bytes"}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}

// TestBallastRaisesHeapGoal checks the ballast does what it is for: while
// it is held the collector lets the heap grow to twice its size before
// running, and a user's GOGC or GOMEMLIMIT turns it off.
func TestBallastRaisesHeapGoal(t *testing.T) {
	if os.Getenv("GOGC") != "" || os.Getenv("GOMEMLIMIT") != "" {
		t.Skip("GOGC or GOMEMLIMIT is set for this process: its heap goal is not the default one")
	}
	for _, tc := range []struct {
		env  map[string]string
		held bool
	}{
		{env: nil, held: true},
		{env: map[string]string{"GOGC": "100"}, held: false},
		{env: map[string]string{"GOMEMLIMIT": "1GiB"}, held: false},
	} {
		var goal uint64
		code := withBallast(func(k string) string { return tc.env[k] }, func() int { goal = heapGoal(); return 7 })
		if code != 7 {
			t.Errorf("%v: exit code %d, want f's 7", tc.env, code)
		}
		if held := goal >= 2*ballastBytes; held != tc.held {
			t.Errorf("%v: heap goal %d MB with a %d MB ballast: held %v, want %v", tc.env, goal>>20, ballastBytes>>20, held, tc.held)
		}
	}
}
