// Typed reads of yaml.v3 nodes: every helper reports a Problem with the
// node's line and the field path instead of failing, so one pass finds all.
package scenarios

import (
	"fmt"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// parser walks a yaml.Node tree, collecting problems as it goes.
type parser struct {
	problems
	work int // list items and mapping entries walked; aliases can multiply them
}

// maxWork bounds the nodes walked, so a file of aliases to aliases cannot
// make Parse slow.
const maxWork = 200000

// spend counts n more nodes walked and reports false, once noted as a
// problem, when the budget is gone.
func (p *parser) spend(n int, line int) bool {
	p.work += n
	if p.work > maxWork {
		if p.work-n <= maxWork {
			p.problems.list = append(p.problems.list, Problem{File: p.file, Line: max(line, 1), // kept past maxProblems
				Msg: fmt.Sprintf("too large: more than %d list items and keys (are aliases repeating big lists?)", maxWork)})
		}
		return false
	}
	return true
}

// deref follows aliases (*name) to the node they stand for.
func deref(n *yaml.Node) *yaml.Node {
	for i := 0; n != nil && n.Kind == yaml.AliasNode && i < 32; i++ {
		n = n.Alias
	}
	if n == nil || n.Kind == yaml.AliasNode {
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!null", Line: 1}
	}
	return n
}

var plainKey = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)

// keyName shows a user-written key safely inside a field path.
func keyName(k string) string {
	if plainKey.MatchString(k) && len(k) <= 40 {
		return k
	}
	return quote(k)
}

// join appends a key to a field path.
func join(path, key string) string {
	if path == "" {
		return keyName(key)
	}
	return path + "." + keyName(key)
}

// quote shows a user-written value in a message, shortened.
func quote(v string) string {
	if r := []rune(v); len(r) > 40 {
		v = string(r[:40]) + "…"
	}
	return strconv.Quote(v)
}

// describe names what a node is, for "want X, got Y" messages.
func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		if n.ShortTag() == "!!null" {
			return "nothing"
		}
		return quote(n.Value)
	}
	return "an unexpected node"
}

// fields checks that n is a mapping whose keys are all in known and appear
// once each, and returns its values by key. listed is what the "unknown
// field" message offers (known when nil).
func (p *parser) fields(n *yaml.Node, path string, known, listed []string) map[string]*yaml.Node {
	n = deref(n)
	if n.Kind != yaml.MappingNode {
		p.add(n.Line, path, "want a mapping, got "+describe(n))
		return nil
	}
	if !p.spend(len(n.Content)/2, n.Line) {
		return nil
	}
	if listed == nil {
		listed = known
	}
	out := make(map[string]*yaml.Node)
	first := make(map[string]int)
	for i := 0; i+1 < len(n.Content); i += 2 {
		k := deref(n.Content[i])
		if k.Kind != yaml.ScalarNode {
			p.add(n.Content[i].Line, path, "want a plain key, got "+describe(k))
			continue
		}
		fp := join(path, k.Value)
		switch l, dup := first[k.Value]; {
		case dup:
			p.add(n.Content[i].Line, fp, fmt.Sprintf("duplicate key (first at line %d)", l))
		case !slices.Contains(known, k.Value):
			p.add(n.Content[i].Line, fp, "unknown field (known: "+strings.Join(listed, ", ")+")")
		default:
			first[k.Value] = n.Content[i].Line
			out[k.Value] = deref(n.Content[i+1])
		}
	}
	return out
}

// list checks that n is a sequence and returns its items.
func (p *parser) list(n *yaml.Node, path string) ([]*yaml.Node, bool) {
	n = deref(n)
	if n.Kind != yaml.SequenceNode {
		p.add(n.Line, path, "want a list, got "+describe(n))
		return nil, false
	}
	if !p.spend(len(n.Content), n.Line) {
		return nil, false
	}
	items := make([]*yaml.Node, len(n.Content))
	for i, c := range n.Content {
		items[i] = deref(c)
	}
	return items, true
}

// text reads any non-null scalar as a string.
func (p *parser) text(n *yaml.Node, path string) (string, bool) {
	if n.Kind != yaml.ScalarNode || n.ShortTag() == "!!null" {
		p.add(n.Line, path, "want a string, got "+describe(n))
		return "", false
	}
	return n.Value, true
}

// integer reads an integer in [lo, hi].
func (p *parser) integer(n *yaml.Node, path string, lo, hi int) (int, bool) {
	var v int64
	if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!int" || n.Decode(&v) != nil {
		p.add(n.Line, path, "want an integer, got "+describe(n))
		return 0, false
	}
	if v < int64(lo) || v > int64(hi) {
		p.add(n.Line, path, rangeMsg(v, lo, hi))
		return 0, false
	}
	return int(v), true
}

// rangeMsg says which range v is outside.
func rangeMsg(v int64, lo, hi int) string {
	if hi == math.MaxInt32 {
		return fmt.Sprintf("must be >= %d, got %d", lo, v)
	}
	return fmt.Sprintf("must be between %d and %d, got %d", lo, hi, v)
}

// unsigned reads a non-negative 64-bit integer.
func (p *parser) unsigned(n *yaml.Node, path string) (uint64, bool) {
	var v uint64
	if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!int" || n.Decode(&v) != nil {
		p.add(n.Line, path, "want an integer from 0 to 2^64-1, got "+describe(n))
		return 0, false
	}
	return v, true
}

// boolean reads true/false, also written yes/no as in redis.conf.
func (p *parser) boolean(n *yaml.Node, path string) (bool, bool) {
	if n.Kind == yaml.ScalarNode {
		switch strings.ToLower(n.Value) {
		case "true", "yes":
			return true, true
		case "false", "no":
			return false, true
		}
	}
	p.add(n.Line, path, "want yes/no or true/false, got "+describe(n))
	return false, false
}

// MaxDuration bounds every duration in a file, the run's included, and
// rcsim run --until.
const MaxDuration = 24 * time.Hour

const maxDuration = MaxDuration

// duration reads a Go duration string ("10s", "200us") in [lo, maxDuration].
func (p *parser) duration(n *yaml.Node, path string, lo time.Duration) (time.Duration, bool) {
	if n.Kind != yaml.ScalarNode || n.ShortTag() == "!!null" {
		p.add(n.Line, path, "want a duration like 10s or 200us, got "+describe(n))
		return 0, false
	}
	d, err := time.ParseDuration(n.Value)
	if err != nil {
		p.add(n.Line, path, "want a duration like 10s or 200us, got "+describe(n))
		return 0, false
	}
	switch {
	case d < lo && lo == 1:
		p.add(n.Line, path, "must be > 0, got "+fmtDur(d))
	case d < lo:
		p.add(n.Line, path, fmt.Sprintf("must be >= %s, got %s", fmtDur(lo), fmtDur(d)))
	case d > maxDuration:
		p.add(n.Line, path, fmt.Sprintf("must be <= %s, got %s", fmtDur(maxDuration), fmtDur(d)))
	default:
		return d, true
	}
	return 0, false
}

// fmtDur writes a duration the way files spell it (ASCII "us", not "µs").
func fmtDur(d time.Duration) string {
	s := strings.ReplaceAll(d.String(), "µs", "us")
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

// memoryPattern is a memory size as redis.conf writes one (memtoull): a
// number and an optional unit, in any case.
var memoryPattern = regexp.MustCompile(`^([0-9]+)([kKmMgG][bB]?|[bB])?$`)

// memoryUnits are memtoull's multipliers: k, m, g are powers of 1000; kb,
// mb, gb powers of 1024.
var memoryUnits = map[string]int64{"": 1, "b": 1, "k": 1000, "kb": 1024, "m": 1000 * 1000,
	"mb": 1024 * 1024, "g": 1000 * 1000 * 1000, "gb": 1024 * 1024 * 1024}

// memory reads a redis.conf memory size in bytes, at least 1: an integer or
// "1mb", "512kb", "100k", "1GB".
func (p *parser) memory(v *yaml.Node, path string) (int64, bool) {
	const want = "want a size in bytes like 1048576, 1mb or 512kb, got "
	var mm []string
	if v.Kind == yaml.ScalarNode && (v.ShortTag() == "!!int" || v.ShortTag() == "!!str") {
		mm = memoryPattern.FindStringSubmatch(v.Value)
	}
	if mm == nil {
		p.add(v.Line, path, want+describe(v))
		return 0, false
	}
	x, err := strconv.ParseInt(mm[1], 10, 64)
	mult := memoryUnits[strings.ToLower(mm[2])]
	if err != nil || x > math.MaxInt64/mult {
		p.add(v.Line, path, "must be at most 9223372036854775807 bytes, got "+describe(v))
		return 0, false
	}
	if x == 0 {
		p.add(v.Line, path, "must be at least 1 byte, got "+describe(v))
		return 0, false
	}
	return x * mult, true
}
