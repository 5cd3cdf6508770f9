// Slot bitmaps and slot ownership (clusterAddSlot, clusterDelSlot and the
// CLUSTER NODES range format).
package node

// NumSlots is CLUSTER_SLOTS.
const NumSlots = 16384

// SlotSet is a bitmap of the 16384 slots, as clusterMsg.myslots.
type SlotSet [NumSlots / 64]uint64
