// Package history is the client history format: one operation per line of
// history.jsonl, with its invoke and return times, the node it went to and its
// outcome. It is a leaf so sim/workload can write it and checker can read it
// without either importing the other.
package history

import "time"

// Version is the history format version, written in every line as "v".
const Version = 1

// Status is how an operation ended, from the client's point of view.
type Status string

// Statuses.
const (
	// OK: the operation took effect and Result holds what it returned.
	OK Status = "ok"
	// Fail: the operation definitely did not take effect (an error such as
	// CLUSTERDOWN or MOVED-limit exceeded that Redis returns before executing).
	Fail Status = "fail"
	// Unknown: no answer in time (timeout, connection lost): it may or may not
	// have taken effect, at any time after Invoke.
	Unknown Status = "unknown"
)

// Op is one client operation.
type Op struct {
	Client int           // client number
	Node   string        // the node that answered last (or was last asked)
	Kind   string        // get | set | incr | rpush | lrange
	Key    string        // the key the op reads or writes
	Slot   int           // hash slot of Key (the workload fills it); -1 when not known
	Value  string        // the argument written (set, rpush)
	Invoke time.Duration // virtual time the client sent it
	Return time.Duration // virtual time the answer arrived; meaningless when Unknown
	Status Status
	Result string   // get: the value ("" with Nil); incr: the new value; set/rpush: "OK"/length
	Nil    bool     // get: the key did not exist
	List   []string // lrange: the list
	Err    string   // Fail: the error Redis returned
}
