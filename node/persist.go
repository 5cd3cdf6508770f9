// Persistence in virtual time: RDB snapshots at the save points (serverCron's
// save-point check, rdbSaveBackground, checkChildrenDone), the append-only
// file and its fsync policy (feedAppendOnlyFile, flushAppendOnlyFile from
// beforeSleep), and what a restart loads (loadDataFromDisk).
//
// The model keeps images, not files: the last completed snapshot's keyspace,
// and the AOF's content as of its last fsync. A crash keeps what the disk
// has: after a killed process (SIGKILL) that is everything written, since
// Redis write()s the AOF buffer in beforeSleep, before any reply leaves, and
// the page cache outlives the process; after a power loss only what was
// fsynced. An RDB is a file renamed into place when its child finishes, so a
// killed child leaves the previous one.
//
// Simplifications, each documented in the README: a snapshot's child takes
// its size at rdbRate (not measured) and is checked once per cron tick;
// fsync completes at once (the background fsync's bio thread and the write
// postponement while one is running are not modelled); AOF rewrite is not
// modelled (the image is the keyspace, not the log); the RDB's replication
// ID and offset (rdbPopulateSaveInfo) are not restored, so a restarted node
// always full-resyncs; appendfsync no stands for the kernel's writeback of
// dirty pages after dirty_expire_centisecs (30 s).

package node

import (
	"strconv"
	"time"

	"github.com/rcsim/rcsim/node/trace"
)

// Fsync is an appendfsync policy.
type Fsync uint8

// appendfsync values.
const (
	FsyncEverySec Fsync = iota // everysec (the default)
	FsyncAlways                // always: fsync before the replies leave
	FsyncNo                    // no: the OS writes back (every 30 s here)
)

// SavePoint is one "save <seconds> <changes>" pair.
type SavePoint struct {
	Seconds int64
	Changes int64
}

// DefaultSavePoints is Redis 7.0's default save "3600 1 300 100 60 10000".
var DefaultSavePoints = []SavePoint{{3600, 1}, {300, 100}, {60, 10000}}

// rdbRate is the bytes per second at which a snapshot is produced (written
// by a BGSAVE child, or streamed by a diskless sync's child) and loaded.
// An assumption, not a measurement: for the datasets rcsim's workloads
// build (kilobytes) any rate in the hundreds of MB/s makes these times
// milliseconds, far below the 5 s repl-diskless-sync-delay.
const rdbRate = 100_000_000

// writebackPeriod stands for dirty_expire_centisecs (30 s): with
// appendfsync no, data written this long ago has reached the disk.
const writebackPeriod = 30

// childRDB and childRepl are the kinds of the one child process Redis
// allows at a time (hasActiveChildProcess).
const (
	childNone = iota
	childRDB  // BGSAVE to disk (rdbSaveBackground)
	childRepl // diskless sync to replica sockets (rdbSaveToSlavesSockets)
)

// Data is what a node's disk holds of its dataset: what a restart loads.
// Source is "aof" (appendonly yes: the AOF, even when empty), "rdb" (the
// last snapshot) or "" (nothing: the restart starts empty). Through is the
// node's clock at the point the data reflects: the snapshot's fork, the
// AOF's last fsync, or the crash itself when the page cache survived.
type Data struct {
	Source  string
	Through time.Duration
	Keys    []KeyVal
}

// persistence is the server's RDB and AOF state.
type persistence struct {
	dirty       int64         // server.dirty: changes since the last successful save
	lastSave    time.Duration // lastsave: the last successful save (or boot)
	child       int           // childNone, childRDB or childRepl
	childDone   time.Duration // when the child exits
	childDirty  int64         // dirty_before_bgsave
	childSnap   []KeyVal      // a BGSAVE child's copy-on-write view of the keyspace
	childAt     time.Duration // its fork time
	rdb         *Data         // dump.rdb as last renamed into place; nil: none
	aof         *Data         // the AOF as of its last fsync (appendonly yes)
	aofUnsynced bool          // written since the last fsync
	lastFsync   time.Duration // aof_last_fsync
}

// init runs when the node is built; boot sets the clocks (lastsave is set
// at startup, initServer).
func (p *persistence) init(n *Node) {
	if n.cfg.AppendOnly {
		p.aof = &Data{Source: "aof"}
	}
}

// persistWrite counts one applied write: server.dirty, and the AOF's
// feedAppendOnlyFile (written to the page cache in this entry point's
// beforeSleep).
func (n *Node) persistWrite() {
	n.disk.dirty++
	n.disk.aofUnsynced = n.cfg.AppendOnly
}

// serverCronPersistence is serverCron's part: finish a child that is done
// (checkChildrenDone), else start a BGSAVE when a save point is met. Redis
// compares whole seconds (server.unixtime − lastsave > seconds); a failed
// BGSAVE is not modelled, so CONFIG_BGSAVE_RETRY_DELAY never applies.
func (n *Node) serverCronPersistence() {
	p := &n.disk
	if p.child != childNone {
		if n.now >= p.childDone {
			n.childDone()
		}
		return
	}
	for _, sp := range n.cfg.Save {
		if p.dirty >= sp.Changes && unixSeconds(n.now)-unixSeconds(p.lastSave) > sp.Seconds {
			n.bgsave(sp)
			return
		}
	}
}

// bgsave forks a BGSAVE child (rdbSaveBackground): it writes the keyspace
// as of now, which becomes dump.rdb when it exits.
func (n *Node) bgsave(sp SavePoint) {
	p := &n.disk
	p.childSnap = n.db.snapshot()
	p.child, p.childAt, p.childDirty = childRDB, n.now, p.dirty
	p.childDone = n.now + rdbDuration(p.childSnap)
	n.emit(trace.Note, nil, 0, "bgsave start: "+strconv.FormatInt(sp.Changes, 10)+" changes in "+
		strconv.FormatInt(sp.Seconds, 10)+" seconds")
}

// childDone is backgroundSaveDoneHandler: a BGSAVE's file replaces
// dump.rdb and counts as a save; then a replication fork that waited starts
// (replicationStartPendingFork).
func (n *Node) childDone() {
	p := &n.disk
	if p.child == childRDB {
		p.rdb = &Data{Source: "rdb", Through: p.childAt, Keys: p.childSnap}
		p.dirty -= p.childDirty
		p.lastSave = n.now
		n.emit(trace.Note, nil, 0, "bgsave done: keys="+strconv.Itoa(len(p.childSnap)))
	}
	p.child, p.childSnap = childNone, nil
	n.startPendingFork()
}

// flushAOF is flushAppendOnlyFile as beforeSleep runs it: the buffer is
// written (the page cache has it) and, by the policy, fsynced: always at
// once, everysec once the wall-clock second moved on since the last fsync
// (server.unixtime > aof_last_fsync), no after the writeback period.
func (n *Node) flushAOF() {
	p := &n.disk
	if !p.aofUnsynced {
		return
	}
	switch n.cfg.AppendFsync {
	case FsyncAlways:
		// The image is the keyspace itself (DataOnDisk reads it), so no
		// copy is made per write.
		p.aofUnsynced, p.lastFsync = false, n.now
		return
	case FsyncEverySec:
		if unixSeconds(n.now) <= unixSeconds(p.lastFsync) {
			return
		}
	case FsyncNo:
		if unixSeconds(n.now)-unixSeconds(p.lastFsync) < writebackPeriod {
			return
		}
	}
	n.fsyncAOF()
}

// fsyncAOF makes the AOF durable up to now.
func (n *Node) fsyncAOF() {
	p := &n.disk
	p.aof = &Data{Source: "aof", Through: n.now, Keys: n.db.snapshot()}
	p.aofUnsynced, p.lastFsync = false, n.now
}

// syncedToDisk is what a replica's full sync leaves on its disk: with the
// default repl-diskless-load disabled, readSyncBulkPayload renames the
// received RDB into dump.rdb before loading it, and with appendonly yes
// restartAOFAfterSYNC rewrites the AOF from the loaded data (at once here).
func (n *Node) syncedToDisk(snap []KeyVal) {
	p := &n.disk
	p.rdb = &Data{Source: "rdb", Through: n.now, Keys: snap}
	p.lastSave, p.dirty = n.now, 0
	if n.cfg.AppendOnly {
		p.aof = &Data{Source: "aof", Through: n.now, Keys: snap}
		p.aofUnsynced, p.lastFsync = false, n.now
	}
}

// DataOnDisk returns what a restart of this node would load if its process
// died now (loadDataFromDisk): the AOF when appendonly is yes, else the last
// snapshot. powerLoss says the machine went down too, taking the page cache
// with it: only fsynced AOF data survives. A killed process loses nothing it
// wrote, and Redis writes the AOF before replying.
func (n *Node) DataOnDisk(powerLoss bool) Data {
	p := &n.disk
	switch {
	case n.cfg.AppendOnly && (n.cfg.AppendFsync == FsyncAlways || p.aofUnsynced && !powerLoss):
		return Data{Source: "aof", Through: n.now, Keys: n.db.snapshot()}
	case n.cfg.AppendOnly:
		return *p.aof
	case p.rdb != nil:
		return *p.rdb
	}
	return Data{}
}

// LoadData gives a restored node, before its first entry point, the dataset
// its disk kept (loadDataFromDisk); it is also what its disk holds until it
// saves again.
func (n *Node) LoadData(d Data) {
	if n.booted {
		panic("node: invariant: LoadData after the first entry point")
	}
	n.db.load(d.Keys)
	switch d.Source {
	case "rdb":
		n.disk.rdb = &d
	case "aof":
		n.disk.aof = &d
	}
	if n.cfg.AppendOnly && n.disk.aof == nil {
		n.disk.aof = &Data{Source: "aof", Through: d.Through}
	}
}

// rdbDuration is how long producing (or loading) snap takes at rdbRate.
func rdbDuration(snap []KeyVal) time.Duration {
	return time.Duration(rdbSize(snap) * int64(time.Second) / rdbRate)
}

// rdbSize estimates snap's RDB size: the header and trailer (magic, aux
// fields, checksum: about 100 bytes) and, per key, a type byte, length
// prefixes and the strings.
func rdbSize(snap []KeyVal) int64 {
	n := int64(100)
	for _, kv := range snap {
		n += 3 + int64(len(kv.Key)) + int64(len(kv.Str))
		for _, e := range kv.List {
			n += 2 + int64(len(e))
		}
	}
	return n
}
