// Per-link overrides: one link, or every link between two sets of endpoints,
// with its own latency, loss or bandwidth (a slow replica, a lossy rack).

package netmodel

import (
	"errors"
	"fmt"
	"math"
)

// LinkOverride changes some of a link's settings; a zero field keeps the
// Net's default for that setting.
type LinkOverride struct {
	Latency Dist  // used if Kind is set
	Loss    Ratio // used if Den > 0: {0, 1} makes a link lossless
	// Bandwidth in bytes per second is used if not 0; negative makes the link
	// unlimited.
	Bandwidth int64
}

// compile resolves o against the defaults d into the profile a link uses.
func (o LinkOverride) compile(d profile) (profile, error) {
	p := d
	if o.Latency.Kind != "" {
		lat, err := compile(o.Latency)
		if err != nil {
			return profile{}, err
		}
		p.lat = lat
	}
	if o.Loss.Den > 0 {
		if err := o.Loss.Validate(); err != nil {
			return profile{}, err
		}
		p.loss = o.Loss
	} else if o.Loss.Num > 0 {
		return profile{}, errors.New("netmodel: link loss has a numerator but no denominator")
	}
	switch {
	case o.Bandwidth < 0:
		p.bandwidth = 0
	case o.Bandwidth > 0:
		p.bandwidth = o.Bandwidth
	}
	return p, nil
}

// SetLink makes from->to use o over the Net's defaults, replacing any earlier
// override of that link. Messages already sent keep their Due, and FIFO holds
// across the change. An invalid o is an error and changes nothing.
func (n *Net) SetLink(from, to int, o LinkOverride) error {
	return n.SetLinks([]int{from}, []int{to}, o)
}

// SetLinks is SetLink for every directed link from an endpoint of from to a
// different endpoint of to. Call it twice, swapped, for both directions.
func (n *Net) SetLinks(from, to []int, o LinkOverride) error {
	for _, e := range append(from[:len(from):len(from)], to...) {
		n.check(e)
	}
	p, err := o.compile(n.profs[0])
	if err != nil {
		return err
	}
	if len(n.profs) > math.MaxUint32 {
		return errors.New("netmodel: more than 2³² link overrides")
	}
	i := uint32(len(n.profs))
	n.profs = append(n.profs, p)
	n.eachLink(from, to, func(l *link) { l.prof = i })
	return nil
}

// ClearLink returns from->to to the Net's defaults.
func (n *Net) ClearLink(from, to int) {
	n.ClearLinks([]int{from}, []int{to})
}

// ClearLinks is ClearLink for every directed link from an endpoint of from
// to a different endpoint of to.
func (n *Net) ClearLinks(from, to []int) {
	n.eachLink(from, to, func(l *link) { l.prof = 0 })
}

func (n *Net) eachLink(from, to []int, f func(*link)) {
	for _, a := range from {
		for _, b := range to {
			if a != b {
				f(&n.links[n.index(a, b)])
			}
		}
	}
}

// SetFaultLoss makes from->to lose each transmission with ratio r, in place
// of the loss its profile (default or override) sets, until ClearFaultLoss.
// It is the layer a scenario's timed loss fault uses, so that ending the fault
// gives the link back its configured loss. An invalid r panics: the kernel
// passes only ratios the scenario loader validated.
func (n *Net) SetFaultLoss(from, to int, r Ratio) {
	if err := r.Validate(); err != nil || r.Den == 0 {
		panic(fmt.Sprintf("netmodel: invariant: fault loss %d/%d is not a probability", r.Num, r.Den))
	}
	n.links[n.index(from, to)].fault = r
}

// ClearFaultLoss removes the fault loss of from->to: the link draws its
// losses from its profile again.
func (n *Net) ClearFaultLoss(from, to int) {
	n.links[n.index(from, to)].fault = Ratio{}
}
