// Input errors are collected, not stopped at, and printed one per line as
// "file:line: field: message", sorted by line.

package scenarios

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// Problem is one thing wrong with a scenario file.
type Problem struct {
	File  string // the name the file was loaded under
	Line  int    // 1-based line of the offending node
	Field string // the field path, "faults[2].crash"; "" for the file as a whole
	Msg   string // what is wrong, and what would be right
}

// String formats the problem as "file:line: field: msg".
func (p Problem) String() string {
	var b strings.Builder
	b.WriteString(p.File)
	b.WriteByte(':')
	b.WriteString(strconv.Itoa(p.Line))
	b.WriteString(": ")
	if p.Field != "" {
		b.WriteString(p.Field)
		b.WriteString(": ")
	}
	b.WriteString(p.Msg)
	return b.String()
}

// Error is every problem found in one scenario file, sorted by line (file
// order breaks ties). Parse, Load, Builtin and Resolve return it for bad
// input; it is never empty.
type Error struct {
	Problems []Problem
}

// Error prints one problem per line.
func (e *Error) Error() string {
	lines := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		lines[i] = p.String()
	}
	return strings.Join(lines, "\n")
}

// problems collects Problems for one file.
type problems struct {
	file    string
	list    []Problem
	dropped int // problems past maxProblems, counted but not kept
}

// maxProblems caps how many problems one file reports.
const maxProblems = 100

func (ps *problems) add(line int, field, msg string) {
	if line < 1 {
		line = 1
	}
	if len(ps.list) >= maxProblems {
		ps.dropped++
		return
	}
	field = strings.ReplaceAll(field, "\n", `\n`)
	msg = strings.ReplaceAll(msg, "\n", `\n`)
	ps.list = append(ps.list, Problem{File: ps.file, Line: line, Field: field, Msg: msg})
}

// err returns the collected problems as an *Error, or nil if there are none.
func (ps *problems) err() error {
	if len(ps.list) == 0 {
		return nil
	}
	sort.SliceStable(ps.list, func(i, j int) bool { return ps.list[i].Line < ps.list[j].Line })
	if ps.dropped > 0 {
		last := ps.list[len(ps.list)-1].Line
		ps.list = append(ps.list, Problem{File: ps.file, Line: last,
			Msg: fmt.Sprintf("… and %d more problems", ps.dropped)})
		ps.dropped = 0
	}
	return &Error{Problems: ps.list}
}
