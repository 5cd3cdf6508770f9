// A read-only snapshot of a node for tests, dumps and the kernel's checks.
package node

// View is what a node is, in its own eyes, at one moment.
type View struct {
	ID           ID
	Master       ID // "" if I am a master
	CurrentEpoch uint64
	ConfigEpoch  uint64 // mine (a replica shows its master's, as CLUSTER INFO's cluster_my_epoch)
	StateOK      bool
	Slots        []SlotRange // slots I own (none for a replica)
	Offset       int64       // replication offset
	Peers        []PeerView  // every other known node, sorted by ID
}

// PeerView is one other node in my view.
type PeerView struct {
	ID          ID
	Flags       Flags
	Master      ID
	ConfigEpoch uint64
	Slots       []SlotRange
	LinkUp      bool // my outbound bus link to it is connected
}
