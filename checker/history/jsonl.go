package history

// The JSONL codec: a writer with a fixed key order and a strict reader whose
// errors name the file, the line and the field.

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"time"
	"unicode/utf8"
)

// Format of history.jsonl, version 1.
//
// One JSON object per line, one line per operation, in the order the
// operations were invoked. The writer emits the keys in this order:
//
//	{"v":1,"client":0,"node":"m0","op":"set","key":"k7","slot":1234,"value":"c0-17",
//	 "invoke_us":10234,"return_us":10510,"status":"ok","result":"OK"}
//
// followed, when set, by "nil":true, "list":[...] and "err":"...".
//
//	v          required  format version; must be 1
//	client     required  client number, >= 0
//	node       optional  the node that answered last (or was last asked)
//	op         required  get | set | incr | rpush | lrange
//	key        required  the key
//	slot       optional  hash slot of key, -1..16383 (-1 or absent: not known)
//	value      optional  the argument written (set, rpush)
//	invoke_us  required  virtual time the client sent the op, whole microseconds >= 0
//	return_us  required unless status is "unknown", where it must be absent;
//	           virtual time the answer arrived, >= invoke_us
//	status     required  ok | fail | unknown (see Status)
//	result     optional  get: the value; incr: the new value; set: "OK"; rpush: the new length
//	nil        optional  true when a get found no key
//	list       optional  lrange: the whole list (present, possibly [], for every ok lrange)
//	err        optional  the error Redis returned (fail)
//
// The reader is strict: an unknown key, a missing required key, a value of
// the wrong type, a null, an unknown op or status, return_us < invoke_us and
// any version other than 1 are errors of the form
// `history.jsonl:12: status: unknown status "maybe"`. Empty lines are skipped.

var kinds = map[string]bool{"get": true, "set": true, "incr": true, "rpush": true, "lrange": true}

// maxUs is the largest microsecond count that fits a time.Duration.
const maxUs = math.MaxInt64 / int64(time.Microsecond)

// AppendJSON appends op's JSON object (no newline) to b, keys in the order
// the format fixes.
func AppendJSON(b []byte, op Op) []byte {
	b = append(b, `{"v":`...)
	b = strconv.AppendInt(b, Version, 10)
	b = append(b, `,"client":`...)
	b = strconv.AppendInt(b, int64(op.Client), 10)
	b = append(b, `,"node":`...)
	b = appendString(b, op.Node)
	b = append(b, `,"op":`...)
	b = appendString(b, op.Kind)
	b = append(b, `,"key":`...)
	b = appendString(b, op.Key)
	b = append(b, `,"slot":`...)
	b = strconv.AppendInt(b, int64(op.Slot), 10)
	b = append(b, `,"value":`...)
	b = appendString(b, op.Value)
	b = append(b, `,"invoke_us":`...)
	b = strconv.AppendInt(b, op.Invoke.Microseconds(), 10)
	if op.Status != Unknown {
		b = append(b, `,"return_us":`...)
		b = strconv.AppendInt(b, op.Return.Microseconds(), 10)
	}
	b = append(b, `,"status":`...)
	b = appendString(b, string(op.Status))
	b = append(b, `,"result":`...)
	b = appendString(b, op.Result)
	if op.Nil {
		b = append(b, `,"nil":true`...)
	}
	if op.List != nil {
		b = append(b, `,"list":[`...)
		for i, s := range op.List {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendString(b, s)
		}
		b = append(b, ']')
	}
	if op.Err != "" {
		b = append(b, `,"err":`...)
		b = appendString(b, op.Err)
	}
	return append(b, '}')
}

// appendString appends s as a JSON string; invalid UTF-8 becomes U+FFFD, as
// encoding/json would read it.
func appendString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\':
				b = append(b, '\\', c)
			case c == '\n':
				b = append(b, '\\', 'n')
			case c == '\t':
				b = append(b, '\\', 't')
			case c == '\r':
				b = append(b, '\\', 'r')
			case c < 0x20:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			default:
				b = append(b, c)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, `\ufffd`...)
		} else {
			b = append(b, s[i:i+size]...)
		}
		i += size
	}
	return append(b, '"')
}

// MarshalJSON renders op as its history.jsonl object, so summaries show
// operations exactly as the history file does.
func (op Op) MarshalJSON() ([]byte, error) { return AppendJSON(nil, op), nil }

// UnmarshalJSON reads op from its history.jsonl object with the reader's
// strict rules.
func (op *Op) UnmarshalJSON(b []byte) error {
	o, err := parseLine(b)
	if err != nil {
		return err
	}
	*op = o
	return nil
}

// Encoder writes operations to a stream one line at a time.
type Encoder struct {
	w   io.Writer
	buf []byte
	n   int
}

// NewEncoder returns an Encoder writing to w.
func NewEncoder(w io.Writer) *Encoder { return &Encoder{w: w, buf: make([]byte, 0, 256)} }

// Encode writes op as one line. Its error is the underlying writer's.
func (e *Encoder) Encode(op Op) error {
	e.buf = AppendJSON(e.buf[:0], op)
	e.buf = append(e.buf, '\n')
	e.n++
	_, err := e.w.Write(e.buf)
	return err
}

// Count is the number of operations encoded.
func (e *Encoder) Count() int { return e.n }

// Write writes ops to w, one line each.
func Write(w io.Writer, ops []Op) error {
	bw := bufio.NewWriter(w)
	e := NewEncoder(bw)
	for _, op := range ops {
		if err := e.Encode(op); err != nil {
			return err
		}
	}
	return bw.Flush()
}

// Read parses a history.jsonl stream strictly (see the format above) and
// returns its operations. name is the file name used in error messages,
// which read "name:line: field: why".
func Read(name string, r io.Reader) ([]Op, error) {
	f, err := ReadFile(name, r)
	return f.Ops, err
}

// ReadFile parses a history.jsonl stream strictly, keeping each op's line.
// A stream without operations is an error.
func ReadFile(name string, r io.Reader) (File, error) {
	lr := newLineReader(name, r)
	var f File
	for {
		raw, err := lr.next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return File{}, err
		}
		if t := bytes.TrimSpace(raw); len(t) > 0 {
			op, err := parseLine(t)
			if err != nil {
				return File{}, fmt.Errorf("%s:%d: %v", name, lr.line, err)
			}
			f.Ops = append(f.Ops, op)
			f.Lines = append(f.Lines, lr.line)
		}
	}
	if len(f.Ops) == 0 {
		return File{}, errNoOps(name)
	}
	return f, nil
}

// fieldErr is a problem with one field of a line.
type fieldErr struct {
	field, why string
}

func (e *fieldErr) Error() string { return e.field + ": " + e.why }

func errf(field, format string, args ...any) error {
	return &fieldErr{field, fmt.Sprintf(format, args...)}
}

// fields is one line's object, field by field, for typed decoding with
// errors that name the field.
type fields map[string]json.RawMessage

func (f fields) get(name string, required bool, dst any) (bool, error) {
	raw, ok := f[name]
	if !ok {
		if required {
			return false, errf(name, "missing")
		}
		return false, nil
	}
	if string(raw) == "null" {
		return false, errf(name, "null")
	}
	if err := json.Unmarshal(raw, dst); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			return false, errf(name, "want %s, got JSON %s", te.Type, te.Value)
		}
		return false, errf(name, "%v", err)
	}
	return true, nil
}

var known = map[string]bool{"v": true, "client": true, "node": true, "op": true, "key": true, "slot": true,
	"value": true, "invoke_us": true, "return_us": true, "status": true, "result": true, "nil": true,
	"list": true, "err": true}

// object splits one line into its top-level fields, refusing what
// encoding/json would let through silently: a repeated key (it would take
// the last value), an unknown key, anything after the object.
func object(b []byte) (fields, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	syntax := func(err error) error {
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return errors.New("invalid JSON object: the line ends inside it")
		}
		return fmt.Errorf("invalid JSON object: %v", err)
	}
	tok, err := dec.Token()
	if err != nil {
		return nil, syntax(err)
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return nil, fmt.Errorf("invalid JSON object: want {, got %s", describeToken(tok))
	}
	f := fields{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, syntax(err)
		}
		k, _ := tok.(string) // object keys are always strings
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, syntax(err)
		}
		if _, dup := f[k]; dup {
			return nil, errf(k, "repeated key")
		}
		if !known[k] {
			return nil, errf(k, "unknown field")
		}
		f[k] = raw
	}
	if _, err := dec.Token(); err != nil {
		return nil, syntax(err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("invalid JSON object: more after the closing }")
	}
	return f, nil
}

func describeToken(tok any) string {
	switch t := tok.(type) {
	case json.Delim:
		return string(t)
	case nil:
		return "null"
	case string:
		return "a string"
	default:
		return fmt.Sprintf("%v", t)
	}
}

// parseLine decodes one object; errors are field errors or JSON syntax errors.
func parseLine(b []byte) (Op, error) {
	f, err := object(b)
	if err != nil {
		return Op{}, err
	}
	var v int64
	if _, err := f.get("v", true, &v); err != nil {
		return Op{}, err
	}
	if v != Version {
		return Op{}, errf("v", "unsupported version %d (this reader knows %d)", v, Version)
	}
	op := Op{Slot: -1}
	if err := parseIdentity(f, &op); err != nil {
		return Op{}, err
	}
	if err := parseTimes(f, &op); err != nil {
		return Op{}, err
	}
	hasResult, err := parseResult(f, &op)
	if err != nil {
		return Op{}, err
	}
	if err := Validate(op, hasResult); err != nil {
		return Op{}, err
	}
	return op, nil
}

func parseIdentity(f fields, op *Op) error {
	var client int64
	if _, err := f.get("client", true, &client); err != nil {
		return err
	}
	if client < 0 || client > math.MaxInt32 {
		return errf("client", "out of range: %d", client)
	}
	op.Client = int(client)
	if _, err := f.get("node", false, &op.Node); err != nil {
		return err
	}
	if _, err := f.get("op", true, &op.Kind); err != nil {
		return err
	}
	if !kinds[op.Kind] {
		return errf("op", "unknown op %q (want get, set, incr, rpush or lrange)", op.Kind)
	}
	if _, err := f.get("key", true, &op.Key); err != nil {
		return err
	}
	var slot int64
	if ok, err := f.get("slot", false, &slot); err != nil {
		return err
	} else if ok {
		if slot < -1 || slot > 16383 {
			return errf("slot", "out of range: %d (want -1..16383)", slot)
		}
		op.Slot = int(slot)
	}
	_, err := f.get("value", false, &op.Value)
	return err
}

func parseTimes(f fields, op *Op) error {
	var status string
	if _, err := f.get("status", true, &status); err != nil {
		return err
	}
	switch Status(status) {
	case OK, Fail, Unknown:
		op.Status = Status(status)
	default:
		return errf("status", "unknown status %q (want ok, fail or unknown)", status)
	}
	var inv, ret int64
	if _, err := f.get("invoke_us", true, &inv); err != nil {
		return err
	}
	if inv < 0 || inv > maxUs {
		return errf("invoke_us", "out of range: %d", inv)
	}
	op.Invoke = time.Duration(inv) * time.Microsecond
	has, err := f.get("return_us", op.Status != Unknown, &ret)
	if err != nil {
		return err
	}
	if has && op.Status == Unknown {
		return errf("return_us", "must be absent when status is unknown")
	}
	if !has {
		return nil
	}
	if ret > maxUs {
		return errf("return_us", "out of range: %d", ret)
	}
	if ret < inv {
		return errf("return_us", "%d before invoke_us %d", ret, inv)
	}
	op.Return = time.Duration(ret) * time.Microsecond
	return nil
}

// parseResult reads result, nil, list and err; it reports whether result
// was present (an ok get of "" and an ok get with no result differ).
func parseResult(f fields, op *Op) (bool, error) {
	hasResult, err := f.get("result", false, &op.Result)
	if err != nil {
		return false, err
	}
	if _, err := f.get("nil", false, &op.Nil); err != nil {
		return false, err
	}
	if ok, err := f.get("list", false, &op.List); err != nil {
		return false, err
	} else if ok && op.List == nil {
		op.List = []string{}
	}
	_, err = f.get("err", false, &op.Err)
	return hasResult, err
}

// Validate checks that op's fields fit its kind and status, the rules of
// the format above: what an ok op of each kind must carry, and what no op
// may carry. hasResult says whether the result was given at all (an ok get
// of the empty string has one). Its error names the field.
func Validate(op Op, hasResult bool) error {
	if !kinds[op.Kind] {
		return errf("op", "unknown op %q (want get, set, incr, rpush or lrange)", op.Kind)
	}
	writes := op.Kind == "set" || op.Kind == "rpush"
	if op.Value != "" && !writes {
		return errf("value", "%s takes no value (only set and rpush do)", op.Kind)
	}
	if op.Nil && (op.Kind != "get" || op.Status != OK) {
		return errf("nil", `only an ok get can find no key ("nil":true)`)
	}
	if op.List != nil && (op.Kind != "lrange" || op.Status != OK) {
		return errf("list", "only an ok lrange returns a list")
	}
	if op.Status != OK {
		if op.Result != "" {
			return errf("result", "a %s op has no result", op.Status)
		}
		return nil
	}
	if op.Err != "" {
		return errf("err", "an ok op has no error (status fail or unknown carries it)")
	}
	switch op.Kind {
	case "get":
		if op.Nil && op.Result != "" {
			return errf("result", `%q together with "nil":true: a get returns a value or finds no key, not both`, op.Result)
		}
		if !op.Nil && !hasResult {
			return errf("result", `missing: an ok get gives the value in "result", or "nil":true when the key did not exist`)
		}
	case "incr", "rpush":
		if !hasResult {
			return errf("result", "missing: an ok %s returns the new %s", op.Kind, map[string]string{"incr": "value", "rpush": "length of the list"}[op.Kind])
		}
		if _, err := strconv.ParseInt(op.Result, 10, 64); err != nil {
			return errf("result", "%q is not an integer (an ok %s returns one)", op.Result, op.Kind)
		}
	case "lrange":
		if op.List == nil {
			return errf("list", `missing: an ok lrange gives the whole list ("list":[] when the key did not exist)`)
		}
		if op.Result != "" {
			return errf("result", "an lrange returns its list in \"list\", not a result")
		}
	}
	return nil
}
