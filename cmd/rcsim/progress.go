package main

// A one-line progress bar with an ETA for long sweeps, drawn on stderr only
// when stderr is a terminal.

import (
	"fmt"
	"io"
	"os"
	"strings"
	"time"
)

// progress draws "[=====>    ] 120/800  15%  41 runs/s  ETA 0:16" in place.
// A zero-value writer (not a terminal, or -q) draws nothing.
type progress struct {
	w     io.Writer // nil: silent
	start time.Time
	last  time.Time
	base  int // runs already done when the bar started (resumed)
	drawn bool
}

func newProgress(stderr io.Writer, quiet bool) *progress {
	p := &progress{start: time.Now(), base: -1}
	if f, ok := stderr.(*os.File); ok && !quiet && isTerminal(f) {
		p.w = stderr
	}
	return p
}

// isTerminal reports whether f is a character device (a terminal), the
// test the standard library leaves to x/term.
func isTerminal(f *os.File) bool {
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// update is sweep.Options.Progress: redraw at most ten times a second.
func (p *progress) update(done, total int) {
	if p.base < 0 {
		p.base = done
	}
	if p.w == nil || (time.Since(p.last) < 100*time.Millisecond && done < total) {
		return
	}
	p.last = time.Now()
	fmt.Fprint(p.w, "\r"+barLine(done, total, p.base, time.Since(p.start)))
	p.drawn = true
}

// finish ends the bar's line.
func (p *progress) finish() {
	if p.drawn {
		fmt.Fprintln(p.w)
	}
}

// barLine renders the bar; the rate and ETA count only runs done since the
// start (not resumed ones).
func barLine(done, total, base int, elapsed time.Duration) string {
	const width = 30
	frac := 1.0
	if total > 0 {
		frac = float64(done) / float64(total)
	}
	fill := int(frac * width)
	bar := strings.Repeat("=", fill)
	if fill < width {
		bar += ">" + strings.Repeat(" ", width-fill-1)
	}
	line := fmt.Sprintf("[%s] %d/%d %3.0f%%", bar, done, total, 100*frac)
	if ran := done - base; ran > 0 && elapsed > 0 {
		rate := float64(ran) / elapsed.Seconds()
		eta := time.Duration(float64(total-done) / rate * float64(time.Second)).Round(time.Second)
		line += fmt.Sprintf("  %.1f runs/s  ETA %s", rate, eta)
	}
	return line
}
