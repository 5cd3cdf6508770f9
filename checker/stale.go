package checker

// Stale reads: a read that saw an older state than a write that had already
// completed, where a later read shows that write survived. The write was not
// lost; the read came from a node that did not have it yet (in Redis Cluster,
// typically an old master still answering in a minority, or a replica).

import (
	"time"

	"github.com/rcsim/rcsim/checker/history"
)

// StaleRead is one stale read: Read missed Missed, which returned before
// Read was invoked; Later, invoked after Read returned, saw Missed's
// effect. See Anomalies for the exact rules.
type StaleRead struct {
	Read   history.Op `json:"read"`
	Missed history.Op `json:"missed"`
	Later  history.Op `json:"later"`
}

// StaleReads lists the stale reads of ops, by read invoke order (see
// Anomalies).
func StaleReads(model string, ops []history.Op) []StaleRead {
	return Analyze(model, ops, time.Time{}).Stale
}
