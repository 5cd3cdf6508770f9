package node

import (
	"reflect"
	"testing"
)

// TestLayout: the records a 2,000-node cluster holds by the million keep
// their size and hold no pointer, so the collector never scans their arrays.
// A hot record (see peerHot) is 32 bytes, two to a cache line; a gossip
// entry (see gossip) is 20, so a 2,000-node PING's section is 4 KB.
func TestLayout(t *testing.T) {
	for _, c := range []struct {
		v    any
		size uintptr
	}{
		{peerHot{}, 32},
		{gossip{}, 20},
	} {
		ty := reflect.TypeOf(c.v)
		if got := ty.Size(); got != c.size {
			t.Errorf("sizeof(%s) = %d, want %d", ty.Name(), got, c.size)
		}
		for i := 0; i < ty.NumField(); i++ {
			if k := ty.Field(i).Type.Kind(); k < reflect.Bool || k > reflect.Uint64 {
				t.Errorf("%s.%s is a %s: its arrays would be scanned", ty.Name(), ty.Field(i).Name, k)
			}
		}
	}
}
