// The cluster bus message (clusterMsg in cluster.h): a common header filled
// by clusterBuildMessageHdr, a gossip section (clusterSendPing) and the
// type-specific data of FAIL and UPDATE; plus the replication stream.

package node

// MsgType is clusterMsg.type (CLUSTERMSG_TYPE_*), extended with the
// replication stream, which in Redis travels on its own connection.
type MsgType uint8

// Message types. The bus values follow CLUSTERMSG_TYPE_* order.
const (
	MsgPing         MsgType = iota // CLUSTERMSG_TYPE_PING
	MsgPong                        // CLUSTERMSG_TYPE_PONG
	MsgMeet                        // CLUSTERMSG_TYPE_MEET
	MsgFail                        // CLUSTERMSG_TYPE_FAIL
	MsgPublish                     // CLUSTERMSG_TYPE_PUBLISH
	MsgAuthRequest                 // CLUSTERMSG_TYPE_FAILOVER_AUTH_REQUEST
	MsgAuthAck                     // CLUSTERMSG_TYPE_FAILOVER_AUTH_ACK
	MsgUpdate                      // CLUSTERMSG_TYPE_UPDATE
	MsgMFStart                     // CLUSTERMSG_TYPE_MFSTART
	MsgModule                      // CLUSTERMSG_TYPE_MODULE (not modelled)
	MsgPublishShard                // CLUSTERMSG_TYPE_PUBLISHSHARD (not modelled)

	// Replication stream (replication.c), on a Repl connection.
	MsgReplSync // replica → master: PSYNC replid offset
	MsgReplData // master → replica: FULLRESYNC/CONTINUE and command stream
	MsgReplAck  // replica → master: REPLCONF ACK offset
)

var msgTypeNames = [...]string{"ping", "pong", "meet", "fail", "publish", "auth-request",
	"auth-ack", "update", "mfstart", "module", "publishshard", "psync", "repl-data", "repl-ack"}

// String names the type as trace events and scripts print it.
func (t MsgType) String() string {
	if int(t) < len(msgTypeNames) {
		return msgTypeNames[t]
	}
	return "unknown"
}

// Flags are a node's flags as CLUSTER NODES and the bus carry them
// (CLUSTER_NODE_*).
type Flags uint16

// Node flags.
const (
	FlagMaster     Flags = 1 << iota // CLUSTER_NODE_MASTER
	FlagSlave                        // CLUSTER_NODE_SLAVE
	FlagPFail                        // CLUSTER_NODE_PFAIL
	FlagFail                         // CLUSTER_NODE_FAIL
	FlagMyself                       // CLUSTER_NODE_MYSELF
	FlagHandshake                    // CLUSTER_NODE_HANDSHAKE
	FlagNoAddr                       // CLUSTER_NODE_NOADDR
	FlagMeet                         // CLUSTER_NODE_MEET
	FlagMigrateTo                    // CLUSTER_NODE_MIGRATE_TO
	FlagNoFailover                   // CLUSTER_NODE_NOFAILOVER
	// FlagMyPrimaryFail is Valkey 9.0's CLUSTER_NODE_MY_PRIMARY_FAIL
	// (valkey#2227): a replica says it saw its primary FAIL. Set only under
	// Rules.BestRankedSkipsDelay; CLUSTER NODES does not print it.
	FlagMyPrimaryFail
)

// MFlags are clusterMsg.mflags[0].
type MFlags uint8

// Message flags.
const (
	MFlagPaused   MFlags = 1 << iota // CLUSTERMSG_FLAG0_PAUSED
	MFlagForceAck                    // CLUSTERMSG_FLAG0_FORCEACK
)

// Header is the common part of every bus message, built at queueing time
// (clusterBuildMessageHdr), so it reflects the sender's state at that moment.
type Header struct {
	Sender       ID
	Addr         string // announced "ip:port" (myip/port; a MEET receiver learns the address from it)
	CurrentEpoch uint64
	ConfigEpoch  uint64   // mine if master, my master's (as I know it) if replica
	Offset       int64    // replication offset
	MySlots      *SlotSet // mine if master, my master's if replica; shared, never modified
	SlaveOf      ID       // "" if master
	slaveOfRef   uint32   // SlaveOf's number in the sender's Shared
	senderRef    uint32   // Sender's number in the run's Shared (0: look the ID up)
	Flags        Flags
	StateOK      bool // cluster_state ok (carried, unused by receivers, as in Redis)
	MFlags       MFlags
}

// Gossip is one clusterMsgDataGossip entry as a test or tool writes it
// (Message.AddGossip). PongReceived is in whole seconds, 32 bits, as Redis
// sends it. The entry's ping_sent is not carried: clusterSetGossipEntry
// writes it, but no receiver reads it (clusterProcessGossipSection, in Redis
// 7.0 and later and in Valkey).
type Gossip struct {
	ID           ID
	PongReceived uint32 // seconds
	Addr         string
	Flags        Flags
}

// gossip is a Gossip inside a message: the node and its address by their
// numbers in the message's Shared, and the node's index in the sender's dict,
// which is the receiver's too whenever both know the same nodes (the
// receiver checks it against the number), so that it finds its own record
// without a second lookup.
//
// It is 20 bytes: a PING at 2,000 nodes carries 200, and a million PINGs a
// virtual second are written by one node and read by another long after,
// out of every cache.
type gossip struct {
	pongReceived uint32 // seconds, as on the wire
	ref          uint32
	addr         uint32
	pos          uint32
	flags        Flags
}

// noPos is a gossip entry's pos when it has none.
const noPos = ^uint32(0)

// Update is the payload of an UPDATE message.
type Update struct {
	ConfigEpoch uint64
	Node        ID
	Slots       *SlotSet
}

// Message is one cluster-bus or replication message. Fields unused by its
// Type are zero.
type Message struct {
	Type   MsgType
	Header Header
	About  ID      // FAIL: the failing node
	Update *Update // UPDATE
	Repl   *Repl   // replication messages

	gossip []gossip // PING, PONG, MEET
	shared *Shared  // numbers the gossip entries and the header's senderRef
	// holders counts the deliveries still to come of a message built from
	// Shared's free lists (one receiver for a PING, every replica for a
	// write): Recycle keeps it once they are all done. 0: not pooled.
	holders int32
}

// GossipLen is the number of entries in m's gossip section.
func (m *Message) GossipLen() int { return len(m.gossip) }

// AddGossip appends g to m's gossip section (nodes build theirs in
// clusterSendPing; this is for tests and tools).
func (m *Message) AddGossip(g Gossip) {
	if m.shared == nil {
		m.shared = NewShared()
	}
	m.gossip = append(m.gossip, gossip{pongReceived: g.PongReceived, ref: m.shared.ref(g.ID),
		addr: m.shared.addrRef(g.Addr), pos: noPos, flags: g.Flags})
}

// Repl is the payload of a replication message; its meaning depends on the
// Type (see replication.go).
type Repl struct {
	ReplID string
	Offset int64    // PSYNC: offset I have; DATA: offset after Ops; ACK: processed offset
	Full   bool     // DATA: a full resync; Snap holds the whole keyspace
	Ops    []Write  // DATA: writes in stream order (a zero Op is a replication PING)
	Ping   bool     // DATA: carries a replication PING (keeps lastinteraction fresh)
	GetAck bool     // DATA: REPLCONF GETACK, the replica acks at once
	Snap   []KeyVal // DATA with Full: the keyspace
}

// Write is one write command in the replication stream (Op 0: PING).
type Write struct {
	Op    Op
	Key   string
	Value string
}

// KeyVal is one key of a snapshot.
type KeyVal struct {
	Key  string
	Str  string
	List []string
	Kind uint8 // 0 string, 1 list
}
