package ballast

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
// running, a user's GOGC or GOMEMLIMIT turns it off, and once released it
// is collected.
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
		release := hold(func(k string) string { return tc.env[k] })
		goal := heapGoal()
		release()
		if held := goal >= 2*Size; held != tc.held {
			t.Errorf("%v: heap goal %d MB with a %d MB ballast: held %v, want %v", tc.env, goal>>20, Size>>20, held, tc.held)
		}
		if after := heapGoal(); after >= 2*Size {
			t.Errorf("%v: heap goal %d MB after the release", tc.env, after>>20)
		}
	}
}
