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
