// Package trace is the vocabulary of what happened in a run: a closed set of
// event kinds with integer times, a JSONL writer that hashes what it writes,
// a strict reader, and Describe for stable one-line text in golden files.
//
// It is a leaf: node, sim, checker and reports all speak it without importing
// one another.
package trace

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Kind names what an event records. The set is closed: Valid reports whether
// a kind belongs to it, and the reader rejects any other.
type Kind string

// World events, written by the kernel.
const (
	Boot      Kind = "boot"      // Node started in the formed cluster; Value: "master 0-5460", "replica" or "alone" (unjoined: a spare, or cluster.formed false); Peer: its master; Epoch: its configEpoch (0 when alone)
	Crash     Kind = "crash"     // Node's process died; Value: "persist", "persist power-loss" (the page cache lost too) or "wipe" (nodes.conf and data lost)
	Restart   Kind = "restart"   // Node's process started again from what its disk kept; Value: "" (no dataset) or "loaded rdb|aof of <time> keys=<n>" (RestartEvent)
	Partition Kind = "partition" // Value: the groups, e.g. "m0 client-0 | m1 m2 m0r0 …"
	Heal      Kind = "heal"      // every partition removed
	Fault     Kind = "fault"     // any other fault step; Value describes it
	Finish    Kind = "finish"    // the run ended; Value: why ("duration", "event limit", "aborted")
)

// Node events, written by a node about its own view. Node is the observer,
// Peer the node the event is about.
const (
	PFail          Kind = "pfail"           // Peer flagged PFAIL (clusterCron)
	PFailCleared   Kind = "pfail_cleared"   // PONG from Peer cleared PFAIL
	Fail           Kind = "fail"            // Peer flagged FAIL; Value: "quorum" (markNodeAsFailingIfNeeded) or "message" (FAIL received)
	FailCleared    Kind = "fail_cleared"    // clearNodeFailureIfNeeded
	State          Kind = "state"           // cluster_state changed; Value: "ok" or "fail"
	Epoch          Kind = "epoch"           // currentEpoch raised to Epoch; Value: why
	ConfigEpoch    Kind = "config_epoch"    // my configEpoch set to Epoch; Value: why
	ElectionSched  Kind = "election_sched"  // replica scheduled an election; Value: "delay=734ms rank=0"
	ElectionStart  Kind = "election_start"  // FAILOVER_AUTH_REQUEST broadcast in Epoch
	ElectionExpire Kind = "election_expire" // the attempt in Epoch timed out without quorum
	VoteGranted    Kind = "vote"            // master voted for Peer in Epoch
	VoteRefused    Kind = "vote_refused"    // Value: the clusterSendFailoverAuthIfNeeded rule that refused
	VoteReceived   Kind = "vote_received"   // an ACK from Peer counted; Value: "n/quorum"
	Promoted       Kind = "promoted"        // replica became master in Epoch, taking Peer's slots; Value: slot ranges
	Role           Kind = "role"            // my role changed; Value: "master" or "replica"; Peer: new master
	Slots          Kind = "slots"           // slots rebound to Peer with configEpoch Epoch; Value: ranges
	UpdateSent     Kind = "update"          // UPDATE sent to Peer about stale slots
	LinkDown       Kind = "link_down"       // my outbound link to Peer was freed; Value: why
	Ignored        Kind = "ignored"         // a message from Peer was ignored; Value: why
	Note           Kind = "note"            // anything else worth a line; Value says what
)

// Cluster administration: slot migration on a node, and the admin steps
// the kernel runs as redis-cli would.
const (
	SetSlot Kind = "setslot" // CLUSTER SETSLOT took effect; Value: "<slot> migrating|importing|stable|node"; Peer: the node named
	Migrate Kind = "migrate" // a MIGRATE finished on its source; Value: "slot=<n> keys=<moved>/<sent>"; Peer: the target
	Admin   Kind = "admin"   // an admin step began, ended or failed; Value: the step and its outcome
	// OpenSlot: a slot still open on Node when the run ended (an interrupted
	// migration); Value: "1234 importing from m0" or "1234 migrating to m1".
	OpenSlot Kind = "open_slot"
)

// Client events, written by the workload.
const (
	ClientWrite Kind = "client_write" // first acknowledged write after a gap; Value: key
)

var kinds = map[Kind]bool{}

func init() {
	for _, k := range []Kind{Boot, Crash, Restart, Partition, Heal, Fault, Finish,
		PFail, PFailCleared, Fail, FailCleared, State, Epoch, ConfigEpoch,
		ElectionSched, ElectionStart, ElectionExpire, VoteGranted, VoteRefused,
		VoteReceived, Promoted, Role, Slots, UpdateSent, LinkDown, Ignored, Note, SetSlot, Migrate, Admin, OpenSlot, ClientWrite} {
		kinds[k] = true
	}
}

// Valid reports whether k is one of the declared kinds.
func (k Kind) Valid() bool { return kinds[k] }

// Event is one thing that happened. Times are virtual and integral (the
// writer stores whole microseconds), so a trace hashes the same everywhere.
type Event struct {
	At    time.Duration // virtual time since the start of the run
	Node  string        // who did or saw it: "m0", "m0r0", "client-3"; "" for the world
	Kind  Kind
	Peer  string // the node the event is about, if any
	Epoch uint64 // the epoch the event carries, if any
	Value string // kind-specific detail, documented on each Kind
	// Detail is Value's content as fields for the kinds that have one
	// (detail.go); it is not written (Value is its stored form) and Read
	// rebuilds it with Decode.
	Detail *Detail
}

// Describe renders e as one stable line for golden files and timelines:
// "12.431s r1 promoted m0 epoch=7 0-5460".
func Describe(e Event) string {
	var b strings.Builder
	b.WriteString(FormatTime(e.At))
	if e.Node != "" {
		b.WriteByte(' ')
		b.WriteString(e.Node)
	}
	b.WriteByte(' ')
	b.WriteString(string(e.Kind))
	if e.Peer != "" {
		b.WriteByte(' ')
		b.WriteString(e.Peer)
	}
	if e.Epoch != 0 {
		b.WriteString(" epoch=")
		b.WriteString(strconv.FormatUint(e.Epoch, 10))
	}
	if e.Value != "" {
		b.WriteByte(' ')
		b.WriteString(e.Value)
	}
	return b.String()
}

// FormatTime prints a virtual time as seconds with millisecond precision,
// "12.431s", the one time format of rcsim's output: timelines, summaries,
// explanations.
func FormatTime(d time.Duration) string {
	ms := d.Milliseconds()
	return fmt.Sprintf("%d.%03ds", ms/1000, ms%1000)
}
