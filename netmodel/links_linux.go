//go:build linux

package netmodel

import (
	"runtime"
	"syscall"
	"unsafe"
)

// hugePage is the size of an x86-64 or arm64 transparent huge page.
const hugePage = 2 << 20

// newLinks returns n zeroed links. An array of at least a few huge pages is
// mapped outside the Go heap and asks the kernel for transparent huge pages
// (MADV_HUGEPAGE): at 2,000 nodes the 4 million links span 192 MB and every
// connect and send reads one at random, which with 4 KB pages is a TLB miss
// each time as well as a cache miss (under a hypervisor a two-level page
// walk). Linux backs the Go heap with huge pages only when THP is set to
// "always"; under "madvise", a common default, only memory that asks gets
// them. Measured on a 2-core VM under "madvise": see the README's Large
// clusters section. The mapping is released when owner is collected; the
// advice is only advice, and any failure falls back to the Go heap.
func newLinks(owner *Net, n int) []link {
	size := n * int(unsafe.Sizeof(link{}))
	if size < 4*hugePage {
		return make([]link, n)
	}
	mem, err := syscall.Mmap(-1, 0, size+hugePage, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_PRIVATE|syscall.MAP_ANON)
	if err != nil {
		return make([]link, n)
	}
	off := 0
	if r := uintptr(unsafe.Pointer(&mem[0])) % hugePage; r != 0 {
		off = int(hugePage - r)
	}
	_ = syscall.Madvise(mem[off:off+size], syscall.MADV_HUGEPAGE) // advice only: no THP, no harm
	runtime.AddCleanup(owner, func(m []byte) { _ = syscall.Munmap(m) }, mem)
	return unsafe.Slice((*link)(unsafe.Pointer(&mem[off])), n)
}
