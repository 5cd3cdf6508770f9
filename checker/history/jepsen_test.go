package history

// Tests of the Jepsen reader: the shapes it takes, the errors it names,
// fuzzing.

import (
	"bytes"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestReadJepsen(t *testing.T) {
	in := `; a Jepsen history
{:type :invoke, :f :write, :value [7 3], :time 1000, :process 0, :index 0}
{:type :invoke, :f :read, :value [7 nil], :time 2000, :process 1, :index 1}
{:type :ok, :f :write, :value [7 3], :time 3000, :process 0, :index 2}
{:type :info, :f :start-partition, :value [:isolated {"n1" #{"n2"}}], :time 3500, :process :nemesis}
{:type :ok, :f :read, :value [7 3], :time 4000, :process 1, :index 3}
{:type :invoke, :f :txn, :value [[:append "l" 1]], :time 5000, :process 2}
{:type :info, :f :txn, :value [[:append "l" 1]], :time 6000, :process 2, :error :timeout}
{:type :invoke, :f :txn, :value [[:r "l" nil]], :time 7000, :process 3}
#jepsen.history.Op{:type :ok, :f :txn, :value [[:r "l" [1]]], :time 8000, :process 3}
{:type :invoke, :f :read, :value nil, :time 9000, :process 4}
{:type :fail, :f :read, :value nil, :time 9500, :process 4, :error [:no-leader "n1"]}
{:type :invoke, :f :write, :value 9, :time 9600, :process 5}
`
	f, err := ReadJepsen("h.edn", strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	us := time.Microsecond
	want := []Op{
		{Client: 0, Kind: "set", Key: "7", Slot: -1, Value: "3", Invoke: 1 * us, Return: 3 * us, Status: OK, Result: "OK"},
		{Client: 1, Kind: "get", Key: "7", Slot: -1, Invoke: 2 * us, Return: 4 * us, Status: OK, Result: "3"},
		{Client: 2, Kind: "rpush", Key: "l", Slot: -1, Value: "1", Invoke: 5 * us, Status: Unknown, Err: ":timeout"},
		{Client: 3, Kind: "lrange", Key: "l", Slot: -1, Invoke: 7 * us, Return: 8 * us, Status: OK, List: []string{"1"}},
		{Client: 4, Kind: "get", Key: JepsenKey, Slot: -1, Invoke: 9 * us, Return: 9500, Status: Fail, Err: `[:no-leader "n1"]`},
		{Client: 5, Kind: "set", Key: JepsenKey, Slot: -1, Value: "9", Invoke: 9600, Status: Unknown},
	}
	if !reflect.DeepEqual(f.Ops, want) {
		t.Fatalf("ops:\n%+v\nwant\n%+v", f.Ops, want)
	}
	if !reflect.DeepEqual(f.Lines, []int{2, 3, 7, 9, 11, 13}) {
		t.Errorf("lines %v", f.Lines)
	}
	if len(f.Notes) != 1 || f.Notes[0].Text != `:info :start-partition [:isolated {"n1" #{"n2"}}]` || f.Notes[0].Who != ":nemesis" ||
		f.Notes[0].At != 3500 || f.Notes[0].Line != 5 {
		t.Errorf("notes %+v", f.Notes)
	}
	// One vector of ops, Knossos style, without :time.
	f, err = ReadJepsen("v.edn", strings.NewReader(`[{:type :invoke :f :write :value 1 :process 0}
 {:type :ok :f :write :value 1 :process 0}]`))
	if err != nil || len(f.Ops) != 1 || f.Ops[0].Invoke != 0 || f.Ops[0].Return != time.Microsecond || f.Lines[0] != 1 {
		t.Fatalf("vector: %+v %v", f, err)
	}
}

func TestReadJepsenErrors(t *testing.T) {
	const inv = `{:type :invoke, :f :write, :value 1, :time 1, :process 0}` + "\n"
	tests := []struct{ name, in, want string }{
		{"empty", "", "e.edn: no operations (an empty history proves nothing)"},
		{"nemesis only", `{:type :info :f :kill :process :nemesis :time 1}`, "e.edn: no operations (an empty history proves nothing)"},
		{"syntax", inv + `{:type :ok, :f :write`, `e.edn:2: "{" opened here is never closed`},
		{"odd map", inv + `{:type}`, "e.edn:2: a map with a key and no value"},
		{"not a map", inv + `[1 2]`, "e.edn:2: want an op map {:type … :process … :f …}, got [1 2]"},
		{"missing f", `{:type :invoke, :process 0, :time 1}`, "e.edn:1: :f: missing"},
		{"bad type", `{:type :maybe, :f :read, :process 0, :time 1}`, "e.edn:1: :type: unknown type :maybe (want :invoke, :ok, :fail or :info)"},
		{"repeated key", `{:type :invoke, :type :ok, :f :read, :process 0}`, "e.edn:1: :type: repeated key"},
		{"cas", `{:type :invoke, :f :cas, :value [1 2], :process 0, :time 1}`,
			"e.edn:1: :f: unsupported :cas (rcsim reads :read and :write registers and single-key :txn list-append)"},
		{"multi txn", `{:type :invoke, :f :txn, :value [[:append 1 2] [:r 1 nil]], :process 0, :time 1}`,
			"e.edn:1: :value: a transaction of 2 micro-ops: rcsim checks single-key, single micro-op ones ([[:append k v]] or [[:r k nil]]), which are single Redis commands"},
		{"orphan completion", `{:type :ok, :f :write, :value 1, :process 3, :time 1}`, "e.edn:1: :process: a :ok of process 3 with no :invoke before it"},
		{"double invoke", inv + inv, "e.edn:2: :process: process 0 invoked again before its op at line 1 completed"},
		{"f mismatch", inv + `{:type :ok, :f :read, :value 1, :time 2, :process 0}`, "e.edn:2: :f: :read completes the :write invoked at line 1"},
		{"time backwards", `{:type :invoke, :f :write, :value 1, :time 5, :process 0}` + "\n" + `{:type :ok, :f :write, :value 1, :time 2, :process 0}`,
			"e.edn:2: :time: 2ns before its invoke's 5ns"},
		{"time mixed", inv + `{:type :ok, :f :write, :value 1, :process 0}`, "e.edn:2: :time: present in some ops and not others"},
		{"float value", `{:type :invoke, :f :write, :value 1.5, :time 1, :process 0}`, "e.edn:1: :value: want an integer or a string, got 1.5"},
		{"bad string", `{:type :invoke, :f :write, :value "a\q", :time 1, :process 0}`, `e.edn:1: unknown escape \q in a string`},
		{"deep", strings.Repeat("[", 300), "e.edn:1: nested more than 200 deep"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ReadJepsen("e.edn", strings.NewReader(tc.in))
			if err == nil || err.Error() != tc.want {
				t.Fatalf("got  %v\nwant %s", err, tc.want)
			}
		})
	}
}

// FuzzReadJepsen: the Jepsen reader never panics, and every error names the
// file and, but for an empty history, the line.
func FuzzReadJepsen(f *testing.F) {
	f.Add([]byte(`{:type :invoke, :f :txn, :value [[:append 5 1]], :time 1000, :process 0}
{:type :ok, :f :txn, :value [[:append 5 1]], :time 3000, :process 0}
{:type :info, :f :start, :value #{"a" \b 1/2 1.5M 2N #inst "2020"}, :process :nemesis} ; c
#_ {:x 1} [{:type :invoke :f :read :value [1 nil] :process 1}]`))
	f.Add([]byte(`{:type :invoke, :f :read, :value nil, :process 0} {:type :ok, :f :read, :value "\u00e9", :process 0}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		file, err := ReadJepsen("f.edn", bytes.NewReader(data))
		if err != nil {
			msg := err.Error()
			if msg == errNoOps("f.edn").Error() {
				return
			}
			rest, ok := strings.CutPrefix(msg, "f.edn:")
			if i := strings.IndexByte(rest, ':'); !ok || i <= 0 || strings.Trim(rest[:i], "0123456789") != "" {
				t.Fatalf("error without file:line: %v", err)
			}
			return
		}
		if len(file.Ops) != len(file.Lines) || len(file.Ops) == 0 {
			t.Fatalf("%d ops, %d lines", len(file.Ops), len(file.Lines))
		}
		for _, op := range file.Ops {
			if op.Status != Unknown && op.Return < op.Invoke {
				t.Fatalf("return before invoke: %+v", op)
			}
		}
	})
}
