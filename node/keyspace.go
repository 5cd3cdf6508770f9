// The keyspace of strings and lists the workload uses (t_string.c, t_list.c,
// db.c's countKeysInSlot and delKeysInSlot), and the replicated form of a
// write.
package node

import (
	"sort"
	"strconv"
)

// Value kinds of KeyVal.Kind.
const (
	KindString uint8 = 0
	KindList   uint8 = 1
)

// value is one key's value.
type value struct {
	kind uint8
	str  string
	list []string
}

// keyspace is the node's one database.
type keyspace struct {
	m map[string]*value
	// inSlot counts keys per slot; nil while the keyspace never held a key,
	// so a node without data does not carry (or zero) 64 KiB.
	inSlot *[NumSlots]int32
}

func (k *keyspace) init() { k.m, k.inSlot = map[string]*value{}, nil }

func (k *keyspace) get(key string) *value { return k.m[key] }

func (k *keyspace) put(key string, v *value) {
	if k.m[key] == nil {
		if k.inSlot == nil {
			k.inSlot = new([NumSlots]int32)
		}
		k.inSlot[KeySlot(key)]++
	}
	k.m[key] = v
}

func (k *keyspace) del(key string) bool {
	if k.m[key] == nil {
		return false
	}
	delete(k.m, key)
	k.inSlot[KeySlot(key)]--
	return true
}

// countKeysInSlot is db.c's countKeysInSlot.
func (k *keyspace) countKeysInSlot(s int) int {
	if k.inSlot == nil {
		return 0
	}
	return int(k.inSlot[s])
}

// delKeysInSlot is delKeysInSlot (keys deleted in sorted order).
func (k *keyspace) delKeysInSlot(s int) {
	if k.countKeysInSlot(s) == 0 {
		return
	}
	for _, key := range k.sortedKeys() {
		if KeySlot(key) == s {
			k.del(key)
		}
	}
}

func (k *keyspace) sortedKeys() []string {
	keys := make([]string, 0, len(k.m))
	for key := range k.m {
		keys = append(keys, key)
	}
	sort.Strings(keys)
	return keys
}

// snapshot is the RDB of a full resync: every key, sorted.
func (k *keyspace) snapshot() []KeyVal {
	var out []KeyVal
	for _, key := range k.sortedKeys() {
		v := k.m[key]
		out = append(out, KeyVal{Key: key, Str: v.str, List: append([]string(nil), v.list...), Kind: v.kind})
	}
	return out
}

// load replaces the keyspace with a snapshot.
func (k *keyspace) load(snap []KeyVal) {
	k.init()
	for _, kv := range snap {
		k.put(kv.Key, &value{kind: kv.Kind, str: kv.Str, list: append([]string(nil), kv.List...)})
	}
}

// apply executes one write and returns its reply. It is used both for client
// writes and for the replication stream, so both take the same path. A
// value is updated in place: nothing outside the keyspace holds one (reads,
// snapshots and MIGRATE copy what they hand out).
func (k *keyspace) apply(w Write) Reply {
	v := k.get(w.Key)
	switch w.Op {
	case OpSet:
		if v == nil {
			k.put(w.Key, &value{kind: KindString, str: w.Value})
		} else {
			*v = value{kind: KindString, str: w.Value}
		}
		return Reply{Kind: ReplyOK, Value: "OK"}
	case OpIncr:
		if v != nil && v.kind != KindString {
			return wrongType()
		}
		cur := int64(0)
		if v != nil {
			var err error
			if cur, err = strconv.ParseInt(v.str, 10, 64); err != nil {
				return Reply{Kind: ReplyError, Err: "ERR value is not an integer or out of range"}
			}
		}
		cur++
		if v == nil {
			v = &value{kind: KindString}
			k.put(w.Key, v)
		}
		v.str = strconv.FormatInt(cur, 10)
		return Reply{Kind: ReplyOK, Int: cur}
	case OpDel:
		if k.del(w.Key) {
			return Reply{Kind: ReplyOK, Int: 1}
		}
		return Reply{Kind: ReplyOK, Int: 0}
	case OpRPush:
		if v != nil && v.kind != KindList {
			return wrongType()
		}
		if v == nil {
			v = &value{kind: KindList}
			k.put(w.Key, v)
		}
		v.list = append(v.list, w.Value)
		return Reply{Kind: ReplyOK, Int: int64(len(v.list))}
	}
	panic("node: invariant: apply of a non-write op")
}

func wrongType() Reply {
	return Reply{Kind: ReplyError, Err: "WRONGTYPE Operation against a key holding the wrong kind of value"}
}

// read executes GET or LRANGE key 0 -1.
func (k *keyspace) read(op Op, key string) Reply {
	v := k.get(key)
	switch op {
	case OpGet:
		if v == nil {
			return Reply{Kind: ReplyNil}
		}
		if v.kind != KindString {
			return wrongType()
		}
		return Reply{Kind: ReplyOK, Value: v.str}
	case OpLRange:
		if v == nil {
			return Reply{Kind: ReplyOK, List: []string{}}
		}
		if v.kind != KindList {
			return wrongType()
		}
		return Reply{Kind: ReplyOK, List: append([]string{}, v.list...)}
	}
	panic("node: invariant: read of a non-read op")
}

// writeSize is the byte count a write adds to the replication offset: the
// length of its RESP encoding, as the master's backlog holds it
// (replicationFeedSlaves: "*<argc>\r\n", then "$<len>\r\n<arg>\r\n" per
// argument).
func writeSize(w Write) int64 {
	switch w.Op {
	case OpSet:
		return respArraySize(3) + respBulkSize(len("SET")) + respBulkSize(len(w.Key)) + respBulkSize(len(w.Value))
	case OpIncr:
		return respArraySize(2) + respBulkSize(len("INCR")) + respBulkSize(len(w.Key))
	case OpDel:
		return respArraySize(2) + respBulkSize(len("DEL")) + respBulkSize(len(w.Key))
	case OpRPush:
		return respArraySize(3) + respBulkSize(len("RPUSH")) + respBulkSize(len(w.Key)) + respBulkSize(len(w.Value))
	}
	return respArraySize(1) + respBulkSize(len("PING"))
}

// respArraySize is len("*<n>\r\n").
func respArraySize(n int) int64 { return 1 + decimalDigits(n) + 2 }

// respBulkSize is len("$<n>\r\n") + n + len("\r\n").
func respBulkSize(n int) int64 { return 1 + decimalDigits(n) + 2 + int64(n) + 2 }

// decimalDigits is len(strconv.Itoa(n)) for n >= 0.
func decimalDigits(n int) int64 {
	d := int64(1)
	for ; n >= 10; n /= 10 {
		d++
	}
	return d
}
