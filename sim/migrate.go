package sim

// MIGRATE between two nodes as a request and a reply the kernel carries
// (migrateCommand, restoreCommand): the source's input is held from its
// request until the answer is back, and both legs run as instant events, so
// the exchange takes no virtual time and nothing else runs in between, as
// Redis's blocking MIGRATE lets nothing else run on the source.

import "github.com/rcsim/rcsim/node"

// startMigrates blocks h in the MIGRATEs it just started and sends the
// first; the others follow one at a time, each after the previous answer.
func (w *world) startMigrates(h *host, reqs []node.MigrateRequest) {
	idle := len(h.migrates) == 0
	h.migrates = append(h.migrates, reqs...)
	if idle {
		w.sendMigrate(h)
	}
}

// sendMigrate hands h's first pending MIGRATE to its target. A target that
// is down, stopped or cut off from the source answers nothing: the kernel
// answers for it with a connection error and the source keeps its keys.
func (w *world) sendMigrate(src *host) {
	req := src.migrates[0]
	if i, ok := w.byAddr[req.Target]; ok && w.hosts[i].up && !w.hosts[i].paused &&
		w.net.Reachable(src.idx, i) && w.net.Reachable(i, src.idx) {
		w.instant = append(w.instant, event{kind: evRestore, dst: i, mig: &node.MigrateReply{Req: req}})
		return
	}
	w.migrateReply(node.MigrateReply{Req: req, ConnErr: node.ErrMigrateConnect})
}

// restoreAsking runs a MIGRATE's RESTORE-ASKING on its target.
func (w *world) restoreAsking(ev *event) {
	dst := w.hosts[ev.dst]
	w.out.Reset()
	dst.n.RestoreAsking(w.mstime(dst), ev.mig.Req, &w.out)
	w.apply(dst)
}

// migrateReply carries a MIGRATE's answer back to its source.
func (w *world) migrateReply(rep node.MigrateReply) {
	src := w.byID[rep.Req.From]
	w.instant = append(w.instant, event{kind: evMigrated, dst: src.idx, mig: &rep})
}

// migrated finishes a MIGRATE on its source, then sends the next one or,
// after the last, lets the input that waited reach the node.
func (w *world) migrated(ev *event) {
	src := w.hosts[ev.dst]
	src.migrates = src.migrates[1:]
	w.out.Reset()
	src.n.MigrateDone(w.mstime(src), *ev.mig, &w.out)
	w.apply(src)
	if len(src.migrates) > 0 {
		w.sendMigrate(src)
		return
	}
	if !src.paused {
		w.release(src)
	}
}
