// Epoch rules: configEpoch collisions, bumps without consensus and UPDATE
// messages (clusterHandleConfigEpochCollision,
// clusterBumpConfigEpochWithoutConsensus, clusterSendUpdate and the UPDATE
// branch of clusterProcessPacket).

package node

import "github.com/rcsim/rcsim/node/trace"

// handleConfigEpochCollision is clusterHandleConfigEpochCollision: of two
// masters with the same configEpoch, the one with the smaller ID moves.
func (n *Node) handleConfigEpochCollision(sender *peer) {
	me := n.myself
	if sender.configEpoch != me.configEpoch || !sender.is(FlagMaster) || !me.is(FlagMaster) {
		return
	}
	if sender.id <= me.id {
		return
	}
	n.setCurrentEpoch(n.currentEpoch+1, "collision")
	me.configEpoch = n.currentEpoch
	n.emit(trace.ConfigEpoch, nil, me.configEpoch, "collision")
	n.doBeforeSleep(todoSaveConfig)
}

// maxEpoch is clusterGetMaxEpoch: the largest configEpoch known, or
// currentEpoch if larger.
func (n *Node) maxEpoch() uint64 {
	m := n.currentEpoch
	for _, p := range n.nodes {
		m = max(m, p.configEpoch)
	}
	return m
}

// bumpConfigEpochWithoutConsensus is clusterBumpConfigEpochWithoutConsensus.
func (n *Node) bumpConfigEpochWithoutConsensus(why string) bool {
	me := n.myself
	if me.configEpoch != 0 && me.configEpoch == n.maxEpoch() {
		return false
	}
	n.setCurrentEpoch(n.currentEpoch+1, why)
	me.configEpoch = n.currentEpoch
	n.emit(trace.ConfigEpoch, nil, me.configEpoch, why)
	n.doBeforeSleep(todoSaveConfig)
	return true
}

// sendUpdate is clusterSendUpdate: tell to that owner holds its slots with
// owner's configEpoch. Dropped without a link.
func (n *Node) sendUpdate(to, owner *peer) {
	if to.link == nil {
		return
	}
	m := &Message{Type: MsgUpdate, Header: n.header(MsgUpdate),
		Update: &Update{ConfigEpoch: owner.configEpoch, Node: owner.id, Slots: owner.slotSnap()}}
	if n.sendTo(to, m) {
		n.emit(trace.UpdateSent, to, owner.configEpoch, string(owner.id))
	}
}

// processUpdate is the UPDATE branch of clusterProcessPacket.
func (n *Node) processUpdate(u *Update) {
	if u == nil || u.Slots == nil {
		return
	}
	p := n.byID[u.Node]
	if p == nil || p == n.myself || p.configEpoch >= u.ConfigEpoch {
		return
	}
	if p.is(FlagSlave) {
		n.setNodeAsMaster(p)
	}
	p.configEpoch = u.ConfigEpoch
	n.updateSlotsConfigWith(p, u.ConfigEpoch, u.Slots)
	n.doBeforeSleep(todoSaveConfig)
}
