// Asynchronous master–replica replication, simplified but real
// (replication.c): replicationSetMaster, connectWithMaster, PSYNC with full
// or partial resync from a backlog, the command stream, replication PINGs,
// REPLCONF ACK, repl-timeout and shiftReplicationId on promotion.
//
// Protocol on a Repl connection dialed by the replica: the replica sends
// MsgReplSync{ReplID, Offset}; the master answers one MsgReplData (Full with
// a snapshot, or the backlog after Offset) and then streams every write and
// PING as MsgReplData; the replica sends MsgReplAck once a second and on
// GETACK.
//
// A full resync takes time, as in Redis 7.0 (syncCommand,
// replicationCron's shouldStartChildReplication, startBgsaveForReplication,
// readSyncBulkPayload): with repl-diskless-sync yes and a non-zero
// repl-diskless-sync-delay the master waits until the replica has been
// waiting that many whole seconds (or repl-diskless-sync-max-replicas are
// waiting) before it forks; only then does the snapshot leave, and the
// replica is loading for the snapshot's transfer and load time (rdbSize at
// rdbRate, twice) before it is in sync. Meanwhile its master_link_status is
// down, its offset for elections is 0 once the +FULLRESYNC arrived (no
// cached master), and its master does not count it as a good replica.

package node

import (
	"fmt"
	"strconv"
	"time"

	"github.com/rcsim/rcsim/node/trace"
)

// Replica-side link states (repl_state, simplified).
const (
	replNone       = iota // REPL_STATE_CONNECT: configured, no link
	replConnecting        // connecting, handshaking, waiting for the master's fork
	replLoading           // REPL_STATE_TRANSFER and loading: the snapshot is on its way or being loaded
	replConnected         // REPL_STATE_CONNECTED: synced, streaming
)

// replBufBlockSize is the payload of one replication buffer block as Redis
// 7.0 allocates it (feedReplicationBuffer): PROTO_REPLY_CHUNK_BYTES (16 KiB)
// plus the 40-byte replBufBlock header, which jemalloc (Debian's build)
// rounds up to its 20 KiB size class; the block takes over the slack, so
// 20480 - 40 bytes. Measured on Debian's redis-server 7.0.15: the backlog's
// first byte offset advances in steps of exactly 20440.
const replBufBlockSize = 20480 - 40

// backlogEntry is one write in the backlog, with the offset after it.
type backlogEntry struct {
	end int64
	w   Write
}

// backlog is the replication backlog (replBacklog) as Redis 7.0 keeps it:
// the stream lives in blocks of replBufBlockSize bytes laid end to end from
// the offset the backlog was created at, and incrementalTrimReplicationBacklog
// (run from beforeSleep after every event-loop iteration, and when a block is
// added) drops whole blocks from the front while the bytes left would still
// exceed repl-backlog-size. So once that much was written the history held
// is more than repl-backlog-size and at most one block more.
//
// The writes themselves are kept in fixed blocks of entries (O(1) per
// write, nothing ever copied as the history grows); an entry leaves when
// its last byte falls before the history's first byte, and a block whose
// entries all left is kept to take the next writes.
//
// Simplifications: the trim runs after every write (a replica applying a
// batch of writes from one read trims once in Redis); the SELECT Redis
// emits before the first write after a full sync is not counted; replicas
// never hold a block back (the kernel hands the stream to the network at
// once, so every replica's send position has left the first block by the
// time beforeSleep trims).
type backlog struct {
	blocks [][]backlogEntry // each of backlogBlock entries, oldest first from blocks[b0]
	b0     int              // blocks before it are gone (nil)
	head   int              // index of the oldest entry in blocks[b0]
	n      int              // entries held
	spare  []backlogEntry   // an emptied block, for the next one needed
	// first is the offset before the oldest byte held
	// (repl_backlog->offset - 1): a replica that has it can continue. It
	// moves by whole blocks from the offset the backlog was created at.
	first int64
}

// backlogBlock is how many writes a block of the backlog holds (3 KB).
const backlogBlock = 64

// reset empties the backlog; its blocks start after offset
// (createReplicationBacklog, at boot or after a full sync).
func (b *backlog) reset(offset int64) {
	for b.b0 < len(b.blocks) {
		b.dropBlock()
	}
	b.head, b.n, b.first = 0, 0, offset
}

// at is the i-th entry held, from the oldest.
func (b *backlog) at(i int) *backlogEntry {
	i += b.head
	return &b.blocks[b.b0+i/backlogBlock][i%backlogBlock]
}

// add appends w, whose last byte is at end, then trims the history to size
// bytes as incrementalTrimReplicationBacklog does: the first block goes only
// if more than size bytes remain without it (which also keeps one block).
func (b *backlog) add(w Write, end, size int64) {
	if b.head+b.n == (len(b.blocks)-b.b0)*backlogBlock {
		blk := b.spare
		b.spare = nil
		if blk == nil {
			blk = make([]backlogEntry, backlogBlock)
		}
		b.blocks = append(b.blocks, blk)
	}
	*b.at(b.n) = backlogEntry{end: end, w: w}
	b.n++
	for end-b.first-replBufBlockSize > size {
		b.first += replBufBlockSize
	}
	for b.n > 0 && b.at(0).end <= b.first {
		*b.at(0) = backlogEntry{} // let the collector have the strings
		b.head++
		b.n--
		if b.head == backlogBlock {
			b.dropBlock()
			b.head = 0
		}
	}
}

// dropBlock removes the oldest block, its entries already cleared, and
// keeps it as the spare.
func (b *backlog) dropBlock() {
	blk := b.blocks[b.b0]
	clear(blk)
	b.blocks[b.b0] = nil
	b.b0++
	if b.b0 == len(b.blocks) || b.b0 >= 64 && 2*b.b0 >= len(b.blocks) {
		n := copy(b.blocks, b.blocks[b.b0:])
		clear(b.blocks[n:])
		b.blocks, b.b0 = b.blocks[:n], 0
	}
	b.spare = blk
}

// after returns the writes whose end is beyond offset, in stream order
// (addReplyReplicationBacklog).
func (b *backlog) after(offset int64) []Write {
	var out []Write
	for i := 0; i < b.n; i++ {
		if e := b.at(i); e.end > offset {
			out = append(out, e.w)
		}
	}
	return out
}

// replicaClient is a replica connected to me (a slave client).
type replicaClient struct {
	conn      ConnID
	id        ID
	ackOffset int64
	ackTime   time.Duration
	// waiting is SLAVE_STATE_WAIT_BGSAVE_START: a full resync is due and
	// no fork has started for it yet; since is when it asked (its
	// lastinteraction, which the diskless delay counts from).
	waiting bool
	since   time.Duration
}

// replication is the server's replication state, both roles.
type replication struct {
	replID       string
	replID2      string
	secondOffset int64 // second_replid_offset
	offset       int64 // master_repl_offset, or processed offset on a replica
	backlog      backlog

	// Replica side.
	master          ID // masterhost: "" when not replicating
	state           int
	conn            ConnID
	lastInteraction time.Duration
	lastIO          time.Duration // repl_transfer_lastio while replConnecting: the dial, then the connect
	downSince       time.Duration // repl_down_since; never = never connected
	lastAck         time.Duration
	loadedAt        time.Duration // replLoading: when the snapshot is loaded
	loadSnap        []KeyVal      // replLoading: the snapshot, for the disk once loaded

	// Master side.
	replicas   []*replicaClient // in connection order
	goodSlaves int              // repl_good_slaves_count (refreshGoodSlavesCount)
	lastPing   time.Duration
	waiters    []waiter
	woff       map[ClientID]int64 // each client's last write offset
}

func (r *replication) init(n *Node) {
	r.replID = n.randomHex()
	r.downSince = never
	r.lastPing = never
	r.woff = map[ClientID]int64{}
}

// randomHex is 40 random hex characters (getRandomHexChars).
func (n *Node) randomHex() string {
	return fmt.Sprintf("%016x%016x%08x", n.rnd.Uint64(), n.rnd.Uint64(), n.rnd.Uint32())
}

// replOffsetForHeader is the header offset: master_repl_offset on a master,
// replicationGetSlaveOffset on a replica.
func (n *Node) replOffsetForHeader() int64 { return n.electionOffset(n.repl.offset) }

// connectWithMaster dials a replication link to my master.
func (n *Node) connectWithMaster() {
	m := n.myself.master
	if m == nil {
		return
	}
	r := &n.repl
	if r.master != m.id {
		n.replicationSetMaster(m)
		return
	}
	if r.state != replNone {
		return
	}
	r.conn = ConnID{Dialer: n.self, Peer: m.id, N: n.nextConn, Repl: true}
	n.nextConn++
	r.state, r.lastIO = replConnecting, n.now
	n.out.Dials = append(n.out.Dials, r.conn)
}

// replicationSetMaster points replication at m, keeping my data so a
// partial resync is possible, and connects at once.
func (n *Node) replicationSetMaster(m *peer) {
	r := &n.repl
	n.closeReplLink()
	for _, c := range r.replicas {
		n.out.Closes = append(n.out.Closes, c.conn)
	}
	r.replicas = nil
	n.refreshGoodSlavesCount()
	n.disconnectAllBlockedClients()
	r.master = m.id
	n.connectWithMaster()
}

// replicationUnsetMaster turns me into a replication master: stop
// replicating, keep the data, shiftReplicationId.
func (n *Node) replicationUnsetMaster() {
	r := &n.repl
	n.closeReplLink()
	r.master = ""
	r.replID2 = r.replID
	r.secondOffset = r.offset + 1
	r.replID = n.randomHex()
	r.lastPing = n.now
}

// closeReplLink closes my link to my master, if any.
func (n *Node) closeReplLink() {
	r := &n.repl
	if r.state == replNone {
		return
	}
	n.out.Closes = append(n.out.Closes, r.conn)
	n.masterDisconnected()
}

// masterDisconnected is replicationHandleMasterDisconnection.
func (n *Node) masterDisconnected() {
	r := &n.repl
	if r.state == replConnected {
		r.downSince = n.now
	}
	r.state = replNone
}

// replLinkEvent handles events on replication connections.
func (n *Node) replLinkEvent(ev LinkEvent) {
	r := &n.repl
	if ev.Conn.Dialer != n.self {
		if ev.Kind == Closed {
			n.dropReplica(ev.Conn)
		}
		return
	}
	if ev.Conn != r.conn || r.state == replNone {
		return
	}
	switch ev.Kind {
	case Connected:
		r.lastIO = n.now // the handshake's first reply (receiveSynchronousResponse)
		n.out.Msgs = append(n.out.Msgs, Envelope{Conn: r.conn, Msg: &Message{Type: MsgReplSync,
			Header: Header{Sender: n.self}, Repl: &Repl{ReplID: r.replID, Offset: r.offset}}})
	case Refused, Closed:
		n.masterDisconnected()
	}
}

func (n *Node) dropReplica(c ConnID) {
	r := &n.repl
	for i, x := range r.replicas {
		if x.conn == c {
			r.replicas = append(r.replicas[:i], r.replicas[i+1:]...)
			n.refreshGoodSlavesCount() // freeClient of a replica
			return
		}
	}
}

// processReplMessage handles the replication stream.
func (n *Node) processReplMessage(conn ConnID, m *Message) {
	if m.Repl == nil {
		return
	}
	switch m.Type {
	case MsgReplSync:
		n.syncCommand(conn, m.Repl)
	case MsgReplData:
		n.replicaReceive(conn, m.Repl)
	case MsgReplAck:
		for _, c := range n.repl.replicas {
			if c.conn == conn {
				c.ackOffset = max(c.ackOffset, m.Repl.Offset)
				c.ackTime = n.now
			}
		}
		n.checkWaiters()
	}
}

// syncCommand is syncCommand: register the replica, then answer its PSYNC
// with the backlog after its offset (+CONTINUE) or a snapshot
// (+FULLRESYNC), as masterTryPartialResynchronization decides.
func (n *Node) syncCommand(conn ConnID, req *Repl) {
	r := &n.repl
	if n.myself.is(FlagSlave) || conn.Dialer == n.self {
		n.out.Closes = append(n.out.Closes, conn) // no chained replication here
		return
	}
	n.dropReplica(conn)
	c := &replicaClient{conn: conn, id: conn.Dialer, ackOffset: req.Offset, ackTime: n.now}
	r.replicas = append(r.replicas, c)
	why := r.partialResyncRefusal(req)
	if why == "" {
		data := &Repl{ReplID: r.replID, Offset: r.offset, Ops: r.backlog.after(req.Offset)}
		n.emit(trace.Note, n.byID[conn.Dialer], 0, "psync partial from offset "+itoa64(req.Offset))
		n.refreshGoodSlavesCount() // replicaPutOnline
		n.out.Msgs = append(n.out.Msgs, Envelope{Conn: conn, Msg: &Message{Type: MsgReplData, Repl: data}})
		return
	}
	c.ackOffset, c.waiting, c.since = 0, true, n.now
	n.emit(trace.Note, n.byID[conn.Dialer], 0, "psync full: "+why)
	// syncCommand's case 3: a diskless sync with a delay forks from
	// replicationCron; otherwise at once, if no child is running.
	if !n.cfg.ReplDisklessSync || n.cfg.ReplDisklessSyncDelay == 0 {
		n.startPendingFork()
	}
}

// startPendingFork is replicationStartPendingFork: fork for the waiting
// replicas if shouldStartChildReplication says so (no child running, and
// a disk-backed sync, enough replicas waiting, or the oldest waiting for
// at least repl-diskless-sync-delay in whole seconds).
func (n *Node) startPendingFork() {
	if n.disk.child != childNone {
		return
	}
	waiting, maxIdle := 0, int64(0)
	for _, c := range n.repl.replicas {
		if c.waiting {
			waiting++
			maxIdle = max(maxIdle, unixSeconds(n.now)-unixSeconds(c.since))
		}
	}
	maxReplicas := n.cfg.ReplDisklessSyncMaxReplicas
	if waiting == 0 || n.cfg.ReplDisklessSync && !(maxReplicas > 0 && waiting >= maxReplicas) &&
		maxIdle < int64(n.cfg.ReplDisklessSyncDelay/time.Second) {
		return
	}
	n.startBgsaveForReplication(waiting)
}

// startBgsaveForReplication forks the child that produces the snapshot for
// every waiting replica and sends each its +FULLRESYNC and the snapshot
// (replicationSetupSlaveForFullResync; the stream of writes after the fork
// follows it on the same connection). A disk-backed sync's child is a
// BGSAVE: its file also becomes dump.rdb.
func (n *Node) startBgsaveForReplication(waiting int) {
	r := &n.repl
	snap := n.db.snapshot()
	p := &n.disk
	p.child, p.childDone = childRepl, n.now+rdbDuration(snap)
	if !n.cfg.ReplDisklessSync {
		p.child, p.childAt, p.childDirty, p.childSnap = childRDB, n.now, p.dirty, snap
	}
	n.emit(trace.Note, nil, 0, "fullsync fork: replicas="+strconv.Itoa(waiting)+" keys="+strconv.Itoa(len(snap)))
	for _, c := range r.replicas {
		if !c.waiting {
			continue
		}
		c.waiting, c.ackTime = false, n.now // replicaPutOnline sets repl_ack_time
		data := &Repl{ReplID: r.replID, Offset: r.offset, Full: true, Snap: snap}
		n.out.Msgs = append(n.out.Msgs, Envelope{Conn: c.conn, Msg: &Message{Type: MsgReplData, Repl: data}})
	}
	n.refreshGoodSlavesCount()
}

// partialResyncRefusal is masterTryPartialResynchronization's test: ""
// when a replica that has req.Offset bytes of history req.ReplID can
// continue from my backlog, else why not. The history must be mine
// (replid), or my previous one (replid2) up to second_replid_offset, which
// is how a promoted replica lets its former siblings continue; and the
// offset must fall inside the backlog.
func (r *replication) partialResyncRefusal(req *Repl) string {
	// Redis compares psync_offset = have+1 with second_replid_offset.
	switch {
	case req.ReplID != r.replID && req.ReplID != r.replID2:
		return "replication ID mismatch"
	case req.ReplID != r.replID && req.Offset+1 > r.secondOffset:
		return "offset beyond the end of the previous ID's history"
	case req.Offset > r.offset:
		return "offset ahead of mine"
	case req.Offset < r.backlogStart():
		return "offset before the backlog"
	}
	return ""
}

// backlogStart is the lowest offset a replica may continue from: the
// offset before the backlog's first byte (repl_backlog->offset − 1).
func (r *replication) backlogStart() int64 { return r.backlog.first }

// replicaReceive applies stream data from my master.
func (n *Node) replicaReceive(conn ConnID, d *Repl) {
	r := &n.repl
	if conn != r.conn || r.state == replNone || n.myself.is(FlagMaster) {
		return
	}
	r.lastInteraction = n.now
	if d.Full {
		// +FULLRESYNC: the cached master is discarded (offset 0 for
		// elections from now); the snapshot replaces the keyspace once
		// transferred and loaded. The keyspace is swapped at once here:
		// nothing reads a loading replica's data.
		n.db.load(d.Snap)
		r.offset = d.Offset
		r.backlog.reset(r.offset)
		r.replID, r.replID2, r.secondOffset = d.ReplID, "", -1
		r.state, r.loadSnap = replLoading, d.Snap
		r.loadedAt = n.now + 2*rdbDuration(d.Snap)
		if r.loadedAt == n.now {
			n.syncLoaded()
		}
		return
	}
	if r.state == replConnecting {
		r.state = replConnected // +CONTINUE
	}
	if d.ReplID != "" && d.ReplID != r.replID {
		// +CONTINUE <new replid> (replicationCreateMasterClient's caller in
		// syncWithMaster): the master changed history, my old ID becomes
		// replid2 so my own replicas could still continue.
		r.replID2, r.secondOffset, r.replID = r.replID, r.offset+1, d.ReplID
	}
	for _, w := range d.Ops {
		n.appendBacklog(w)
		if w.Op != 0 {
			n.db.apply(w)
		}
	}
	if d.GetAck && r.state == replConnected { // a loading replica has no master client to answer with
		n.sendAck()
	}
}

// syncLoaded ends a full resync on the replica: the snapshot is loaded
// (readSyncBulkPayload's end), the link is up and the first ACK goes out
// at once, which puts the replica online at its master.
func (n *Node) syncLoaded() {
	r := &n.repl
	r.state, r.lastInteraction = replConnected, n.now
	n.syncedToDisk(r.loadSnap)
	n.emit(trace.Note, n.byID[r.master], 0, "fullsync loaded: keys="+strconv.Itoa(len(r.loadSnap)))
	r.loadSnap = nil
	n.sendAck()
}

// appendBacklog adds a write to the stream: offset and backlog.
func (n *Node) appendBacklog(w Write) {
	r := &n.repl
	if w.Op != 0 {
		n.persistWrite()
	}
	r.offset += writeSize(w)
	r.backlog.add(w, r.offset, n.cfg.ReplBacklogSize)
}

// propagate streams one write (or PING, Op 0) to every replica.
func (n *Node) propagate(w Write, getAck bool) {
	r := &n.repl
	n.appendBacklog(w)
	if len(r.replicas) == 0 {
		return
	}
	m := n.cfg.Shared.replData(w, len(r.replicas))
	d := m.Repl
	d.ReplID, d.Offset, d.Ping, d.GetAck = r.replID, r.offset, w.Op == 0, getAck
	for _, c := range r.replicas {
		if !c.waiting { // the fork's snapshot will hold it
			n.out.Msgs = append(n.out.Msgs, Envelope{Conn: c.conn, Msg: m})
		}
	}
}

// sendAck is replicationSendAck (REPLCONF ACK).
func (n *Node) sendAck() {
	r := &n.repl
	r.lastAck = n.now
	n.out.Msgs = append(n.out.Msgs, Envelope{Conn: r.conn, Msg: &Message{Type: MsgReplAck,
		Header: Header{Sender: n.self}, Repl: &Repl{ReplID: r.replID, Offset: r.offset}}})
}

// replicationCron runs once a second.
func (n *Node) replicationCron() {
	r := &n.repl
	if n.myself.is(FlagSlave) {
		// "Timeout connecting to the MASTER...": a connect or handshake
		// (PSYNC unanswered) that heard nothing for repl-timeout seconds
		// is cancelled (cancelReplicationHandshake), and the connect below
		// starts anew in the same cron, as replicationCron orders them.
		if r.state == replConnecting && unixSeconds(n.now)-unixSeconds(r.lastIO) > int64(n.cfg.ReplTimeout/time.Second) {
			n.emit(trace.Note, nil, 0, "timeout connecting to the master")
			n.closeReplLink()
		}
		if r.state == replNone {
			n.connectWithMaster()
		}
		if r.state == replConnected && n.now-r.lastInteraction > n.cfg.ReplTimeout {
			n.closeReplLink()
		}
		if r.state == replConnected {
			n.sendAck()
		}
		return
	}
	period := max(n.cfg.ReplPingReplicaPeriod, time.Second)
	if len(r.replicas) > 0 && n.now-r.lastPing >= period && n.now >= n.pausedUntil {
		r.lastPing = n.now
		n.propagate(Write{}, false)
	}
	n.startPendingFork()
	kept := r.replicas[:0]
	for _, c := range r.replicas {
		if !c.waiting && n.now-c.ackTime > n.cfg.ReplTimeout {
			n.out.Closes = append(n.out.Closes, c.conn)
			continue
		}
		kept = append(kept, c)
	}
	r.replicas = kept
	n.refreshGoodSlavesCount()
}

func itoa64(x int64) string { return strconv.FormatInt(x, 10) }
