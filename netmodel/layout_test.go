package netmodel

import (
	"reflect"
	"testing"
	"unsafe"
)

// TestLinkLayout: a link record is 48 bytes and holds no pointer (see link),
// so 4 million of them are one allocation the collector never scans.
func TestLinkLayout(t *testing.T) {
	if got := unsafe.Sizeof(link{}); got != 48 {
		t.Errorf("sizeof(link) = %d, want 48", got)
	}
	if hasPointers(reflect.TypeOf(link{})) {
		t.Error("link holds a pointer: the links array would be scanned")
	}
}

// hasPointers reports whether a value of type ty holds any pointer.
func hasPointers(ty reflect.Type) bool {
	switch ty.Kind() {
	case reflect.Pointer, reflect.String, reflect.Slice, reflect.Map, reflect.Interface, reflect.Func, reflect.Chan, reflect.UnsafePointer:
		return true
	case reflect.Array:
		return ty.Len() > 0 && hasPointers(ty.Elem())
	case reflect.Struct:
		for i := 0; i < ty.NumField(); i++ {
			if hasPointers(ty.Field(i).Type) {
				return true
			}
		}
	}
	return false
}
