// What nodes.conf keeps (clusterSaveConfig / clusterLoadConfig).
package node

// NodesConf is the content of a node's nodes.conf: one line per known node
// (as CLUSTER NODES, without handshake nodes) and the vars line.
type NodesConf struct {
	Myself        ID
	CurrentEpoch  uint64
	LastVoteEpoch uint64
	Nodes         []ConfNode
}

// ConfNode is one line of nodes.conf.
type ConfNode struct {
	ID          ID
	Addr        string
	Flags       Flags
	Master      ID
	ConfigEpoch uint64
	Slots       []SlotRange
}
