package main

// Progress of a long sweep on stderr: on a terminal, one line redrawn in
// place with a bar and an ETA; elsewhere (CI logs, a file), one plain line
// every logEvery, so a log shows the sweep moving without carriage returns.

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"
)

// logEvery is how often progress prints a line when stderr is not a
// terminal.
const logEvery = 10 * time.Second

// rateWindow is how far back the rate behind the ETA looks: long enough to
// smooth the bursts of parallel jobs finishing together, short enough to
// follow runs that get slower as a sweep moves to longer timeouts.
const rateWindow = 30 * time.Second

// progress reports a sweep's runs. The zero writer (-q) prints nothing.
type progress struct {
	mu    sync.Mutex
	w     io.Writer // nil: silent
	tty   bool      // redraw one line in place
	now   func() time.Time
	start time.Time
	last  time.Time // last draw or log line
	done  int       // runs written so far (resumed ones included)
	total int
	// samples are (time, done) after each run, the last rateWindow of
	// them, from the first run this invocation finished (the time before
	// it is spent starting every job at once and would bias the rate low).
	samples []sample
	drawn   bool // the terminal line holds a bar to finish
}

type sample struct {
	at   time.Time
	done int
}

func newProgress(stderr io.Writer, quiet bool) *progress {
	p := &progress{now: time.Now}
	p.start = p.now()
	if !quiet {
		p.w = stderr
		if f, ok := stderr.(*os.File); ok {
			p.tty = isTerminal(f)
		}
	}
	if !p.tty {
		p.last = p.start // the first log line comes after logEvery
	}
	return p
}

// isTerminal reports whether f is a character device (a terminal), the
// test the standard library leaves to x/term.
func isTerminal(f *os.File) bool {
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// update is sweep.Options.Progress. The first call (before any run) gives
// the runs resumed from an earlier invocation.
func (p *progress) update(done, total int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := p.now()
	first := p.total == 0 && p.samples == nil
	p.done, p.total = done, total
	if !first {
		p.samples = append(p.samples, sample{now, done})
		for len(p.samples) > 2 && now.Sub(p.samples[1].at) > rateWindow {
			p.samples = p.samples[1:]
		}
	}
	if p.w == nil {
		return
	}
	switch {
	case p.tty && (now.Sub(p.last) >= 100*time.Millisecond || done == total):
		// \r back to the start, \x1b[K erases what a longer line left.
		fmt.Fprint(p.w, "\r"+p.line(now, true)+"\x1b[K")
		p.drawn, p.last = true, now
	case !p.tty && (now.Sub(p.last) >= logEvery && !first || done == total && !first):
		fmt.Fprintln(p.w, "sweep: "+p.line(now, false))
		p.last = now
	}
}

// finish ends the bar's line; after it the terminal is at a fresh line.
func (p *progress) finish() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.drawn {
		fmt.Fprintln(p.w)
		p.drawn = false
	}
}

// counts returns the runs done and in all, for an interrupted sweep's
// message.
func (p *progress) counts() (done, total int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.done, p.total
}

// rate is runs per second over the window, 0 until two runs finished.
func (p *progress) rate() float64 {
	if len(p.samples) < 2 {
		return 0
	}
	a, b := p.samples[0], p.samples[len(p.samples)-1]
	if dt := b.at.Sub(a.at).Seconds(); dt > 0 {
		return float64(b.done-a.done) / dt
	}
	return 0
}

// line renders "[=====>    ] 120/800  15%  41.0 runs/s  elapsed 0:03  ETA 0:16",
// without the bar when bar is false.
func (p *progress) line(now time.Time, bar bool) string {
	frac := 1.0
	if p.total > 0 {
		frac = float64(p.done) / float64(p.total)
	}
	var b strings.Builder
	if bar {
		const width = 30
		fill := int(frac * width)
		b.WriteString("[" + strings.Repeat("=", fill))
		if fill < width {
			b.WriteString(">" + strings.Repeat(" ", width-fill-1))
		}
		b.WriteString("] ")
	}
	fmt.Fprintf(&b, "%d/%d runs %3.0f%%  elapsed %s", p.done, p.total, 100*frac, clock(now.Sub(p.start)))
	if r := p.rate(); r > 0 {
		fmt.Fprintf(&b, "  %.1f runs/s", r)
		if p.done < p.total {
			fmt.Fprintf(&b, "  ETA %s", clock(time.Duration(float64(p.total-p.done)/r*float64(time.Second))))
		}
	}
	return b.String()
}

// clock prints a wall-clock span as m:ss, or h:mm:ss from an hour: the
// form a progress line's elapsed time and ETA take (virtual times are
// trace.FormatTime's seconds).
func clock(d time.Duration) string {
	s := int64(d.Round(time.Second) / time.Second)
	if s >= 3600 {
		return fmt.Sprintf("%d:%02d:%02d", s/3600, s/60%60, s%60)
	}
	return fmt.Sprintf("%d:%02d", s/60, s%60)
}
