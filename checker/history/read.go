package history

// Reading a history file: the operations with the line each came from, the
// notes that came with them (a Jepsen history's nemesis ops), and the limits
// that keep a hostile or mistaken input (/dev/zero, a binary file) from
// growing without bound.

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"time"
)

// Limits of the readers. A history over them is refused with a message
// naming the limit, never read in part.
const (
	// MaxInputBytes bounds a whole history file (1 GiB: about 5 million
	// rcsim operations).
	MaxInputBytes = 1 << 30
	// MaxLineBytes bounds one line (16 MiB: an lrange of about a million
	// short elements).
	MaxLineBytes = 16 << 20
)

// maxInput and maxLine are the limits in force (tests lower them).
var maxInput, maxLine int64 = MaxInputBytes, MaxLineBytes

// File is a history as read from a file.
type File struct {
	Ops []Op
	// Lines[i] is the line of the file Ops[i] came from (its return, for a
	// Jepsen history, where an op is two lines).
	Lines []int
	// Notes are events that are not client operations: a Jepsen history's
	// nemesis ops (partitions, kills), kept for the visualization.
	Notes []Note
}

// Note is one event of a history that is not a client operation.
type Note struct {
	At   time.Duration // when it happened, on the history's clock
	Line int
	Who  string // who did it ("nemesis")
	Text string // what it did, as the file says it
}

// Line returns the line op i came from, or 0 when the file has no lines
// (a history built in memory).
func (f File) Line(i int) int {
	if i < 0 || i >= len(f.Lines) {
		return 0
	}
	return f.Lines[i]
}

// lineReader yields the lines of a file with their numbers, within the
// limits. The first line loses a UTF-8 byte order mark, if it has one.
type lineReader struct {
	name  string
	br    *bufio.Reader
	line  int
	total int64
	buf   []byte
}

func newLineReader(name string, r io.Reader) *lineReader {
	return &lineReader{name: name, br: bufio.NewReaderSize(r, 64<<10)}
}

var bom = []byte{0xEF, 0xBB, 0xBF}

// next returns the next line without its newline; io.EOF at the end.
// Errors name the file and line.
func (lr *lineReader) next() ([]byte, error) {
	lr.buf = lr.buf[:0]
	lr.line++
	for {
		chunk, err := lr.br.ReadSlice('\n')
		lr.total += int64(len(chunk))
		if lr.total > maxInput {
			return nil, fmt.Errorf("%s:%d: input larger than the limit of %s", lr.name, lr.line, size(maxInput))
		}
		if int64(len(lr.buf)+len(chunk)) > maxLine {
			return nil, fmt.Errorf("%s:%d: line longer than the limit of %s (is this a history file?)", lr.name, lr.line, size(maxLine))
		}
		lr.buf = append(lr.buf, chunk...)
		switch {
		case err == nil:
		case errors.Is(err, bufio.ErrBufferFull):
			continue
		case err == io.EOF:
			if len(lr.buf) == 0 {
				return nil, io.EOF
			}
		default:
			return nil, fmt.Errorf("%s:%d: read: %v", lr.name, lr.line, err)
		}
		if lr.line == 1 {
			lr.buf = bytes.TrimPrefix(lr.buf, bom)
		}
		return lr.buf, nil
	}
}

// errNoOps is the error of a history without operations: it proves nothing,
// so it is bad input rather than a pass.
func errNoOps(name string) error {
	return fmt.Errorf("%s: no operations (an empty history proves nothing)", name)
}

// size prints a byte count in MiB when it is whole MiB, else in bytes.
func size(n int64) string {
	if n%(1<<20) == 0 {
		return fmt.Sprintf("%d MiB", n>>20)
	}
	return fmt.Sprintf("%d bytes", n)
}
