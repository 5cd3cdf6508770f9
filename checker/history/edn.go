package history

// A small strict reader of EDN (https://github.com/edn-format/edn), enough
// for Jepsen's history files: nil, booleans, numbers, strings, characters,
// keywords, symbols, lists, vectors, maps, sets, tagged values (#inst,
// #jepsen.history.Op{…}), #_ discards and ; comments, with the line of
// every value. The Go EDN libraries on the module proxy are unmaintained
// (olympos.io/encoding/edn: untagged, last change 2020) and give no lines,
// so this is ours, and fuzzed (FuzzReadJepsen).

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// ednKind is the kind of an EDN value.
type ednKind uint8

const (
	ednNil ednKind = iota
	ednBool
	ednInt
	ednNumber // a float, ratio, bigdec or other number we do not read
	ednString
	ednChar
	ednKeyword
	ednSymbol
	ednList
	ednVector
	ednMap // items hold key, value, key, value, …
	ednSet
	ednTagged // text is the tag, items[0] the value
)

// edn is one value with the line it starts on.
type edn struct {
	kind  ednKind
	text  string // string contents, keyword or symbol name (no colon), number text, tag
	n     int64  // ednInt; ednBool: 1 for true
	items []edn
	line  int
}

// maxDepth bounds nesting, so a hostile file cannot exhaust the stack.
const maxDepth = 200

type ednParser struct {
	b    []byte
	pos  int
	line int
}

// errEOF is the end of the input where a value could start.
var errEOF = errors.New("end of input")

// ednError is a syntax error at a line.
type ednError struct {
	line int
	why  string
}

func (e *ednError) Error() string { return e.why }

func (p *ednParser) fail(format string, args ...any) error {
	return &ednError{p.line, fmt.Sprintf(format, args...)}
}

// skip passes whitespace (commas included), comments and #_ discards.
func (p *ednParser) skip(depth int) error {
	for p.pos < len(p.b) {
		switch c := p.b[p.pos]; {
		case c == '\n':
			p.line++
			p.pos++
		case c == ' ' || c == '\t' || c == '\r' || c == ',' || c == '\f':
			p.pos++
		case c == ';':
			for p.pos < len(p.b) && p.b[p.pos] != '\n' {
				p.pos++
			}
		case c == '#' && p.pos+1 < len(p.b) && p.b[p.pos+1] == '_':
			p.pos += 2
			if _, err := p.value(depth + 1); err != nil {
				if err == errEOF {
					return p.fail("#_ discards nothing")
				}
				return err
			}
		default:
			return nil
		}
	}
	return nil
}

// value reads the next value; errEOF when the input ends before one.
func (p *ednParser) value(depth int) (edn, error) {
	if depth > maxDepth {
		return edn{}, p.fail("nested more than %d deep", maxDepth)
	}
	if err := p.skip(depth); err != nil {
		return edn{}, err
	}
	if p.pos >= len(p.b) {
		return edn{}, errEOF
	}
	line := p.line
	switch c := p.b[p.pos]; c {
	case '(', '[', '{':
		p.pos++
		kind := map[byte]ednKind{'(': ednList, '[': ednVector, '{': ednMap}[c]
		return p.seq(kind, map[byte]byte{'(': ')', '[': ']', '{': '}'}[c], line, depth)
	case ')', ']', '}':
		return edn{}, p.fail("unexpected %q", c)
	case '"':
		s, err := p.str()
		return edn{kind: ednString, text: s, line: line}, err
	case '\\':
		p.pos++
		tok := p.token()
		if tok == "" && p.pos < len(p.b) { // \( \[ and the like
			_, size := utf8.DecodeRune(p.b[p.pos:])
			tok = string(p.b[p.pos : p.pos+size])
			p.pos += size
		}
		if tok == "" {
			return edn{}, p.fail("a character literal with no character")
		}
		return edn{kind: ednChar, text: tok, line: line}, nil
	case '#':
		return p.dispatch(line, depth)
	}
	tok := p.token()
	if tok == "" {
		return edn{}, p.fail("unexpected byte %q", p.b[p.pos])
	}
	return atom(tok, line)
}

// dispatch reads what follows a #: a set or a tagged value.
func (p *ednParser) dispatch(line, depth int) (edn, error) {
	p.pos++
	if p.pos < len(p.b) && p.b[p.pos] == '{' {
		p.pos++
		return p.seq(ednSet, '}', line, depth)
	}
	tag := p.token()
	if tag == "" {
		return edn{}, p.fail("# followed by neither { nor a tag")
	}
	v, err := p.value(depth + 1)
	if err == errEOF {
		return edn{}, p.fail("tag #%s with no value", tag)
	}
	if err != nil {
		return edn{}, err
	}
	return edn{kind: ednTagged, text: tag, items: []edn{v}, line: line}, nil
}

// seq reads the items of a list, vector, map or set up to close.
func (p *ednParser) seq(kind ednKind, close byte, line, depth int) (edn, error) {
	out := edn{kind: kind, line: line}
	for {
		if err := p.skip(depth); err != nil {
			return edn{}, err
		}
		if p.pos >= len(p.b) {
			return edn{}, &ednError{line, fmt.Sprintf("%q opened here is never closed", map[byte]string{')': "(", ']': "[", '}': "{"}[close])}
		}
		if p.b[p.pos] == close {
			p.pos++
			break
		}
		v, err := p.value(depth + 1)
		if err != nil {
			return edn{}, err
		}
		out.items = append(out.items, v)
	}
	if kind == ednMap && len(out.items)%2 == 1 {
		return edn{}, &ednError{line, "a map with a key and no value"}
	}
	return out, nil
}

// isDelim reports whether c ends a token.
func isDelim(c byte) bool {
	return strings.IndexByte(" \t\r\n\f,;()[]{}\"", c) >= 0
}

// token reads a run of non-delimiter bytes (a symbol, keyword or number).
func (p *ednParser) token() string {
	start := p.pos
	for p.pos < len(p.b) && !isDelim(p.b[p.pos]) {
		p.pos++
	}
	return string(p.b[start:p.pos])
}

// atom classifies a token.
func atom(tok string, line int) (edn, error) {
	switch tok {
	case "nil":
		return edn{kind: ednNil, line: line}, nil
	case "true":
		return edn{kind: ednBool, n: 1, line: line}, nil
	case "false":
		return edn{kind: ednBool, line: line}, nil
	}
	if tok[0] == ':' {
		if len(tok) == 1 {
			return edn{}, &ednError{line, "a keyword with no name"}
		}
		return edn{kind: ednKeyword, text: tok[1:], line: line}, nil
	}
	c := tok[0]
	if c >= '0' && c <= '9' || (c == '-' || c == '+') && len(tok) > 1 && tok[1] >= '0' && tok[1] <= '9' {
		if n, err := strconv.ParseInt(strings.TrimSuffix(tok, "N"), 10, 64); err == nil {
			return edn{kind: ednInt, n: n, text: tok, line: line}, nil
		}
		return edn{kind: ednNumber, text: tok, line: line}, nil
	}
	if !utf8.ValidString(tok) {
		return edn{}, &ednError{line, fmt.Sprintf("symbol %q is not valid UTF-8", tok)}
	}
	return edn{kind: ednSymbol, text: tok, line: line}, nil
}

// str reads a string literal; newlines inside it count as lines.
func (p *ednParser) str() (string, error) {
	line := p.line
	p.pos++ // the opening quote
	var b strings.Builder
	for p.pos < len(p.b) {
		c := p.b[p.pos]
		p.pos++
		switch c {
		case '"':
			s := b.String()
			if !utf8.ValidString(s) {
				return "", &ednError{line, "a string that is not valid UTF-8"}
			}
			return s, nil
		case '\n':
			p.line++
			b.WriteByte(c)
		case '\\':
			if p.pos >= len(p.b) {
				return "", &ednError{line, "a string that never ends"}
			}
			e := p.b[p.pos]
			p.pos++
			switch e {
			case 'n':
				b.WriteByte('\n')
			case 't':
				b.WriteByte('\t')
			case 'r':
				b.WriteByte('\r')
			case 'b':
				b.WriteByte('\b')
			case 'f':
				b.WriteByte('\f')
			case '"', '\\', '/':
				b.WriteByte(e)
			case 'u':
				if p.pos+4 > len(p.b) {
					return "", p.fail("a \\u escape with fewer than 4 hex digits")
				}
				r, err := strconv.ParseUint(string(p.b[p.pos:p.pos+4]), 16, 32)
				if err != nil {
					return "", p.fail("a \\u escape with fewer than 4 hex digits")
				}
				b.WriteRune(rune(r))
				p.pos += 4
			default:
				return "", p.fail("unknown escape \\%c in a string", e)
			}
		default:
			b.WriteByte(c)
		}
	}
	return "", &ednError{line, "a string that never ends"}
}

// String prints v back as EDN, on one line.
func (v edn) String() string {
	var b strings.Builder
	v.write(&b)
	return b.String()
}

func (v edn) write(b *strings.Builder) {
	switch v.kind {
	case ednNil:
		b.WriteString("nil")
	case ednBool:
		b.WriteString(strconv.FormatBool(v.n == 1))
	case ednInt, ednNumber, ednSymbol:
		b.WriteString(v.text)
	case ednString:
		b.WriteString(strconv.Quote(v.text))
	case ednChar:
		b.WriteString(`\` + v.text)
	case ednKeyword:
		b.WriteString(":" + v.text)
	case ednTagged:
		b.WriteString("#" + v.text + " ")
		v.items[0].write(b)
	default:
		brackets := map[ednKind][2]string{ednList: {"(", ")"}, ednVector: {"[", "]"}, ednMap: {"{", "}"}, ednSet: {"#{", "}"}}[v.kind]
		b.WriteString(brackets[0])
		for i, it := range v.items {
			if i > 0 {
				if v.kind == ednMap && i%2 == 0 {
					b.WriteString(", ")
				} else {
					b.WriteByte(' ')
				}
			}
			it.write(b)
		}
		b.WriteString(brackets[1])
	}
}
