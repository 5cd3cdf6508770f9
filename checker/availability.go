package checker

// Client-observed availability per shard: each client operation counted
// by the shard that owned its slot at boot and by how it ended (ok,
// CLUSTERDOWN, timeout, connection refused, another error), per time
// bucket; and the downtime each shard's clients saw.

import (
	"slices"
	"strings"
	"time"

	"github.com/rcsim/rcsim/checker/history"
	"github.com/rcsim/rcsim/node/trace"
)

// AvailabilityBucket is the default width of an availability bucket.
const AvailabilityBucket = 100 * time.Millisecond

// Outcome classes of a client operation, in the order they are drawn.
const (
	OutcomeOK          = "ok"
	OutcomeClusterDown = "clusterdown" // -CLUSTERDOWN: the node's cluster_state was fail
	OutcomeTimeout     = "timeout"     // no answer within the client's timeout
	OutcomeRefused     = "refused"     // connection refused: the process was down
	OutcomeOther       = "other_error" // any other error (TRYAGAIN, MOVED loops, …)
)

// Outcomes lists the outcome classes in drawing order.
var Outcomes = []string{OutcomeOK, OutcomeClusterDown, OutcomeTimeout, OutcomeRefused, OutcomeOther}

// OutcomeOf classifies how an operation ended.
func OutcomeOf(op history.Op) string {
	switch {
	case op.Status == history.OK:
		return OutcomeOK
	case op.Status == history.Unknown || strings.Contains(op.Err, "timeout"): // "timeout", "dial tcp: i/o timeout"
		return OutcomeTimeout
	case strings.HasPrefix(op.Err, "CLUSTERDOWN"):
		return OutcomeClusterDown
	case strings.HasPrefix(op.Err, "ECONNREFUSED"):
		return OutcomeRefused
	}
	return OutcomeOther
}

// ShardAvailability is one shard's operations per bucket: Counts[i][k] is
// the operations invoked in bucket i that ended with Outcomes[k].
type ShardAvailability struct {
	Shard    string   `json:"shard"` // the master that owned the slots at boot
	Slots    string   `json:"slots"` // its slot ranges at boot
	BucketMs int64    `json:"bucket_ms"`
	Counts   [][5]int `json:"counts"`
}

// Availability counts the history's operations per shard (by the slot
// owners of the trace's boot events) and per bucket of width bucket up to
// endMs. Operations without a slot, or on a slot no boot master owned,
// are left out.
func Availability(tr []trace.Event, hist []history.Op, bucket time.Duration, endMs int64) []ShardAvailability {
	owner, shards := bootShards(tr)
	n := int(endMs/bucket.Milliseconds()) + 1
	for i := range shards {
		shards[i].BucketMs = bucket.Milliseconds()
		shards[i].Counts = make([][5]int, n)
	}
	for _, op := range hist {
		if op.Slot < 0 || op.Slot >= len(owner) || owner[op.Slot] < 0 {
			continue
		}
		b := int(op.Invoke / bucket)
		if b >= n {
			continue
		}
		k := 0
		for i, o := range Outcomes {
			if o == OutcomeOf(op) {
				k = i
			}
		}
		shards[owner[op.Slot]].Counts[b][k]++
	}
	return shards
}

// bootShards reads the boot masters' slot ranges from the Boot events'
// typed detail.
func bootShards(tr []trace.Event) ([]int, []ShardAvailability) {
	owner := make([]int, 16384)
	for i := range owner {
		owner[i] = -1
	}
	var shards []ShardAvailability
	for _, e := range tr {
		if !bootsMaster(e) {
			continue
		}
		rs := slotsOf(e)
		for _, r := range rs {
			if r.Start < 0 || r.End >= len(owner) || r.Start > r.End {
				continue
			}
			for s := r.Start; s <= r.End; s++ {
				owner[s] = len(shards)
			}
		}
		shards = append(shards, ShardAvailability{Shard: e.Node, Slots: trace.FormatRanges(rs, ",")})
	}
	return owner, shards
}

// ShardDowntime is the time one shard's clients could not use it: the
// sum of the gaps between two successful answers from the shard (by
// return time) longer than AvailabilityBucket in which an operation on it
// was started and failed or timed out. Gaps before the first success on
// any shard are not counted: the cluster was still coming up (a master
// refuses writes until CLUSTER_WRITABLE_DELAY after boot). ClusterDownMs
// is the part of it in gaps where an answer was CLUSTERDOWN.
type ShardDowntime struct {
	Shard         string `json:"shard"`
	DowntimeMs    int64  `json:"downtime_ms"`
	ClusterDownMs int64  `json:"clusterdown_ms"`
}

// Downtime measures each boot shard's downtime from the history; a gap
// still open at endMs ends there.
func Downtime(tr []trace.Event, hist []history.Op, endMs int64) []ShardDowntime {
	owner, shards := bootShards(tr)
	type shardOps struct {
		okAt   []time.Duration // return times of successes
		failAt []time.Duration // invoke times of failures and timeouts
		downAt []time.Duration // invoke times of CLUSTERDOWN answers
	}
	per := make([]shardOps, len(shards))
	for _, op := range hist {
		if op.Slot < 0 || op.Slot >= len(owner) || owner[op.Slot] < 0 {
			continue
		}
		p := &per[owner[op.Slot]]
		switch OutcomeOf(op) {
		case OutcomeOK:
			p.okAt = append(p.okAt, op.Return)
		case OutcomeClusterDown:
			p.downAt = append(p.downAt, op.Invoke)
			p.failAt = append(p.failAt, op.Invoke)
		default:
			p.failAt = append(p.failAt, op.Invoke)
		}
	}
	out := make([]ShardDowntime, len(shards))
	end := time.Duration(endMs) * time.Millisecond
	// The cluster is up from the first success on any shard: a shard
	// that answers later (its master crashed as the cluster came up) is
	// down from then, not left uncounted.
	up := time.Duration(-1)
	for i := range per {
		slices.Sort(per[i].okAt)
		if len(per[i].okAt) > 0 && (up < 0 || per[i].okAt[0] < up) {
			up = per[i].okAt[0]
		}
	}
	for i, p := range per {
		out[i].Shard = shards[i].Shard
		if up >= 0 && (len(p.okAt) == 0 || p.okAt[0] > up) {
			p.okAt = append([]time.Duration{up}, p.okAt...)
		}
		for j := range p.okAt {
			from, to := p.okAt[j], end
			if j+1 < len(p.okAt) {
				to = p.okAt[j+1]
			}
			if to-from <= AvailabilityBucket || !anyIn(p.failAt, from, to) {
				continue
			}
			out[i].DowntimeMs += (to - from).Milliseconds()
			if anyIn(p.downAt, from, to) {
				out[i].ClusterDownMs += (to - from).Milliseconds()
			}
		}
	}
	return out
}

// anyIn reports whether some time of ts (in invoke order, so sorted) lies
// in [from, to).
func anyIn(ts []time.Duration, from, to time.Duration) bool {
	k, _ := slices.BinarySearch(ts, from)
	return k < len(ts) && ts[k] < to
}
