package checker

// Client-observed availability per shard: each client operation counted
// by the shard that owned its slot at boot and by how it ended (ok,
// CLUSTERDOWN, timeout, connection refused, another error), per time
// bucket; and the downtime each shard's clients saw.

import (
	"strconv"
	"strings"
	"time"

	"rcsim/checker/history"
	"rcsim/sim/trace"
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
	case op.Status == history.Unknown || strings.HasPrefix(op.Err, "timeout"):
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

// bootShards reads the boot masters' slot ranges ("master 0-5460").
func bootShards(tr []trace.Event) ([]int, []ShardAvailability) {
	owner := make([]int, 16384)
	for i := range owner {
		owner[i] = -1
	}
	var shards []ShardAvailability
	for _, e := range tr {
		if e.Kind != trace.Boot || !strings.HasPrefix(e.Value, "master ") {
			continue
		}
		ranges := strings.TrimPrefix(e.Value, "master ")
		for _, r := range strings.FieldsFunc(ranges, func(c rune) bool { return c == ' ' || c == ',' }) {
			lo, hi, found := strings.Cut(r, "-")
			a, err1 := strconv.Atoi(lo)
			b := a
			var err2 error
			if found {
				b, err2 = strconv.Atoi(hi)
			}
			if err1 != nil || err2 != nil || a < 0 || b >= len(owner) || a > b {
				continue
			}
			for s := a; s <= b; s++ {
				owner[s] = len(shards)
			}
		}
		shards = append(shards, ShardAvailability{Shard: e.Node, Slots: ranges})
	}
	return owner, shards
}

// ShardDowntime is the time one shard's clients could not use it: the
// buckets in which they tried operations and none succeeded, counted from
// the shard's first successful operation (before it the cluster was still
// coming up: a master refuses writes until CLUSTER_WRITABLE_DELAY after
// boot), and of those the buckets where at least one answer was
// CLUSTERDOWN.
type ShardDowntime struct {
	Shard         string `json:"shard"`
	DowntimeMs    int64  `json:"downtime_ms"`
	ClusterDownMs int64  `json:"clusterdown_ms"`
}

// Downtime sums each shard's buckets without a successful operation.
func Downtime(av []ShardAvailability) []ShardDowntime {
	out := make([]ShardDowntime, 0, len(av))
	for _, s := range av {
		d := ShardDowntime{Shard: s.Shard}
		up := false
		for _, c := range s.Counts {
			total := c[0] + c[1] + c[2] + c[3] + c[4]
			up = up || c[0] > 0
			if up && total > 0 && c[0] == 0 {
				d.DowntimeMs += s.BucketMs
				if c[1] > 0 {
					d.ClusterDownMs += s.BucketMs
				}
			}
		}
		out = append(out, d)
	}
	return out
}
