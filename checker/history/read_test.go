package history

// Tests of what every reader shares: limits, the byte order mark, empty
// files.

import (
	"fmt"
	"io"
	"strings"
	"testing"
)

// zeros is /dev/zero: an endless line of NUL bytes.
type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

func TestReadLimits(t *testing.T) {
	const line = `{"v":1,"client":0,"op":"get","key":"k","invoke_us":1,"return_us":2,"status":"ok","nil":true}` + "\n"
	if _, err := Read("zero", zeros{}); err == nil || err.Error() != "zero:1: line longer than the limit of 16 MiB (is this a history file?)" {
		t.Errorf("/dev/zero: %v", err)
	}
	defer func(a, b int64) { maxInput, maxLine = a, b }(maxInput, maxLine)
	maxInput = int64(3*len(line) + 10)
	if _, err := Read("big", strings.NewReader(strings.Repeat(line, 4))); err == nil ||
		err.Error() != fmt.Sprintf("big:4: input larger than the limit of %d bytes", maxInput) {
		t.Errorf("input limit: %v", err)
	}
	if _, err := Read("ok", strings.NewReader(strings.Repeat(line, 3))); err != nil {
		t.Errorf("under the limit: %v", err)
	}
}

func TestReadAcceptsBOMAndCRLF(t *testing.T) {
	in := "\xEF\xBB\xBF" + `{"v":1,"client":0,"op":"get","key":"k","invoke_us":1,"return_us":2,"status":"ok","nil":true}` + "\r\n"
	ops, err := Read("bom", strings.NewReader(in))
	if err != nil || len(ops) != 1 {
		t.Fatalf("got %v, %v", ops, err)
	}
	// A BOM anywhere else is an error like any stray byte.
	if _, err := Read("bom", strings.NewReader(in+in)); err == nil || !strings.HasPrefix(err.Error(), "bom:2: invalid JSON object") {
		t.Errorf("second BOM: %v", err)
	}
}

func TestReadEmpty(t *testing.T) {
	for _, in := range []string{"", "\n\n  \n", "\xEF\xBB\xBF"} {
		if _, err := Read("e.jsonl", strings.NewReader(in)); err == nil ||
			err.Error() != "e.jsonl: no operations (an empty history proves nothing)" {
			t.Errorf("%q: %v", in, err)
		}
	}
}

func TestLineReaderLongLines(t *testing.T) {
	// Lines longer than the bufio buffer are joined, not split.
	long := strings.Repeat("x", 200<<10)
	lr := newLineReader("l", strings.NewReader(long+"\nshort"))
	a, err := lr.next()
	if err != nil || len(a) != len(long)+1 {
		t.Fatalf("first line: %d bytes, %v", len(a), err)
	}
	b, err := lr.next()
	if err != nil || string(b) != "short" || lr.line != 2 {
		t.Fatalf("second line %q at %d, %v", b, lr.line, err)
	}
	if _, err := lr.next(); err != io.EOF {
		t.Fatalf("want EOF, got %v", err)
	}
}
