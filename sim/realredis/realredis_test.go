package realredis

import (
	"bufio"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rcsim/rcsim/scenarios"
)

func TestReadReply(t *testing.T) {
	in := "+OK\r\n-MOVED 3999 127.0.0.1:7002\r\n:42\r\n$5\r\nhello\r\n$-1\r\n*2\r\n$1\r\na\r\n:7\r\n*-1\r\n"
	r := bufio.NewReader(strings.NewReader(in))
	want := []func(Reply) bool{
		func(x Reply) bool { return x.Str == "OK" && x.Err == "" },
		func(x Reply) bool { return x.Err == "MOVED 3999 127.0.0.1:7002" },
		func(x Reply) bool { return x.Int == 42 },
		func(x Reply) bool { return x.Str == "hello" && !x.Nil },
		func(x Reply) bool { return x.Nil },
		func(x Reply) bool { return len(x.Array) == 2 && x.Array[0].Str == "a" && x.Array[1].Int == 7 },
		func(x Reply) bool { return x.Nil && x.Array == nil },
	}
	for i, ok := range want {
		got, err := readReply(r)
		if err != nil || !ok(got) {
			t.Errorf("reply %d: %+v, %v", i, got, err)
		}
	}
	for _, bad := range []string{"?x\r\n", "$abc\r\n", "*-5\r\n", "$5\r\nab"} {
		if _, err := readReply(bufio.NewReader(strings.NewReader(bad))); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}

// A CLUSTER NODES answer of Redis 7.0 during a failover.
const nodes = `07c37dfeb235213a872192d90877d0cd55635b91 127.0.0.1:30004@31004,hostname4 slave e7d1eecce10fd6bb5eb35b9f99a514335d9ba9ca 0 1426238317239 4 connected
67ed2db8d677e59ec4a4cefb06858cf2a1a89fa1 127.0.0.1:30002@31002 master,fail? - 0 1426238316232 2 connected 5461-10922
e7d1eecce10fd6bb5eb35b9f99a514335d9ba9ca 127.0.0.1:30001@31001 myself,master - 0 0 1 connected 0-5460 [5461->-67ed2db8d677e59ec4a4cefb06858cf2a1a89fa1]
short line
`

func TestParseNodes(t *testing.T) {
	ls := ParseNodes(nodes)
	if len(ls) != 3 {
		t.Fatalf("%d lines, want 3", len(ls))
	}
	if l := ls[0]; l.Addr != "127.0.0.1:30004" || l.Master() || l.MasterID != "e7d1eecce10fd6bb5eb35b9f99a514335d9ba9ca" || l.Epoch != 4 {
		t.Errorf("replica line: %+v", l)
	}
	if l := ls[1]; !l.Has("fail?") || !l.Master() || l.Slots != "5461-10922" {
		t.Errorf("pfail line: %+v", l)
	}
	if l := ls[2]; !l.Has("myself") || l.Slots != "0-5460" {
		t.Errorf("myself line (migration marker left out): %+v", l)
	}
	if !slotIn("0-5460,6000", 6000) || slotIn("0-5460", 5461) {
		t.Error("slotIn")
	}
}

func TestElectionStarts(t *testing.T) {
	path := filepath.Join(t.TempDir(), "redis.log")
	log := "25:S 01 Dec 2026 21:55:13.086 * Ready to accept connections\n" +
		"25:S 01 Dec 2026 21:55:16.123 # Start of election delayed for 591 milliseconds (rank #0, offset 2604).\n" +
		"25:S 01 Dec 2026 21:55:16.724 # Starting a failover election for epoch 7.\n"
	if err := os.WriteFile(path, []byte(log), 0o644); err != nil {
		t.Fatal(err)
	}
	at, epochs, err := ElectionStarts(path)
	want := time.Date(2026, 12, 1, 21, 55, 16, 724e6, time.UTC)
	if err != nil || len(at) != 1 || !at[0].Equal(want) || epochs[0] != 7 {
		t.Errorf("got %v %v %v, want %v epoch 7", at, epochs, err, want)
	}
}

// Faults a real process cannot suffer are refused by name and line.
func TestUnsupported(t *testing.T) {
	s, err := scenarios.Builtin("flapping-master-link")
	if err != nil {
		t.Fatal(err)
	}
	problems, _ := Unsupported(s)
	if len(problems) == 0 || !strings.Contains(problems[0], `fault "flap"`) || !strings.Contains(problems[0], "flapping-master-link.yaml:") {
		t.Errorf("problems: %q", problems)
	}
	s, err = scenarios.Builtin("minority-partition")
	if err != nil {
		t.Fatal(err)
	}
	if problems, netns := Unsupported(s); len(problems) > 0 || !netns {
		t.Errorf("minority-partition: %q, netns %v; want runnable in a namespace", problems, netns)
	}
}
