// What a node shows an operator, in Redis 7.0's formats: CLUSTER INFO,
// CLUSTER SHARDS (as redis-cli prints the reply), CLUSTER NODES and the
// nodes.conf file (clusterGenNodesDescription, clusterSaveConfig, the INFO
// and SHARDS branches of clusterCommand, addShardReplyForClusterShards).

package node

import (
	"fmt"
	"strconv"
	"strings"
)

// ClusterInfo is CLUSTER INFO, byte for byte as Redis 7.0 builds it
// ("\r\n" line ends), including the per-type bus message counters.
func (n *Node) ClusterInfo() string {
	assigned, ok, pfail, fail := 0, 0, 0, 0
	for s := range NumSlots {
		o := n.slots.owner(s)
		if o == nil {
			continue
		}
		assigned++
		switch {
		case o.is(FlagFail):
			fail++
		case o.is(FlagPFail):
			pfail++
		default:
			ok++
		}
	}
	state := "fail"
	if n.stateOK {
		state = "ok"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "cluster_state:%s\r\ncluster_slots_assigned:%d\r\ncluster_slots_ok:%d\r\n"+
		"cluster_slots_pfail:%d\r\ncluster_slots_fail:%d\r\ncluster_known_nodes:%d\r\n"+
		"cluster_size:%d\r\ncluster_current_epoch:%d\r\ncluster_my_epoch:%d\r\n",
		state, assigned, ok, pfail, fail, len(n.nodes), n.size, n.currentEpoch, nodeEpoch(n.myself))
	writeMsgStats(&b, "sent", &n.statsSent)
	writeMsgStats(&b, "received", &n.statsReceived)
	fmt.Fprintf(&b, "total_cluster_links_buffer_limit_exceeded:%d\r\n", n.linksBufferLimitExceeded)
	return b.String()
}

// busTypes is CLUSTERMSG_TYPE_COUNT: the bus message types counted by
// CLUSTER INFO.
const busTypes = int(MsgPublishShard) + 1

func writeMsgStats(b *strings.Builder, dir string, stats *[busTypes]uint64) {
	var total uint64
	for t, c := range stats {
		if c == 0 {
			continue
		}
		total += c
		fmt.Fprintf(b, "cluster_stats_messages_%s_%s:%d\r\n", MsgType(t), dir, c)
	}
	fmt.Fprintf(b, "cluster_stats_messages_%s:%d\r\n", dir, total)
}

// countSent counts the bus messages this entry point queued from index
// from on (clusterSendMessage's stats_bus_messages_sent).
func (n *Node) countSent(from int) {
	for _, e := range n.out.Msgs[from:] {
		if !e.Conn.Repl && int(e.Msg.Type) < busTypes {
			n.statsSent[e.Msg.Type]++
		}
	}
}

// resp is a RESP2 reply value: a bulk string, an integer or an array.
type resp struct {
	str   string
	num   int64
	isNum bool
	arr   []resp
	isArr bool
}

func bulk(s string) resp       { return resp{str: s} }
func integer(i int64) resp     { return resp{num: i, isNum: true} }
func array(xs ...resp) resp    { return resp{arr: xs, isArr: true} }
func (r resp) add(x resp) resp { r.arr = append(r.arr, x); return r }

// ClusterShards is CLUSTER SHARDS (Redis 7.0: no shard id), printed as
// redis-cli prints the RESP2 reply. Shards come in node-ID order (Redis
// iterates its dict).
func (n *Node) ClusterShards() string {
	shards := array()
	for _, p := range n.nodes {
		if !p.is(FlagMaster) {
			continue
		}
		slots := array()
		for _, r := range p.slots.Ranges() {
			slots = slots.add(integer(int64(r.Start))).add(integer(int64(r.End)))
		}
		nodes := array(n.shardNode(p))
		for _, r := range p.replicas {
			nodes = nodes.add(n.shardNode(r))
		}
		shards = shards.add(array(bulk("slots"), slots, bulk("nodes"), nodes))
	}
	return formatTTY(shards, "")
}

// shardNode is addNodeDetailsToShardReply.
func (n *Node) shardNode(p *peer) resp {
	ip, port := splitAddr(p.addr)
	m := array(bulk("id"), bulk(string(p.id)))
	if port != 0 {
		m = m.add(bulk("port")).add(integer(int64(port)))
	}
	m = m.add(bulk("ip")).add(bulk(ip)).add(bulk("endpoint")).add(bulk(ip))
	off := p.replOffset
	if p == n.myself {
		off = n.replOffsetForHeader()
	}
	role := "master"
	if p.is(FlagSlave) {
		role = "replica"
	}
	health := "online"
	switch {
	case p.is(FlagFail):
		health = "fail"
	case p.is(FlagSlave) && off == 0:
		health = "loading"
	}
	return m.add(bulk("role")).add(bulk(role)).add(bulk("replication-offset")).
		add(integer(off)).add(bulk("health")).add(bulk(health))
}

// splitAddr splits "ip:port"; port 0 when there is none (NOADDR).
func splitAddr(addr string) (string, int) {
	i := strings.LastIndexByte(addr, ':')
	if i < 0 {
		return addr, 0
	}
	port, err := strconv.Atoi(addr[i+1:])
	if err != nil {
		return addr, 0
	}
	return addr[:i], port
}

// formatTTY is redis-cli's cliFormatReplyTTY for RESP2 replies: nested
// arrays numbered "1) ", indented by the width of the largest index + 2.
func formatTTY(r resp, prefix string) string {
	switch {
	case r.isNum:
		return fmt.Sprintf("(integer) %d\n", r.num)
	case !r.isArr:
		return strconv.Quote(r.str) + "\n"
	case len(r.arr) == 0:
		return "(empty array)\n"
	}
	idxlen := len(strconv.Itoa(len(r.arr)))
	inner := prefix + strings.Repeat(" ", idxlen+2)
	var b strings.Builder
	for i, x := range r.arr {
		if i > 0 {
			b.WriteString(prefix)
		}
		fmt.Fprintf(&b, "%*d) ", idxlen, i+1)
		b.WriteString(formatTTY(x, inner))
	}
	return b.String()
}

// Describe is what rcsim's --dump-at prints for a live node after its
// nodes.conf (NodesConf.Text of what the kernel last stored): CLUSTER NODES,
// CLUSTER INFO (with "\n" line ends) and CLUSTER SHARDS, each under a "# "
// heading.
func (n *Node) Describe() string {
	var b strings.Builder
	b.WriteString("# CLUSTER NODES\n")
	b.WriteString(n.ClusterNodes())
	b.WriteString("# CLUSTER INFO\n")
	b.WriteString(strings.ReplaceAll(n.ClusterInfo(), "\r\n", "\n"))
	b.WriteString("# CLUSTER SHARDS\n")
	b.WriteString(n.ClusterShards())
	return b.String()
}
