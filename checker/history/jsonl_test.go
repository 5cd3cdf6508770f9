package history

// Tests of the JSONL codec: exact bytes, round trips, strict errors, fuzzing.

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"
)

var sample = []Op{
	{Client: 0, Node: "m0", Kind: "set", Key: "k7", Slot: 1234, Value: "c0-17",
		Invoke: 10234 * time.Microsecond, Return: 10510 * time.Microsecond, Status: OK, Result: "OK"},
	{Client: 1, Node: "m1", Kind: "get", Key: "k7", Slot: 1234,
		Invoke: 11 * time.Millisecond, Return: 12 * time.Millisecond, Status: OK, Nil: true},
	{Client: 2, Node: "m2", Kind: "rpush", Key: "l\"1\n", Slot: -1, Value: "x\x01é",
		Invoke: 13 * time.Millisecond, Status: Unknown},
	{Client: 3, Node: "m0r0", Kind: "lrange", Key: "l1", Slot: 5,
		Invoke: 14 * time.Millisecond, Return: 15 * time.Millisecond, Status: OK, List: []string{}},
	{Client: 3, Node: "m0r0", Kind: "lrange", Key: "l1", Slot: 5,
		Invoke: 16 * time.Millisecond, Return: 17 * time.Millisecond, Status: OK, List: []string{"a", "b"}},
	{Client: 4, Node: "m0", Kind: "incr", Key: "c", Slot: 0,
		Invoke: 18 * time.Millisecond, Return: 18 * time.Millisecond, Status: Fail, Err: "CLUSTERDOWN The cluster is down"},
}

func TestWriteExactBytes(t *testing.T) {
	var b bytes.Buffer
	if err := Write(&b, sample[:1]); err != nil {
		t.Fatal(err)
	}
	want := `{"v":1,"client":0,"node":"m0","op":"set","key":"k7","slot":1234,"value":"c0-17","invoke_us":10234,"return_us":10510,"status":"ok","result":"OK"}` + "\n"
	if b.String() != want {
		t.Fatalf("got  %s\nwant %s", b.String(), want)
	}
}

func TestRoundTrip(t *testing.T) {
	var b bytes.Buffer
	if err := Write(&b, sample); err != nil {
		t.Fatal(err)
	}
	got, err := Read("h.jsonl", &b)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, sample) {
		t.Fatalf("round trip:\ngot  %+v\nwant %+v", got, sample)
	}
	// Every line is valid JSON for other tools, too.
	var b2 bytes.Buffer
	_ = Write(&b2, sample)
	for _, line := range strings.Split(strings.TrimSpace(b2.String()), "\n") {
		if !json.Valid([]byte(line)) {
			t.Errorf("not valid JSON: %s", line)
		}
	}
}

func TestMarshalJSON(t *testing.T) {
	b, err := json.Marshal(sample)
	if err != nil {
		t.Fatal(err)
	}
	var back []Op
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back, sample) {
		t.Fatalf("json round trip:\ngot  %+v\nwant %+v", back, sample)
	}
}

func TestReadMissingSlot(t *testing.T) {
	ops, err := Read("h", strings.NewReader(`{"v":1,"client":0,"op":"get","key":"k","invoke_us":1,"return_us":2,"status":"ok","nil":true}`+"\n\n"))
	if err != nil {
		t.Fatal(err)
	}
	if len(ops) != 1 || ops[0].Slot != -1 || !ops[0].Nil || ops[0].Node != "" {
		t.Fatalf("got %+v", ops)
	}
}

func TestReadErrors(t *testing.T) {
	const ok = `{"v":1,"client":0,"node":"m0","op":"set","key":"k","value":"a","invoke_us":1,"return_us":2,"status":"ok","result":"OK"}`
	get := func(s string) string { return `{"v":1,"client":0,` + s + `}` }
	tests := []struct {
		name, in, want string
	}{
		{"status", strings.Replace(ok, `"ok"`, `"maybe"`, 1), `h.jsonl:2: status: unknown status "maybe" (want ok, fail or unknown)`},
		{"unknown field", strings.Replace(ok, `"v":1`, `"v":1,"zz":3`, 1), `h.jsonl:2: zz: unknown field`},
		{"missing key", strings.Replace(ok, `"key":"k",`, ``, 1), `h.jsonl:2: key: missing`},
		{"missing return", strings.Replace(ok, `"return_us":2,`, ``, 1), `h.jsonl:2: return_us: missing`},
		{"return before invoke", strings.Replace(ok, `"return_us":2`, `"return_us":0`, 1), `h.jsonl:2: return_us: 0 before invoke_us 1`},
		{"version", strings.Replace(ok, `"v":1`, `"v":2`, 1), `h.jsonl:2: v: unsupported version 2 (this reader knows 1)`},
		{"missing version", strings.Replace(ok, `"v":1,`, ``, 1), `h.jsonl:2: v: missing`},
		{"op", strings.Replace(ok, `"set"`, `"del"`, 1), `h.jsonl:2: op: unknown op "del" (want get, set, incr, rpush or lrange)`},
		{"type", strings.Replace(ok, `"client":0`, `"client":"x"`, 1), `h.jsonl:2: client: want int64, got JSON string`},
		{"null", strings.Replace(ok, `"node":"m0"`, `"node":null`, 1), `h.jsonl:2: node: null`},
		{"slot", strings.Replace(ok, `"op"`, `"slot":16384,"op"`, 1), `h.jsonl:2: slot: out of range: 16384 (want -1..16383)`},
		{"unknown with return", strings.Replace(ok, `"ok"`, `"unknown"`, 1), `h.jsonl:2: return_us: must be absent when status is unknown`},
		{"syntax", `{"v":1,`, `h.jsonl:2: invalid JSON object: the line ends inside it`},
		{"not object", `[1]`, `h.jsonl:2: invalid JSON object: want {, got [`},
		{"json null", `null`, `h.jsonl:2: invalid JSON object: want {, got null`},
		{"trailing", ok + ` {}`, `h.jsonl:2: invalid JSON object: more after the closing }`},
		{"repeated key", strings.Replace(ok, `"key":"k"`, `"key":"k","key":"j"`, 1), `h.jsonl:2: key: repeated key`},
		{"lrange without list", get(`"op":"lrange","key":"k","invoke_us":1,"return_us":2,"status":"ok"`),
			`h.jsonl:2: list: missing: an ok lrange gives the whole list ("list":[] when the key did not exist)`},
		{"rpush without result", get(`"op":"rpush","key":"k","value":"a","invoke_us":1,"return_us":2,"status":"ok"`),
			`h.jsonl:2: result: missing: an ok rpush returns the new length of the list`},
		{"incr result not a number", get(`"op":"incr","key":"k","invoke_us":1,"return_us":2,"status":"ok","result":"OK"`),
			`h.jsonl:2: result: "OK" is not an integer (an ok incr returns one)`},
		{"nil and result", get(`"op":"get","key":"k","invoke_us":1,"return_us":2,"status":"ok","result":"a","nil":true`),
			`h.jsonl:2: result: "a" together with "nil":true: a get returns a value or finds no key, not both`},
		{"get without result", get(`"op":"get","key":"k","invoke_us":1,"return_us":2,"status":"ok"`),
			`h.jsonl:2: result: missing: an ok get gives the value in "result", or "nil":true when the key did not exist`},
		{"nil on a set", strings.Replace(ok, `"result":"OK"`, `"nil":true`, 1), `h.jsonl:2: nil: only an ok get can find no key ("nil":true)`},
		{"list on a get", get(`"op":"get","key":"k","invoke_us":1,"return_us":2,"status":"ok","nil":true,"list":[]`),
			`h.jsonl:2: list: only an ok lrange returns a list`},
		{"value on a get", get(`"op":"get","key":"k","value":"a","invoke_us":1,"return_us":2,"status":"ok","nil":true`),
			`h.jsonl:2: value: get takes no value (only set and rpush do)`},
		{"result on a failed op", strings.Replace(ok, `"ok"`, `"fail"`, 1), `h.jsonl:2: result: a fail op has no result`},
		{"err on an ok op", strings.Replace(ok, `"result":"OK"`, `"result":"OK","err":"MOVED"`, 1),
			`h.jsonl:2: err: an ok op has no error (status fail or unknown carries it)`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Read("h.jsonl", strings.NewReader(ok+"\n"+tc.in+"\n"))
			if err == nil || err.Error() != tc.want {
				t.Fatalf("got %v\nwant %s", err, tc.want)
			}
		})
	}
}

// FuzzRead: Read never panics, every error names the file and line, and
// whatever it accepts survives a Write/Read round trip unchanged.
func FuzzRead(f *testing.F) {
	var b bytes.Buffer
	_ = Write(&b, sample)
	f.Add(b.Bytes())
	f.Add([]byte(`{"v":1}`))
	f.Add([]byte("null\n[]\n{}"))
	f.Add([]byte(`{"v":1,"client":0,"op":"get","key":"k","invoke_us":1,"return_us":2,"status":"ok","list":[null]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		ops, err := Read("f.jsonl", bytes.NewReader(data))
		if err != nil {
			if err.Error() == errNoOps("f.jsonl").Error() {
				return
			}
			if !strings.HasPrefix(err.Error(), "f.jsonl:") {
				t.Fatalf("error without file:line: %v", err)
			}
			rest := strings.TrimPrefix(err.Error(), "f.jsonl:")
			if i := strings.IndexByte(rest, ':'); i <= 0 || strings.Trim(rest[:i], "0123456789") != "" {
				t.Fatalf("error without line: %v", err)
			}
			return
		}
		var out bytes.Buffer
		if err := Write(&out, ops); err != nil {
			t.Fatal(err)
		}
		back, err := Read("f.jsonl", &out)
		if err != nil {
			t.Fatalf("re-read: %v\n%s", err, out.String())
		}
		if len(ops) == 0 && len(back) == 0 {
			return
		}
		if !reflect.DeepEqual(back, ops) {
			t.Fatalf("round trip changed ops:\n%+v\n%+v", ops, back)
		}
	})
}
