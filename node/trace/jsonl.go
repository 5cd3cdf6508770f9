package trace

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"strconv"
	"time"
)

// Writer writes events as JSON lines and hashes every byte it writes, so a
// run's trace_sha256 is known without reading the file back. Keys are written
// in a fixed order with integer microsecond times: the bytes depend on the
// events alone.
type Writer struct {
	w     io.Writer // may be nil: hash only
	h     hash.Hash
	buf   []byte
	n     int
	every int // print a running hash after every `every` events (0: never)
	hashW io.Writer
}

// NewWriter returns a Writer to w. A nil w only hashes, which is what sweeps
// and property tests want.
func NewWriter(w io.Writer) *Writer {
	return &Writer{w: w, h: sha256.New(), buf: make([]byte, 0, 256)}
}

// HashEvery makes the writer print "N <running sha256>" to out after every
// k-th event, to find the first event where two runs diverge.
func (w *Writer) HashEvery(k int, out io.Writer) { w.every, w.hashW = k, out }

// Write appends e. Its error is the underlying writer's.
func (w *Writer) Write(e Event) error {
	w.buf = AppendJSON(w.buf[:0], e)
	w.buf = append(w.buf, '\n')
	w.h.Write(w.buf)
	w.n++
	if w.every > 0 && w.n%w.every == 0 {
		fmt.Fprintf(w.hashW, "%d %s\n", w.n, hex.EncodeToString(w.h.Sum(nil)))
	}
	if w.w != nil {
		_, err := w.w.Write(w.buf)
		return err
	}
	return nil
}

// Count is the number of events written.
func (w *Writer) Count() int { return w.n }

// Sum is the hex SHA-256 of everything written so far.
func (w *Writer) Sum() string { return hex.EncodeToString(w.h.Sum(nil)) }

// AppendJSON appends e's JSON object (no newline) to b:
// {"t_us":…,"node":…,"kind":…,"peer":…,"epoch":…,"value":…}, omitting empty
// fields other than t_us and kind.
func AppendJSON(b []byte, e Event) []byte {
	b = append(b, `{"t_us":`...)
	b = strconv.AppendInt(b, e.At.Microseconds(), 10)
	if e.Node != "" {
		b = append(b, `,"node":`...)
		b = strconv.AppendQuote(b, e.Node)
	}
	b = append(b, `,"kind":`...)
	b = strconv.AppendQuote(b, string(e.Kind))
	if e.Peer != "" {
		b = append(b, `,"peer":`...)
		b = strconv.AppendQuote(b, e.Peer)
	}
	if e.Epoch != 0 {
		b = append(b, `,"epoch":`...)
		b = strconv.AppendUint(b, e.Epoch, 10)
	}
	if e.Value != "" {
		b = append(b, `,"value":`...)
		b = strconv.AppendQuote(b, e.Value)
	}
	return append(b, '}')
}

type jsonEvent struct {
	TUs   *int64 `json:"t_us"`
	Node  string `json:"node"`
	Kind  Kind   `json:"kind"`
	Peer  string `json:"peer"`
	Epoch uint64 `json:"epoch"`
	Value string `json:"value"`
}

// Read parses a trace.jsonl stream strictly: an unknown field, an unknown kind
// or a missing time is an error naming the line (name is the file, for the
// message).
func Read(name string, r io.Reader) ([]Event, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 16*1024*1024)
	var out []Event
	line := 1
	for ; sc.Scan(); line++ {
		raw := sc.Bytes()
		if len(raw) == 0 {
			continue
		}
		var je jsonEvent
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&je); err != nil {
			return nil, fmt.Errorf("%s:%d: %v", name, line, err)
		}
		if je.TUs == nil {
			return nil, fmt.Errorf("%s:%d: t_us: missing", name, line)
		}
		if !je.Kind.Valid() {
			return nil, fmt.Errorf("%s:%d: kind: unknown kind %q", name, line, je.Kind)
		}
		e := Event{At: time.Duration(*je.TUs) * time.Microsecond, Node: je.Node,
			Kind: je.Kind, Peer: je.Peer, Epoch: je.Epoch, Value: je.Value}
		Decode(&e)
		out = append(out, e)
	}
	if err := sc.Err(); errors.Is(err, bufio.ErrTooLong) {
		return nil, fmt.Errorf("%s:%d: line longer than 16 MiB: not a trace", name, line)
	} else if err != nil {
		return nil, fmt.Errorf("%s:%d: %v", name, line, err)
	}
	return out, nil
}
