package sim

// Dumps: every node's state as text at the times --dump-at asks, and the
// slots left open when the run ends.

import (
	"fmt"
	"strings"

	"github.com/rcsim/rcsim/node"
	"github.com/rcsim/rcsim/node/trace"
)

// dump hands every live node's state to Options.Dump: the kernel's summary
// line with names, then what the node itself shows (nodes.conf, CLUSTER
// NODES, CLUSTER INFO, CLUSTER SHARDS in Redis's formats).
func (w *world) dump() {
	if w.opt.Dump == nil {
		return
	}
	for _, h := range w.hosts {
		if !h.up {
			text := "(down)\n"
			if h.hasDisk {
				text += "# nodes.conf\n" + h.disk.Text()
			}
			w.opt.Dump(w.now, h.name, text)
			continue
		}
		w.opt.Dump(w.now, h.name, describeView(h.n.View(), w.nameOf)+
			"# nodes.conf\n"+h.disk.Text()+h.n.Describe())
	}
}

// describeView renders a node's view as text for --dump-at, with names.
func describeView(v node.View, name func(node.ID) string) string {
	var b strings.Builder
	role := "master"
	if v.Master != "" {
		role = "replica of " + name(v.Master)
	}
	state := "fail"
	if v.StateOK {
		state = "ok"
	}
	fmt.Fprintf(&b, "%s %s %s current_epoch=%d config_epoch=%d offset=%d slots=%s\n",
		name(v.ID), v.ID, role, v.CurrentEpoch, v.ConfigEpoch, v.Offset, trace.FormatRanges(v.Slots, ","))
	fmt.Fprintf(&b, "cluster_state:%s\n", state)
	for _, p := range v.Peers {
		fmt.Fprintf(&b, "  %s %s flags=%s master=%s config_epoch=%d link=%v slots=%s\n",
			name(p.ID), p.ID, flagNames(p.Flags), name(p.Master), p.ConfigEpoch, p.LinkUp, trace.FormatRanges(p.Slots, ","))
	}
	return b.String()
}

func flagNames(f node.Flags) string {
	names := []string{"master", "slave", "fail?", "fail", "myself", "handshake", "noaddr", "meet", "migrate_to", "nofailover"}
	var out []string
	for i, n := range names {
		if f&(1<<i) != 0 {
			out = append(out, n)
		}
	}
	if len(out) == 0 {
		return "noflags"
	}
	return strings.Join(out, ",")
}

// reportOpenSlots records, when the run ends, every slot a live node still
// has MIGRATING or IMPORTING: what an interrupted reshard leaves behind and
// `redis-cli --cluster fix` would have to close.
func (w *world) reportOpenSlots() {
	for _, h := range w.hosts {
		if !h.up {
			continue
		}
		for _, o := range h.n.OpenSlots() {
			v := fmt.Sprintf("%d migrating to %s", o.Slot, w.nameOf(o.Migrating))
			if o.Migrating == "" {
				v = fmt.Sprintf("%d importing from %s", o.Slot, w.nameOf(o.Importing))
			}
			w.emit(trace.Event{Kind: trace.OpenSlot, Node: h.name, Value: v})
			w.openSlots = append(w.openSlots, h.name+": "+v)
		}
	}
}
