//go:build !linux

package netmodel

// newLinks returns n zeroed links (see links_linux.go for Linux's huge pages).
func newLinks(_ *Net, n int) []link { return make([]link, n) }
