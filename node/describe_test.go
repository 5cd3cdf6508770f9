package node

import (
	"math/rand/v2"
	"strings"
	"testing"
	"time"
)

// TestClusterInfoFormat: CLUSTER INFO's fields, order and "\r\n" line ends
// as clusterCommand's INFO branch prints them in 7.0, slots counted by
// their owner's PFAIL/FAIL flag and cluster_my_epoch a replica's master's.
func TestClusterInfoFormat(t *testing.T) {
	n := mk(t, testCfg(), tid(4)) // replica of tid(1), configEpoch 1
	n.byID[tid(2)].flags |= FlagPFail
	n.byID[tid(3)].flags |= FlagFail
	n.currentEpoch = 6
	n.at(time.Second, func() { n.sendPing(n.byID[tid(1)], MsgPing) }) // no link: dropped, not counted
	n.at(time.Second, func() {
		n.createLink(n.byID[tid(1)])
		n.sendPing(n.byID[tid(1)], MsgPing)
	})
	want := "cluster_state:fail\r\n" +
		"cluster_slots_assigned:16384\r\n" +
		"cluster_slots_ok:5461\r\n" +
		"cluster_slots_pfail:5461\r\n" +
		"cluster_slots_fail:5462\r\n" +
		"cluster_known_nodes:6\r\n" +
		"cluster_size:1\r\n" +
		"cluster_current_epoch:6\r\n" +
		"cluster_my_epoch:1\r\n" +
		"cluster_stats_messages_ping_sent:1\r\n" +
		"cluster_stats_messages_sent:1\r\n" +
		"cluster_stats_messages_received:0\r\n" +
		"total_cluster_links_buffer_limit_exceeded:0\r\n"
	if got := n.ClusterInfo(); got != want {
		t.Fatalf("CLUSTER INFO:\n%q\nwant\n%q", got, want)
	}
}

// TestClusterShardsFormat: CLUSTER SHARDS (7.0, addShardReplyForClusterShards
// and addNodeDetailsToShardReply) as redis-cli prints it: a shard per master
// with its slot pairs, then master and replicas with health fail (FAIL),
// loading (replica at offset 0) or online.
func TestClusterShardsFormat(t *testing.T) {
	n := New(testCfg(), tid(1), []Member{
		{ID: tid(1), Addr: "127.0.0.1:7000", Slots: []SlotRange{{Start: 0, End: 99}, {Start: 200, End: 200}}, ConfigEpoch: 1},
		{ID: tid(2), Addr: "127.0.0.1:7001", Master: tid(1)},
	}, rand.NewPCG(1, 2))
	want := `1) 1) "slots"
   2) 1) (integer) 0
      2) (integer) 99
      3) (integer) 200
      4) (integer) 200
   3) "nodes"
   4) 1)  1) "id"
          2) "0000000000000000000000000000000000000001"
          3) "port"
          4) (integer) 7000
          5) "ip"
          6) "127.0.0.1"
          7) "endpoint"
          8) "127.0.0.1"
          9) "role"
         10) "master"
         11) "replication-offset"
         12) (integer) 0
         13) "health"
         14) "online"
      2)  1) "id"
          2) "0000000000000000000000000000000000000002"
          3) "port"
          4) (integer) 7001
          5) "ip"
          6) "127.0.0.1"
          7) "endpoint"
          8) "127.0.0.1"
          9) "role"
         10) "replica"
         11) "replication-offset"
         12) (integer) 0
         13) "health"
         14) "loading"
`
	if got := n.ClusterShards(); got != want {
		t.Fatalf("CLUSTER SHARDS:\n%s\nwant\n%s", got, want)
	}
	n.byID[tid(2)].flags |= FlagFail
	if !strings.Contains(n.ClusterShards(), `14) "fail"`) {
		t.Fatal("FAIL replica not shown as fail")
	}
}

// TestNodesConfText: clusterSaveConfig's file: CLUSTER NODES lines without
// handshake nodes, then "vars currentEpoch N lastVoteEpoch M".
func TestNodesConfText(t *testing.T) {
	n := mk(t, testCfg(), tid(1))
	n.lastVoteEpoch = 4
	n.at(time.Second, func() { n.startHandshake("127.0.0.1:7009") })
	text := n.Disk().Text()
	lines := strings.Split(strings.TrimSuffix(text, "\n"), "\n")
	if len(lines) != 7 || lines[6] != "vars currentEpoch 6 lastVoteEpoch 4" {
		t.Fatalf("nodes.conf:\n%s", text)
	}
	want := string(tid(1)) + " 127.0.0.1:7000@17000 myself,master - 0 0 1 connected 0-5460"
	if !strings.Contains(text, want+"\n") {
		t.Fatalf("myself line missing:\n%s", text)
	}
	if strings.Contains(text, "handshake") || !strings.Contains(n.ClusterNodes(), "handshake") {
		t.Fatal("handshake node must be in CLUSTER NODES only")
	}
}
