// The kernel-facing contract of a node: how it is created, what it is fed
// (ticks, packets, link events, client commands) and what it hands back.

package node

import (
	"time"

	"github.com/rcsim/rcsim/node/trace"
)

// ID is a node name: 40 lowercase hex characters, as CLUSTER NODES prints it
// (CLUSTER_NAMELEN). Bytewise order of IDs is Redis's tie-break order.
type ID string

// ClientID names one client connection of the workload.
type ClientID int

// ConnID names one TCP connection: the Nth connection that Dialer opened to
// Peer. A node's outbound cluster-bus link to X is the connection it dialed
// to X; X sees the same connection as inbound. Replication links are
// connections too (dialed by the replica, Repl set).
type ConnID struct {
	Dialer ID
	Peer   ID
	N      uint64
	Repl   bool // a replication link, not a cluster-bus link
	// Addr is set only when Peer is a handshake node's temporary name
	// (clusterStartHandshake): the kernel dials this "ip:port" instead of
	// looking Peer up.
	Addr string

	ref uint32 // Peer's number in the dialer's Shared, so that the dialer finds the link's node without hashing Peer
}

// Envelope is one message queued on a connection. The message travels from
// the side that queued it to the other side of Conn: on an outbound link
// (Conn.Dialer is the sender) to Conn.Peer, or back on an inbound one
// (Conn.Peer is the sender, as a PONG answering a PING) to Conn.Dialer.
type Envelope struct {
	Conn ConnID
	Msg  *Message // never modified after it is queued
}

// LinkEventKind says what became of a connection.
type LinkEventKind uint8

const (
	// Connected: the dialer's connect succeeded (clusterLinkConnectHandler).
	Connected LinkEventKind = iota + 1
	// Refused: the dialer's connect failed (nobody listening).
	Refused
	// Closed: the other side closed or reset the connection (EOF, error).
	Closed
)

// LinkEvent tells a node what happened to one of its connections.
type LinkEvent struct {
	Conn ConnID
	Kind LinkEventKind
}

// Output is everything one entry-point call produced, in the order the
// kernel applies it: persist (Save), then open and close connections, then
// send Msgs, then deliver Replies, then write Events, then carry the
// MIGRATE requests and replies. Like raft's Ready, it
// is drained by the kernel; Reset keeps capacity for the next call.
type Output struct {
	Save    bool          // nodes.conf changed: the kernel stores Disk() before anything leaves
	Dials   []ConnID      // connections to open, in order
	Closes  []ConnID      // connections this node closed (the other side sees Closed)
	Msgs    []Envelope    // messages in send order
	Replies []ClientReply // answers to client commands (maybe to earlier calls: WAIT)
	Events  []trace.Event // what changed; Node and At are filled in by the kernel, Peer holds an ID
	// Migrates are the MIGRATEs this node started, in order (more than one
	// only when a pause releases several): the kernel hands each to its
	// target (RestoreAsking) and holds this node's input until the answer
	// is back (MigrateDone), as Redis's blocking MIGRATE does.
	Migrates []MigrateRequest
	// MigrateReplies are this node's answers, as a MIGRATE target, to the
	// requests RestoreAsking was given: the kernel hands each to its source.
	MigrateReplies []MigrateReply
}

// Reset empties out, keeping its capacity.
func (o *Output) Reset() {
	o.Save = false
	o.Dials = o.Dials[:0]
	o.Closes = o.Closes[:0]
	o.Msgs = o.Msgs[:0]
	o.Replies = o.Replies[:0]
	o.Events = o.Events[:0]
	o.Migrates = o.Migrates[:0]
	o.MigrateReplies = o.MigrateReplies[:0]
}

// Member describes one node of a cluster as `redis-cli --cluster create`
// leaves it: its ID, address, master ("" for a master), slots and
// configEpoch (create gives every node a distinct one with
// CLUSTER SET-CONFIG-EPOCH).
type Member struct {
	ID          ID
	Addr        string // "ip:port"
	Master      ID
	Slots       []SlotRange
	ConfigEpoch uint64

	set *SlotSet // Slots as a bitmap, built by the first New that reads it and shared by the rest
}

// SlotRange is an inclusive range of hash slots, as CLUSTER NODES prints it.
type SlotRange = trace.SlotRange

// Op is a client command the node understands.
type Op uint8

// Client commands.
const (
	OpGet             Op = iota + 1 // GET key
	OpSet                           // SET key value
	OpIncr                          // INCR key
	OpDel                           // DEL key
	OpRPush                         // RPUSH key value
	OpLRange                        // LRANGE key 0 -1
	OpWait                          // WAIT numreplicas timeout
	OpClusterSlots                  // CLUSTER SLOTS
	OpClusterFailover               // CLUSTER FAILOVER [FORCE|TAKEOVER] (Value)
	OpCluster                       // any other CLUSTER subcommand, its arguments in Value: "MEET 127.0.0.1 7001"
	OpMigrate                       // MIGRATE to Value ("ip:port") of Keys (or Key), with Replace and Timeout
)

// Cmd is one client command. Seq identifies it within its client so the
// reply can be matched, possibly much later (WAIT, paused clients).
type Cmd struct {
	Seq      uint64
	Op       Op
	Key      string
	Value    string
	Asking   bool          // ASKING was sent just before
	ReadOnly bool          // the connection sent READONLY
	Replicas int           // WAIT numreplicas
	Timeout  time.Duration // WAIT timeout; MIGRATE timeout
	Keys     []string      // MIGRATE … KEYS key…
	Replace  bool          // MIGRATE … REPLACE
}

// ReplyKind classifies a reply the way a client library must branch on it.
type ReplyKind uint8

// Reply kinds.
const (
	ReplyOK          ReplyKind = iota + 1 // +OK, or a value in Value/Int/List
	ReplyNil                              // nil bulk (GET of a missing key)
	ReplyMoved                            // -MOVED slot addr
	ReplyAsk                              // -ASK slot addr
	ReplyClusterDown                      // -CLUSTERDOWN …
	ReplyTryAgain                         // -TRYAGAIN …
	ReplyError                            // any other error
)

// Reply is a node's answer to one Cmd.
type Reply struct {
	Kind  ReplyKind
	Value string
	Int   int64
	List  []string
	Slot  int         // MOVED/ASK
	Addr  string      // MOVED/ASK target "ip:port"
	Err   string      // the full error line as Redis prints it, e.g. "MOVED 3999 127.0.0.1:7002"
	Slots []SlotOwner // CLUSTER SLOTS
}

// SlotOwner is one CLUSTER SLOTS entry: a range and its master's address.
type SlotOwner struct {
	SlotRange
	Master   string
	Replicas []string
}

// ClientReply is a reply addressed to a client's command.
type ClientReply struct {
	Client ClientID
	Seq    uint64
	Reply  Reply
}
