package node

import (
	"strconv"
	"strings"
	"testing"
)

// TestCRC16SpecValues: crc16.c is CRC16-CCITT (XMODEM); the cluster spec
// gives crc16("123456789") = 0x31C3 and CLUSTER KEYSLOT's documentation the
// slots of somekey and foo{hash_tag}.
func TestCRC16SpecValues(t *testing.T) {
	cases := []struct {
		in   string
		crc  uint16
		slot int
	}{
		{"123456789", 0x31C3, 12739}, // cluster spec, "Keys distribution model"
		{"", 0x0000, 0},
		{"A", 0x58E5, 6373},
		{"foo", 0xAF96, 12182},     // the MOVED 12182 of the cluster tutorial
		{"somekey", 0x6B32, 11058}, // CLUSTER KEYSLOT somekey
		{"hello", 0xC362, 866},
	}
	for _, c := range cases {
		t.Run(strconv.Quote(c.in), func(t *testing.T) {
			if got := crc16(c.in); got != c.crc {
				t.Errorf("crc16(%q) = %#04x, want %#04x", c.in, got, c.crc)
			}
			if got := KeySlot(c.in); got != c.slot {
				t.Errorf("KeySlot(%q) = %d, want %d", c.in, got, c.slot)
			}
		})
	}
}

// TestHashTagRules: keyHashSlot hashes only what is between the first '{'
// and the first '}' after it, when that is not empty.
func TestHashTagRules(t *testing.T) {
	cases := []struct {
		name, key string
		slot      int
	}{
		{"tag is hashed", "foo{hash_tag}", 2515}, // CLUSTER KEYSLOT foo{hash_tag}
		{"tag shared by two keys (following)", "{user1000}.following", 3443},
		{"tag shared by two keys (followers)", "{user1000}.followers", 3443},
		{"empty tag hashes the whole key", "foo{}{bar}", int(crc16("foo{}{bar}") & 0x3FFF)},
		{"only the first { counts", "foo{{bar}}zap", int(crc16("{bar") & 0x3FFF)},
		{"first } after the first { closes", "foo{bar}{zap}", int(crc16("bar") & 0x3FFF)},
		{"no closing brace hashes the whole key", "open{only", int(crc16("open{only") & 0x3FFF)},
		{"closing brace before opening", "a}b{c}", int(crc16("c") & 0x3FFF)},
		{"tag at the end", "x{user1000}", 3443},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := KeySlot(c.key); got != c.slot {
				t.Errorf("KeySlot(%q) = %d, want %d", c.key, got, c.slot)
			}
		})
	}
}

// TestKeyspaceCommands: t_string.c and t_list.c semantics the workloads
// rely on, through the same apply path the replication stream uses.
func TestKeyspaceCommands(t *testing.T) {
	var k keyspace
	k.init()
	steps := []struct {
		name  string
		write *Write
		read  Op
		key   string
		want  Reply
	}{
		{name: "GET of a missing key is nil", read: OpGet, key: "s", want: Reply{Kind: ReplyNil}},
		{name: "SET replies OK", write: &Write{Op: OpSet, Key: "s", Value: "v"}, want: Reply{Kind: ReplyOK, Value: "OK"}},
		{name: "GET sees the SET", read: OpGet, key: "s", want: Reply{Kind: ReplyOK, Value: "v"}},
		{name: "INCR of a non-integer fails", write: &Write{Op: OpIncr, Key: "s"},
			want: Reply{Kind: ReplyError, Err: "ERR value is not an integer or out of range"}},
		{name: "INCR of a missing key starts at 1", write: &Write{Op: OpIncr, Key: "c"}, want: Reply{Kind: ReplyOK, Int: 1}},
		{name: "INCR counts", write: &Write{Op: OpIncr, Key: "c"}, want: Reply{Kind: ReplyOK, Int: 2}},
		{name: "RPUSH returns the new length", write: &Write{Op: OpRPush, Key: "l", Value: "a"}, want: Reply{Kind: ReplyOK, Int: 1}},
		{name: "RPUSH appends", write: &Write{Op: OpRPush, Key: "l", Value: "b"}, want: Reply{Kind: ReplyOK, Int: 2}},
		{name: "LRANGE 0 -1 is the whole list", read: OpLRange, key: "l", want: Reply{Kind: ReplyOK, List: []string{"a", "b"}}},
		{name: "LRANGE of a missing key is empty", read: OpLRange, key: "none", want: Reply{Kind: ReplyOK, List: []string{}}},
		{name: "RPUSH on a string is WRONGTYPE", write: &Write{Op: OpRPush, Key: "s", Value: "x"}, want: wrongType()},
		{name: "GET on a list is WRONGTYPE", read: OpGet, key: "l", want: wrongType()},
		{name: "DEL of an existing key is 1", write: &Write{Op: OpDel, Key: "l"}, want: Reply{Kind: ReplyOK, Int: 1}},
		{name: "DEL of a missing key is 0", write: &Write{Op: OpDel, Key: "l"}, want: Reply{Kind: ReplyOK, Int: 0}},
	}
	for _, s := range steps {
		var got Reply
		if s.write != nil {
			got = k.apply(*s.write)
		} else {
			got = k.read(s.read, s.key)
		}
		if !sameReply(got, s.want) {
			t.Errorf("%s: got %+v, want %+v", s.name, got, s.want)
		}
	}
	if k.countKeysInSlot(KeySlot("c")) != 1 || k.countKeysInSlot(KeySlot("l")) != 0 {
		t.Error("countKeysInSlot does not follow puts and dels")
	}
}

func sameReply(a, b Reply) bool {
	if a.Kind != b.Kind || a.Value != b.Value || a.Int != b.Int || a.Err != b.Err || len(a.List) != len(b.List) {
		return false
	}
	if (a.List == nil) != (b.List == nil) {
		return false
	}
	for i := range a.List {
		if a.List[i] != b.List[i] {
			return false
		}
	}
	return true
}

// TestWriteSizeIsRESP: the replication offset grows by the RESP encoding of
// each propagated command, as master_repl_offset does.
func TestWriteSizeIsRESP(t *testing.T) {
	// *3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n
	if got := writeSize(Write{Op: OpSet, Key: "k", Value: "v"}); got != int64(len("*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n")) {
		t.Errorf("SET k v: %d bytes", got)
	}
	if got := writeSize(Write{}); got != int64(len("*1\r\n$4\r\nPING\r\n")) {
		t.Errorf("PING: %d bytes", got)
	}
}

// TestWriteSizeIsRESPLength: writeSize equals the length of the RESP array
// Redis feeds the replication stream, for every write and argument length.
func TestWriteSizeIsRESPLength(t *testing.T) {
	resp := func(args ...string) int64 {
		s := "*" + strconv.Itoa(len(args)) + "\r\n"
		for _, a := range args {
			s += "$" + strconv.Itoa(len(a)) + "\r\n" + a + "\r\n"
		}
		return int64(len(s))
	}
	for _, n := range []int{0, 1, 9, 10, 99, 100, 12345} {
		k, v := strings.Repeat("k", n), strings.Repeat("v", n+3)
		for _, c := range []struct {
			w    Write
			want int64
		}{
			{Write{Op: OpSet, Key: k, Value: v}, resp("SET", k, v)},
			{Write{Op: OpIncr, Key: k}, resp("INCR", k)},
			{Write{Op: OpDel, Key: k}, resp("DEL", k)},
			{Write{Op: OpRPush, Key: k, Value: v}, resp("RPUSH", k, v)},
			{Write{}, resp("PING")},
		} {
			if got := writeSize(c.w); got != c.want {
				t.Errorf("writeSize(%v) with %d-byte key = %d, want %d", c.w.Op, n, got, c.want)
			}
		}
	}
}
