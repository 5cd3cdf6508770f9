// Partitions: symmetric groups that cannot reach each other, and one-way
// blocks layered on top of them (asymmetric partitions, flapping links).

package netmodel

import "fmt"

// Partition replaces the partition groups: endpoints in different groups
// cannot reach each other, in either direction. An endpoint in no group is
// isolated, alone in a group of its own (the kernel normally passes a
// complete grouping); an endpoint listed twice is a kernel bug and panics.
// One-way blocks are kept: they are layered on top of the groups. Messages
// already in flight across the new cut become undeliverable (Deliverable).
func (n *Net) Partition(groups [][]int) {
	for i := range n.group {
		n.group[i] = -1
	}
	for gi, g := range groups {
		for _, e := range g {
			n.check(e)
			if n.group[e] != -1 {
				panic(fmt.Sprintf("netmodel: invariant: endpoint %d is in partition groups %d and %d", e, n.group[e], gi))
			}
			n.group[e] = gi
		}
	}
	next := len(groups)
	for i := range n.group {
		if n.group[i] == -1 {
			n.group[i] = next
			next++
		}
	}
}

// Heal removes every partition group and every one-way block. Link overrides
// (SetLink) stay: they are not faults of reachability.
func (n *Net) Heal() {
	clear(n.group)
	if n.blocks > 0 {
		for i := range n.links {
			n.links[i].blocked = false
		}
		n.blocks = 0
	}
}

// Block cuts from->to only: from's messages to to are lost, while to still
// reaches from. Flapping is the kernel calling Block and Unblock in turn.
// Blocking a link to itself is a kernel bug and panics.
func (n *Net) Block(from, to int) {
	n.setBlocked(from, to, true)
}

// Unblock undoes Block(from, to). Partition groups are not affected.
func (n *Net) Unblock(from, to int) {
	n.setBlocked(from, to, false)
}

func (n *Net) setBlocked(from, to int, b bool) {
	i := n.index(from, to)
	if from == to {
		panic(fmt.Sprintf("netmodel: invariant: one-way block of endpoint %d to itself", from))
	}
	l := &n.links[i]
	switch {
	case b && !l.blocked:
		n.blocks++
	case !b && l.blocked:
		n.blocks--
	}
	l.blocked = b
}
