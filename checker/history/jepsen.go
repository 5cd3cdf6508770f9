package history

// Jepsen's history files (history.edn): one op map per line, or one vector
// of them, read into rcsim operations. See ReadJepsen for what is taken.

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"
)

// JepsenKey is the key of a register history without jepsen.independent
// tuples: Jepsen's single register.
const JepsenKey = "register"

// ReadJepsen reads a Jepsen history (history.edn) strictly. Each op is a
// map with :type (:invoke, :ok, :fail or :info), :process, :f and :value,
// and :time in nanoseconds (in every op or in none; without it the ops are
// spaced 1 µs apart in file order); other keys (:index, :error, :node, …)
// are allowed, and :error becomes the op's err. An :invoke is paired with
// the next completion of the same process, which must have the same :f.
//
//   - :f :write / :read (register): :value v, or [k v] with
//     jepsen.independent, becomes set / get of key k (JepsenKey without a
//     tuple); a read's nil is a missing key.
//   - :f :txn (list-append) with exactly one micro-op: [[:append k v]]
//     becomes rpush k v (its new length is not recorded, so it is not
//     checked); [[:r k list]] becomes lrange k, nil reading as [].
//     Transactions of several micro-ops are refused: they are not single
//     Redis commands.
//   - :ok is status ok, :fail is fail, :info and an invoke never completed
//     are unknown.
//   - An op whose :process is not an integer (:nemesis) is a Note, kept
//     for the visualization; its :value is printed as EDN.
//
// Values (keys, written values, list elements) must be integers or
// strings. Errors read "name:line: field: why" (field is the EDN key, e.g.
// :value).
func ReadJepsen(name string, r io.Reader) (File, error) {
	var buf bytes.Buffer
	lr := newLineReader(name, r)
	for {
		line, err := lr.next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return File{}, err
		}
		buf.Write(line)
		if len(line) == 0 || line[len(line)-1] != '\n' {
			buf.WriteByte('\n')
		}
	}
	ops, err := jepsenOps(buf.Bytes())
	if err != nil {
		var e *ednError
		if errors.As(err, &e) {
			return File{}, fmt.Errorf("%s:%d: %s", name, e.line, e.why)
		}
		return File{}, fmt.Errorf("%s: %v", name, err)
	}
	f, err := pairJepsen(ops)
	if err != nil {
		var e *ednError
		if errors.As(err, &e) {
			return File{}, fmt.Errorf("%s:%d: %s", name, e.line, e.why)
		}
		return File{}, err
	}
	if len(f.Ops) == 0 {
		return File{}, errNoOps(name)
	}
	return f, nil
}

// jepsenOps parses the file into its op maps: the top-level maps, or the
// items of one top-level vector or list.
func jepsenOps(b []byte) ([]edn, error) {
	p := &ednParser{b: bytes.TrimPrefix(b, bom), line: 1}
	var out []edn
	for {
		v, err := p.value(0)
		if err == errEOF {
			break
		}
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	if len(out) == 1 && (out[0].kind == ednVector || out[0].kind == ednList) {
		out = out[0].items
	}
	return out, nil
}

// jepsenEvent is one op map's fields.
type jepsenEvent struct {
	line    int
	typ     string
	process edn
	f       string
	value   edn
	time    int64
	hasTime bool
	err     string
}

func fieldError(line int, field, format string, args ...any) error {
	return &ednError{line, field + ": " + fmt.Sprintf(format, args...)}
}

func parseEvent(v edn) (jepsenEvent, error) {
	if v.kind == ednTagged && len(v.items) == 1 && v.items[0].kind == ednMap {
		v = v.items[0] // #jepsen.history.Op{…}
	}
	if v.kind != ednMap {
		return jepsenEvent{}, &ednError{v.line, "want an op map {:type … :process … :f …}, got " + v.String()}
	}
	e := jepsenEvent{line: v.line}
	seen := map[string]bool{}
	for i := 0; i < len(v.items); i += 2 {
		k, val := v.items[i], v.items[i+1]
		if k.kind != ednKeyword {
			return e, &ednError{k.line, "an op's keys are keywords, got " + k.String()}
		}
		if seen[k.text] {
			return e, fieldError(k.line, ":"+k.text, "repeated key")
		}
		seen[k.text] = true
		switch k.text {
		case "type":
			if val.kind != ednKeyword {
				return e, fieldError(val.line, ":type", "want :invoke, :ok, :fail or :info, got %s", val)
			}
			e.typ = val.text
		case "process":
			e.process = val
		case "f":
			if val.kind != ednKeyword {
				return e, fieldError(val.line, ":f", "want a keyword, got %s", val)
			}
			e.f = val.text
		case "value":
			e.value = val
		case "time":
			if val.kind != ednInt || val.n < 0 || val.n > math.MaxInt64/2 {
				return e, fieldError(val.line, ":time", "want nanoseconds, an integer >= 0, got %s", val)
			}
			e.time, e.hasTime = val.n, true
		case "error":
			e.err = val.String()
		}
	}
	for _, req := range []string{"type", "process", "f"} {
		if !seen[req] {
			return e, fieldError(v.line, ":"+req, "missing")
		}
	}
	switch e.typ {
	case "invoke", "ok", "fail", "info":
	default:
		return e, fieldError(v.line, ":type", "unknown type :%s (want :invoke, :ok, :fail or :info)", e.typ)
	}
	return e, nil
}

// pairJepsen pairs each invoke with its process's completion.
func pairJepsen(maps []edn) (File, error) {
	var f File
	open := map[int64]int{} // process -> index in f.Ops of its open invoke
	timed := -1             // 1 when the first op had :time, 0 when not
	for i, m := range maps {
		e, err := parseEvent(m)
		if err != nil {
			return File{}, err
		}
		if t := map[bool]int{true: 1, false: 0}[e.hasTime]; timed < 0 {
			timed = t
		} else if t != timed {
			return File{}, fieldError(e.line, ":time", "present in some ops and not others")
		}
		at := time.Duration(e.time)
		if !e.hasTime {
			at = time.Duration(i) * time.Microsecond
		}
		if e.process.kind != ednInt {
			f.Notes = append(f.Notes, Note{At: at, Line: e.line, Who: e.process.String(),
				Text: strings.TrimSpace(":" + e.typ + " :" + e.f + " " + valueText(e.value))})
			continue
		}
		p := e.process.n
		if p < 0 || p > math.MaxInt32 {
			return File{}, fieldError(e.line, ":process", "out of range: %d", p)
		}
		if e.typ == "invoke" {
			if j, ok := open[p]; ok {
				return File{}, fieldError(e.line, ":process", "process %d invoked again before its op at line %d completed", p, f.Lines[j])
			}
			op, err := jepsenInvoke(e)
			if err != nil {
				return File{}, err
			}
			op.Client, op.Invoke = int(p), at
			open[p] = len(f.Ops)
			f.Ops = append(f.Ops, op)
			f.Lines = append(f.Lines, e.line)
			continue
		}
		j, ok := open[p]
		if !ok {
			return File{}, fieldError(e.line, ":process", "a :%s of process %d with no :invoke before it", e.typ, p)
		}
		delete(open, p)
		if err := jepsenComplete(&f.Ops[j], e, at, f.Lines[j]); err != nil {
			return File{}, err
		}
	}
	return f, nil
}

// valueText prints a note's value, "" for nil.
func valueText(v edn) string {
	if v.kind == ednNil {
		return ""
	}
	return v.String()
}

// scalar turns a key or value into a string: integers and strings only.
func scalar(v edn, field string) (string, error) {
	switch v.kind {
	case ednInt:
		return strconv.FormatInt(v.n, 10), nil
	case ednString:
		return v.text, nil
	}
	return "", fieldError(v.line, field, "want an integer or a string, got %s", v)
}

// jepsenInvoke reads what an invoke says: the op kind, key and written value.
func jepsenInvoke(e jepsenEvent) (Op, error) {
	op := Op{Slot: -1, Status: Unknown}
	switch e.f {
	case "read", "write":
		op.Kind, op.Key = map[string]string{"read": "get", "write": "set"}[e.f], JepsenKey
		v := e.value
		if v.kind == ednVector && len(v.items) == 2 { // jepsen.independent [k v]
			k, err := scalar(v.items[0], ":value")
			if err != nil {
				return op, err
			}
			op.Key, v = k, v.items[1]
		}
		if op.Kind == "set" {
			s, err := scalar(v, ":value")
			if err != nil {
				return op, err
			}
			op.Value = s
		}
	case "txn":
		m, err := microOp(e.value)
		if err != nil {
			return op, err
		}
		k, err := scalar(m.items[1], ":value")
		if err != nil {
			return op, err
		}
		op.Key = k
		if m.items[0].text == "append" {
			op.Kind = "rpush"
			if op.Value, err = scalar(m.items[2], ":value"); err != nil {
				return op, err
			}
		} else {
			op.Kind = "lrange"
		}
	default:
		return op, fieldError(e.line, ":f", "unsupported :%s (rcsim reads :read and :write registers and single-key :txn list-append)", e.f)
	}
	return op, nil
}

// microOp checks a list-append :value holds one [:append k v] or [:r k v].
func microOp(v edn) (edn, error) {
	if v.kind != ednVector && v.kind != ednList {
		return edn{}, fieldError(v.line, ":value", "a :txn value is a vector of micro-ops, got %s", v)
	}
	if len(v.items) != 1 {
		return edn{}, fieldError(v.line, ":value", "a transaction of %d micro-ops: rcsim checks single-key, single micro-op ones "+
			"([[:append k v]] or [[:r k nil]]), which are single Redis commands", len(v.items))
	}
	m := v.items[0]
	if m.kind != ednVector || len(m.items) != 3 || m.items[0].kind != ednKeyword ||
		m.items[0].text != "append" && m.items[0].text != "r" {
		return edn{}, fieldError(m.line, ":value", "want [:append k v] or [:r k list], got %s", m)
	}
	return m, nil
}

// jepsenComplete fills op from its completion e.
func jepsenComplete(op *Op, e jepsenEvent, at time.Duration, invokeLine int) error {
	want := map[string]string{"get": "read", "set": "write", "rpush": "txn", "lrange": "txn"}[op.Kind]
	if e.f != want {
		return fieldError(e.line, ":f", ":%s completes the :%s invoked at line %d", e.f, want, invokeLine)
	}
	if at < op.Invoke {
		return fieldError(e.line, ":time", "%dns before its invoke's %dns", int64(at), int64(op.Invoke))
	}
	switch e.typ {
	case "info":
		op.Err = e.err
		return nil // unknown
	case "fail":
		op.Status, op.Return, op.Err = Fail, at, e.err
		return nil
	}
	op.Status, op.Return = OK, at
	v := e.value
	switch op.Kind {
	case "set":
		op.Result = "OK"
	case "get":
		if v.kind == ednVector && len(v.items) == 2 { // a tuple: a register holds no vectors
			v = v.items[1]
		}
		if v.kind == ednNil {
			op.Nil = true
			return nil
		}
		s, err := scalar(v, ":value")
		op.Result = s
		return err
	case "lrange":
		m, err := microOp(v)
		if err != nil {
			return err
		}
		op.List = []string{}
		switch l := m.items[2]; l.kind {
		case ednNil:
		case ednVector, ednList:
			for _, it := range l.items {
				s, err := scalar(it, ":value")
				if err != nil {
					return err
				}
				op.List = append(op.List, s)
			}
		default:
			return fieldError(l.line, ":value", "a read's list is a vector or nil, got %s", l)
		}
	}
	return nil
}
