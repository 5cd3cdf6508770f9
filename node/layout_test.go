package node

import (
	"testing"
	"unsafe"
)

// TestPeerLayout: the fields a gossip entry reads fill the first cache line
// and the struct is a 64-byte-aligned size class (see peer's comment).
func TestPeerLayout(t *testing.T) {
	var p peer
	if got := unsafe.Sizeof(p); got != 256 {
		t.Errorf("sizeof(peer) = %d, want 256: adjust peerPad", got)
	}
	if got := unsafe.Offsetof(p.link); got != 64 {
		t.Errorf("offsetof(peer.link) = %d, want 64: the hot fields no longer fill exactly one line", got)
	}
}
