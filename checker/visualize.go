package checker

// The Porcupine page: Porcupine's own visualization of the history, with
// the failing keys first, a virtual-time row, the faults, failovers and
// admin steps of the trace (or a Jepsen history's nemesis ops) as
// annotations, and a header naming every key that is not ok, with its
// size bounded: ok keys are drawn up to MaxDrawnOps, failing keys up to
// MaxDrawnFailingOps (a failing key beyond that is listed with the exact
// operations the check found, not drawn).

import (
	"bytes"
	"fmt"
	"html"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/anishathalye/porcupine"

	"github.com/rcsim/rcsim/checker/history"
	"github.com/rcsim/rcsim/node/trace"
)

// MaxDrawnOps bounds the ops of ok keys drawn on the page (failing keys are
// always drawn in full): Porcupine's page grows with every op drawn, about
// 400 bytes each.
const MaxDrawnOps = 2000

// MaxDrawnFailingOps bounds the ops of failing (illegal or unknown) keys
// drawn: a hot key of a multi-million-op history would otherwise make a
// page of hundreds of MB that no browser opens. A failing key that does
// not fit is named in the header with its ops involved (KeyVerdict.Ops).
const MaxDrawnFailingOps = 20000

// Visual is what Visualize draws.
type Visual struct {
	Model  string
	Ops    []history.Op
	Keys   []KeyVerdict   // the keys the check found not ok (Linearizability.Keys)
	Trace  []trace.Event  // faults, failovers and admin steps become annotations
	Notes  []history.Note // a Jepsen history's nemesis ops, likewise
	Budget time.Duration  // Porcupine's search for the drawn keys (0: DefaultBudget)
	Title  string         // the history's name, for the page title
}

// Visualize writes the page for v to w. The HTML is for people: it is not
// byte-stable (Porcupine's search is timed), so keep it out of golden files.
func Visualize(v Visual, w io.Writer) error {
	m, err := porcupineModel(v.Model)
	if err != nil {
		return err
	}
	parts, err := prepare(v.Model, v.Ops)
	if err != nil {
		return err
	}
	drawn, skipped, tooLarge := chooseKeys(parts, v.Keys)
	index := map[string]int{}
	var all []porcupine.Operation
	for i, p := range drawn {
		index[p.key] = i
		all = append(all, p.ops...)
	}
	m.Partition = func(h []porcupine.Operation) [][]porcupine.Operation {
		out := make([][]porcupine.Operation, len(drawn))
		for _, o := range h {
			k := index[o.Metadata.(*history.Op).Key]
			out[k] = append(out[k], o)
		}
		return out
	}
	budget := v.Budget
	if budget <= 0 {
		budget = DefaultBudget
	}
	_, info := porcupine.CheckOperationsVerbose(m, all, budget)
	info.AddAnnotations(annotations(v, all))
	var b bytes.Buffer
	if err := porcupine.Visualize(m, info, &b); err != nil {
		return err
	}
	page := b.String()
	page = strings.Replace(page, "<title>Porcupine</title>", "<title>"+html.EscapeString(v.Title)+": linearizability</title>", 1)
	page = strings.Replace(page, "<body>", "<body>\n"+header(v, drawn, skipped, tooLarge), 1)
	_, err = io.WriteString(w, page)
	return err
}

// chooseKeys puts the illegal keys first, then the unknown ones, while
// their ops fit MaxDrawnFailingOps, then the ok keys while theirs fit
// MaxDrawnOps; it returns the keys drawn, the ok keys left out and the
// failing keys left out (with their op counts). Keys over
// MaxConcurrentPerKey are never drawn (Porcupine cannot search them); the
// header lists them.
func chooseKeys(parts []prepared, keys []KeyVerdict) (drawn []prepared, skipped []string, tooLarge map[string]int) {
	verdict := map[string]Verdict{}
	for _, k := range keys {
		verdict[k.Key] = k.Verdict
	}
	rank := func(p prepared) int {
		switch verdict[p.key] {
		case VerdictIllegal:
			return 0
		case VerdictUnknown:
			return 1
		}
		return 2
	}
	slices.SortStableFunc(parts, func(a, b prepared) int { return rank(a) - rank(b) })
	okOps, failOps := 0, 0
	for _, p := range parts {
		if maxConcurrent(p.ops) > MaxConcurrentPerKey {
			continue
		}
		if rank(p) == 2 {
			if okOps+len(p.ops) > MaxDrawnOps {
				skipped = append(skipped, p.key)
				continue
			}
			okOps += len(p.ops)
		} else {
			if failOps+len(p.ops) > MaxDrawnFailingOps {
				if tooLarge == nil {
					tooLarge = map[string]int{}
				}
				tooLarge[p.key] = len(p.ops)
				continue
			}
			failOps += len(p.ops)
		}
		drawn = append(drawn, p)
	}
	return drawn, skipped, tooLarge
}

// header is the page's first lines: the verdict per key, what is not drawn
// and how to read the rows.
func header(v Visual, drawn []prepared, skipped []string, tooLarge map[string]int) string {
	var b strings.Builder
	esc := html.EscapeString
	fmt.Fprintf(&b, `<div style="font-family:sans-serif;margin:40px 0 16px">`+"\n<h2>%s: %s model, %d ops</h2>\n", esc(v.Title), esc(v.Model), len(v.Ops))
	if len(v.Keys) == 0 {
		b.WriteString("<p>Every key is linearizable.</p>\n")
	} else {
		b.WriteString("<p>Keys not ok (drawn first, in this order):</p>\n<ul>\n")
		for _, k := range v.Keys {
			fmt.Fprintf(&b, "<li><b>%s</b>: %s", esc(k.Key), k.Verdict)
			if k.Reason != "" {
				fmt.Fprintf(&b, " (%s)", esc(k.Reason))
			}
			if n, ok := tooLarge[k.Key]; ok {
				fmt.Fprintf(&b, "; not drawn: its %d ops are over the page's %d for failing keys", n, MaxDrawnFailingOps)
				if len(k.Ops) > 0 {
					b.WriteString("; the ops involved, as history.jsonl has them:\n<pre>")
					var line []byte
					for _, op := range k.Ops {
						line = append(history.AppendJSON(line[:0], op), '\n')
						b.WriteString(esc(string(line)))
					}
					b.WriteString("</pre>")
				}
			}
			b.WriteString("</li>\n")
		}
		b.WriteString("</ul>\n")
	}
	names := make([]string, len(drawn))
	for i, p := range drawn {
		names[i] = p.key
	}
	fmt.Fprintf(&b, "<p>Keys drawn: %s.</p>\n", esc(list(names)))
	if len(skipped) > 0 {
		fmt.Fprintf(&b, "<p>%d ok keys are not drawn, to keep the page small (at most %d ops of ok keys): %s.</p>\n",
			len(skipped), MaxDrawnOps, esc(list(skipped)))
	}
	b.WriteString("<p>Each op's box reads <i>key: op value -&gt; result</i>; hover for the op as history.jsonl has it. " +
		"Porcupine spaces events evenly, not by time: the <i>virtual time</i> row marks the clock. " +
		"The rows below the clients are the cluster's faults, failovers and admin steps.</p>\n</div>\n")
	return b.String()
}

// list joins up to 50 names, then says how many more.
func list(names []string) string {
	if len(names) == 0 {
		return "none"
	}
	if len(names) > 50 {
		return strings.Join(names[:50], ", ") + fmt.Sprintf(" and %d more", len(names)-50)
	}
	return strings.Join(names, ", ")
}

// Annotation rows.
const (
	tagTime     = "virtual time"
	tagFaults   = "faults"
	tagFailover = "failovers"
	tagAdmin    = "admin"
	tagNemesis  = "nemesis"
)

// annotations are the time ticks over the drawn ops, and every fault,
// failover and admin step of the trace, and every note.
func annotations(v Visual, ops []porcupine.Operation) []porcupine.Annotation {
	var out []porcupine.Annotation
	if len(ops) > 0 {
		lo, hi := ops[0].Call, ops[0].Return
		for _, o := range ops {
			lo, hi = min(lo, o.Call), max(hi, o.Return, o.Call)
		}
		step := tickStep(hi - lo)
		for t := (lo + step - 1) / step * step; t <= hi; t += step {
			out = append(out, porcupine.Annotation{Tag: tagTime, Start: t, Description: msString(time.Duration(t))})
		}
	}
	var partitionAt int64 = -1
	var partitionText string
	for _, e := range v.Trace {
		at := int64(e.At)
		who := e.Node
		switch e.Kind {
		case trace.Crash, trace.Restart, trace.Fault:
			out = append(out, porcupine.Annotation{Tag: tagFaults, Start: at, Description: strings.TrimSpace(string(e.Kind) + " " + who),
				Details: trace.Describe(e), BackgroundColor: "#f8d0d0"})
		case trace.Partition:
			if partitionAt >= 0 {
				out = append(out, partition(partitionAt, at, partitionText))
			}
			partitionAt, partitionText = at, e.Value
		case trace.Heal:
			if partitionAt >= 0 {
				out = append(out, partition(partitionAt, at, partitionText))
				partitionAt = -1
			}
			out = append(out, porcupine.Annotation{Tag: tagFaults, Start: at, Description: "heal", Details: trace.Describe(e), BackgroundColor: "#d0f0d0"})
		case trace.Promoted:
			out = append(out, porcupine.Annotation{Tag: tagFailover, Start: at, Description: fmt.Sprintf("%s promoted over %s", who, e.Peer),
				Details: trace.Describe(e), BackgroundColor: "#d0d8f8"})
		case trace.Admin:
			out = append(out, porcupine.Annotation{Tag: tagAdmin, Start: at, Description: e.Value, Details: trace.Describe(e), BackgroundColor: "#f0e8c0"})
		}
	}
	if partitionAt >= 0 {
		end := partitionAt
		for _, o := range ops {
			end = max(end, o.Return)
		}
		out = append(out, partition(partitionAt, end, partitionText))
	}
	for _, n := range v.Notes {
		out = append(out, porcupine.Annotation{Tag: tagNemesis, Start: int64(n.At), Description: n.Text,
			Details: fmt.Sprintf("%s at %s (line %d): %s", n.Who, msString(n.At), n.Line, n.Text), BackgroundColor: "#f8d0d0"})
	}
	return out
}

func partition(from, to int64, groups string) porcupine.Annotation {
	return porcupine.Annotation{Tag: tagFaults, Start: from, End: to, Description: "partition " + groups,
		Details:         fmt.Sprintf("partition %s from %s to %s", groups, msString(time.Duration(from)), msString(time.Duration(to))),
		BackgroundColor: "#f8d0d0"}
}

// tickStep is 1, 2 or 5 times a power of ten microseconds (the labels'
// precision), giving about 20 ticks over span.
func tickStep(span int64) int64 {
	step := int64(time.Microsecond)
	for {
		for _, f := range []int64{1, 2, 5} {
			if span/(step*f) <= 20 {
				return step * f
			}
		}
		step *= 10
	}
}
