package node

import (
	"reflect"
	"testing"
	"unsafe"
)

// TestPeerLayout: a hot record is 32 bytes, two to a cache line, and holds
// no pointer, so the collector never scans the hot arrays (see peerHot).
func TestPeerLayout(t *testing.T) {
	var h peerHot
	if got := unsafe.Sizeof(h); got != 32 {
		t.Errorf("sizeof(peerHot) = %d, want 32", got)
	}
	ty := reflect.TypeOf(h)
	for i := 0; i < ty.NumField(); i++ {
		switch ty.Field(i).Type.Kind() {
		case reflect.Pointer, reflect.String, reflect.Slice, reflect.Map, reflect.Interface, reflect.Func, reflect.Chan:
			t.Errorf("peerHot.%s is a %s: the hot array would be scanned", ty.Field(i).Name, ty.Field(i).Type.Kind())
		}
	}
}

// TestGossipLayout: a gossip entry is 20 bytes with no pointer (see gossip):
// a 2,000-node PING's section is 4 KB, and messages are never scanned for it.
func TestGossipLayout(t *testing.T) {
	var g gossip
	if got := unsafe.Sizeof(g); got != 20 {
		t.Errorf("sizeof(gossip) = %d, want 20", got)
	}
	ty := reflect.TypeOf(g)
	for i := 0; i < ty.NumField(); i++ {
		if k := ty.Field(i).Type.Kind(); k < reflect.Bool || k > reflect.Uint64 {
			t.Errorf("gossip.%s is a %s", ty.Field(i).Name, k)
		}
	}
}
