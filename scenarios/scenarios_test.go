// Tests for loading: bad files name their line, built-ins parse, Set
// re-validates, and Marshal round-trips through Parse.
package scenarios

import (
	"bufio"
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

// TestBadFiles checks each testdata/bad file fails with the message its
// first line promises ("# want: <substring>").
func TestBadFiles(t *testing.T) {
	files, err := filepath.Glob("testdata/bad/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no bad files: %v", err)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			first, _, _ := bytes.Cut(data, []byte("\n"))
			want, ok := strings.CutPrefix(string(first), "# want: ")
			if !ok {
				t.Fatalf("first line %q lacks '# want: '", first)
			}
			s, err := Load(f)
			if err == nil {
				t.Fatalf("parsed: %+v", s)
			}
			if !strings.Contains(err.Error(), want) {
				t.Errorf("error\n%v\ndoes not contain\n%s", err, want)
			}
			var e *Error
			if !errors.As(err, &e) {
				t.Errorf("error is %T, not *Error", err)
			}
			checkLines(t, f, err)
		})
	}
}

// checkLines asserts every line of err starts with "name:<line>:".
func checkLines(t *testing.T, name string, err error) {
	t.Helper()
	sc := bufio.NewScanner(strings.NewReader(err.Error()))
	for sc.Scan() {
		rest, ok := strings.CutPrefix(sc.Text(), name+":")
		digits := len(rest) - len(strings.TrimLeft(rest, "0123456789"))
		if !ok || digits == 0 || !strings.HasPrefix(rest[digits:], ": ") {
			t.Errorf("line %q does not start with %q:<line>: ", sc.Text(), name)
		}
	}
}

func TestManyProblemsCollectedInLineOrder(t *testing.T) {
	_, err := Load("testdata/bad/many-problems.yaml")
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("got %v", err)
	}
	if len(e.Problems) != 3 {
		t.Fatalf("want 3 problems (name, duration, masters), got:\n%v", err)
	}
	for i := 1; i < len(e.Problems); i++ {
		if e.Problems[i-1].Line > e.Problems[i].Line {
			t.Errorf("not sorted by line:\n%v", err)
		}
	}
}

func TestBuiltins(t *testing.T) {
	names := BuiltinNames()
	for _, want := range []string{"master-crash", "minority-partition", "no-faults"} {
		if _, err := Builtin(want); err != nil {
			t.Errorf("Builtin(%q): %v", want, err)
		}
	}
	for i, n := range names {
		if i > 0 && names[i-1] >= n {
			t.Errorf("BuiltinNames not sorted: %v", names)
		}
		s, err := Builtin(n)
		if err != nil {
			t.Errorf("%s: %v", n, err)
			continue
		}
		if s.Name != n || s.File != "library/"+n+".yaml" || s.Description == "" {
			t.Errorf("%s: name %q file %q description %q", n, s.Name, s.File, s.Description)
		}
		roundTrip(t, s)
	}
	if _, err := Builtin("nope"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Builtin(nope) = %v, want ErrNotFound", err)
	}
}

func TestMasterCrashContents(t *testing.T) {
	s, err := Resolve("master-crash")
	if err != nil {
		t.Fatal(err)
	}
	c := s.Cluster
	if c.Masters != 3 || c.ReplicasPerMaster != 1 || c.Config.NodeTimeoutMs != 5000 || c.Config.ReplicaValidityFactor != 10 {
		t.Errorf("cluster %+v", c)
	}
	if l := s.Network.Latency; l.Dist != "lognormal" || l.Median != 200*time.Microsecond || l.P99 != 2*time.Millisecond {
		t.Errorf("latency %+v", l)
	}
	if w := s.Workload; w.Kind != "register" || w.Clients != 4 || w.Rate != 200 || w.Keys != 100 || w.Timeout != time.Second {
		t.Errorf("workload %+v", w)
	}
	if len(s.Faults) != 2 || s.Faults[0].Kind != Crash || *s.Faults[0].Target.MasterOfSlot != 0 ||
		!s.Faults[0].Persist || s.Faults[1].Kind != Restart || !s.Faults[1].Target.Crashed ||
		s.Faults[1].At != 40*time.Second || s.Faults[0].Line != 21 {
		t.Errorf("faults %+v", s.Faults)
	}
	if e := s.Expect; *e.FailoverWithin != 10*time.Second || *e.ConvergedWithin != 10*time.Second ||
		!*e.ClusterOK || e.Linearizable != nil {
		t.Errorf("expect %+v", e)
	}
}

func TestResolve(t *testing.T) {
	if _, err := Resolve("testdata/good/aliases.yaml"); err != nil {
		t.Error(err)
	}
	if _, err := Resolve("missing.yaml"); err == nil || errors.Is(err, ErrNotFound) {
		t.Errorf("missing.yaml: %v", err)
	}
	if _, err := Resolve("no-such-scenario"); !errors.Is(err, ErrNotFound) {
		t.Errorf("no-such-scenario: %v", err)
	}
}

func TestGoodFile(t *testing.T) {
	s, err := Load("testdata/good/aliases.yaml")
	if err != nil {
		t.Fatal(err)
	}
	c := s.Cluster.Config
	if c.ReplicaValidityFactor != 0 || !c.ReplicaNoFailover || c.ReplPingReplicaPeriodS != 1 ||
		c.MinReplicasToWrite != 1 || c.AllowReplicaMigration {
		t.Errorf("config %+v", c)
	}
	if s.Workload.Rate != 1000 || s.Workload.Kind != "counter" || s.Seed != 7 || !s.Bugs.GrantTwoVotesPerEpoch {
		t.Errorf("scenario %+v", s)
	}
	// Sorted stably by At: the heal at 5s comes first, the two 20s faults keep file order.
	var kinds []FaultKind
	for _, f := range s.Faults {
		kinds = append(kinds, f.Kind)
	}
	if !reflect.DeepEqual(kinds, []FaultKind{Heal, Crash, Partition, Restart}) {
		t.Errorf("kinds %v", kinds)
	}
	if g := s.Faults[2].Groups; len(g) != 2 || !g[1][0].Rest || g[0][0].ReplicaOf == nil || *g[0][0].ReplicaOf.MasterOfSlot != 100 {
		t.Errorf("groups %+v", g)
	}
	roundTrip(t, s)
}

func TestSet(t *testing.T) {
	s, err := Builtin("master-crash")
	if err != nil {
		t.Fatal(err)
	}
	for _, kv := range [][2]string{
		{"cluster-node-timeout", "1000"}, {"masters", "5"}, {"replicas-per-master", "2"},
		{"duration", "45s"}, {"workload.clients", "8"}, {"network.latency.median", "1ms"},
		{"cluster-slave-validity-factor", "0"}, {"cluster.config.repl-ping-slave-period", "2"},
		{"expect.max-lost-writes", "3"}, {"x-bugs.grant-two-votes-per-epoch", "true"},
		{"workload.rate", "500/s"}, {"network.latency", "{dist: constant, value: 1ms}"},
		{"network.loss", "2%"}, {"network.bandwidth", "1MB/s"}, {"faults[1].at", "35s"},
	} {
		if err := s.Set(kv[0], kv[1]); err != nil {
			t.Errorf("Set(%s, %s): %v", kv[0], kv[1], err)
		}
	}
	c := s.Cluster
	if c.Config.NodeTimeoutMs != 1000 || c.Masters != 5 || c.ReplicasPerMaster != 2 || s.Duration != 45*time.Second ||
		s.Workload.Clients != 8 || c.Config.ReplicaValidityFactor != 0 || c.Config.ReplPingReplicaPeriodS != 2 ||
		*s.Expect.MaxLostWrites != 3 || !s.Bugs.GrantTwoVotesPerEpoch || s.Workload.Rate != 500 ||
		s.Network.Latency != (Latency{Dist: "constant", Value: time.Millisecond}) ||
		s.Network.Loss != (Ratio{2, 100}) || s.Network.Bandwidth != 1_000_000 || s.Faults[1].At != 35*time.Second {
		t.Errorf("after Set: %+v", s)
	}
	if s.File != "library/master-crash.yaml" || s.Faults[0].Line != 21 {
		t.Errorf("Set lost File or Line: %q %d", s.File, s.Faults[0].Line)
	}
	before := *s
	for _, kv := range [][2]string{
		{"duration", "30s"}, // the restart at 40s would be after the end
		{"masters", "0"}, {"nope", "1"}, {"workload.nope", "1"}, {"cluster-node-timeout", "-5"},
		{"faults.at", "1s"}, {"network.latency.median", "[1"}, {"network.loss", "2"},
		{"faults[5].at", "1s"}, {"faults[x].at", "1s"}, {"workload[0]", "1"},
	} {
		if err := s.Set(kv[0], kv[1]); err == nil {
			t.Errorf("Set(%s, %s) succeeded", kv[0], kv[1])
		}
	}
	if !reflect.DeepEqual(before, *s) {
		t.Errorf("failed Set changed the scenario")
	}
}

// roundTrip checks Parse(Marshal(s)) equals s but for File and Lines.
func roundTrip(t interface {
	Helper()
	Fatalf(string, ...any)
}, s *Scenario) {
	t.Helper()
	data, err := Marshal(s)
	if err != nil {
		t.Fatalf("Marshal: %v", err)
	}
	got, err := Parse("marshalled.yaml", data)
	if err != nil {
		t.Fatalf("Parse(Marshal(s)): %v\n%s", err, data)
	}
	want := *s
	want.File = got.File
	want.Faults = append([]Fault(nil), s.Faults...)
	for i := range want.Faults {
		want.Faults[i].Line = got.Faults[i].Line
	}
	want.Admin = append([]AdminStep(nil), s.Admin...)
	for i := range want.Admin {
		want.Admin[i].Line = got.Admin[i].Line
	}
	if !reflect.DeepEqual(&want, got) {
		t.Fatalf("round trip differs:\nwant %+v\n got %+v\n%s", want, *got, data)
	}
}

// TestFaultsFile checks every network setting and fault kind parses into
// the values the file spells, and round-trips.
func TestFaultsFile(t *testing.T) {
	s, err := Load("testdata/good/faults.yaml")
	if err != nil {
		t.Fatal(err)
	}
	nw := s.Network
	if nw.Loss != (Ratio{5, 1000}) || nw.Bandwidth != 125_000_000 || len(nw.Links) != 2 {
		t.Errorf("network %+v", nw)
	}
	l0, l1 := nw.Links[0], nw.Links[1]
	if !reflect.DeepEqual(l0.From, []string{"m0r0", "m0r1"}) || !reflect.DeepEqual(l0.To, []string{"rest"}) ||
		l0.Directed || l0.Latency == nil || l0.Latency.Max != 2*time.Millisecond || l0.Loss != nil || l0.Bandwidth != nil {
		t.Errorf("links[0] %+v", l0)
	}
	if !l1.Directed || *l1.Loss != (Ratio{1, 1000}) || *l1.Bandwidth != 0 || l1.Latency != nil {
		t.Errorf("links[1] %+v", l1)
	}
	var kinds []FaultKind
	for _, f := range s.Faults {
		kinds = append(kinds, f.Kind)
	}
	want := []FaultKind{OneWay, Flap, End, Loss, Heal, Reset, Pause, Resume, Slow, Clock, Clock, End, Crash}
	if !reflect.DeepEqual(kinds, want) {
		t.Fatalf("kinds %v, want %v", kinds, want)
	}
	f := s.Faults
	checks := []struct {
		name string
		ok   bool
	}{
		{"one-way", *f[0].From[0].MasterOfSlot == 0 && f[0].To[0].Rest && f[0].For == 2*time.Second},
		{"flap", f[1].ID == "wobble" && f[1].Period == time.Second && f[1].DutyPct == 25 && f[1].Directed && len(f[1].From) == 2},
		{"end", f[2].EndID == "wobble"},
		{"loss", f[3].From[0].AnyMaster && f[3].Ratio == Ratio{20, 100} && !f[3].Directed},
		{"reset", f[5].From[0].Name == "m2" && len(f[5].To) == 2},
		{"pause", f[6].Target.Random},
		{"resume", f[7].Target.Paused},
		{"slow", *f[8].Target.ReplicaOf.MasterOfSlot == 16383 && f[8].Delay == 3*time.Millisecond && f[8].For == 5*time.Second},
		{"clock jump", f[9].Jump == -2*time.Second && f[9].Target.Name == "m1r1"},
		{"clock drift", f[10].DriftPct == -10 && f[10].ID == "drift"},
		{"crash", f[12].Target.AnyMaster && !f[12].Persist && f[12].For == 4*time.Second},
	}
	for _, c := range checks {
		if !c.ok {
			t.Errorf("%s: %+v", c.name, f)
		}
	}
	roundTrip(t, s)
}

// TestMastersTarget: {masters: …} reads as a count or a percentage, writes
// back the same way, and --set sweeps it.
func TestMastersTarget(t *testing.T) {
	s, err := Builtin("mass-failure-small")
	if err != nil {
		t.Fatal(err)
	}
	if got := s.Faults[0].Target; got.Masters == nil || *got.Masters != (Share{Count: 3}) || got.String() != "{masters: 3}" {
		t.Fatalf("target %+v", got)
	}
	for _, v := range []string{"30%", "5", "100%"} {
		if err := s.Set("faults[0].crash.masters", v); err != nil {
			t.Fatalf("set %s: %v", v, err)
		}
		if got := s.Faults[0].Target.Masters.String(); got != v {
			t.Errorf("set %s: got %s", v, got)
		}
	}
	if err := s.Set("faults[0].crash.masters", "0%"); err == nil {
		t.Error("0% accepted")
	}
	for _, c := range []struct {
		share   Share
		n, want int
	}{{Share{Percent: 10}, 1000, 100}, {Share{Percent: 10}, 4, 1}, {Share{Percent: 50}, 5, 3}, {Share{Count: 3}, 2, 2}, {Share{Count: 3}, 0, 0}} {
		if got := c.share.Of(c.n); got != c.want {
			t.Errorf("%s of %d = %d, want %d", c.share, c.n, got, c.want)
		}
	}
}

// TestLoadRefusesHugeFiles: a file over MaxFileBytes (a 5 MiB faults list,
// or /dev/zero, which never ends) is refused after reading the limit.
func TestLoadRefusesHugeFiles(t *testing.T) {
	var b strings.Builder
	b.WriteString("name: big\ndescription: many faults\nduration: 60s\ncluster: {masters: 3}\nfaults:\n")
	for b.Len() <= MaxFileBytes+1<<20 {
		b.WriteString("  - {at: 10s, crash: m0}\n")
	}
	big := filepath.Join(t.TempDir(), "big.yaml")
	if err := os.WriteFile(big, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{big, "/dev/zero"} {
		_, err := Load(path)
		if want := path + ": larger than 4 MiB, the limit for a scenario file"; err == nil || err.Error() != want {
			t.Errorf("Load(%s): %v, want %q", path, err, want)
		}
	}
}

// TestReplBacklogSizeUnits: repl-backlog-size takes bytes with redis.conf's
// memory units (memtoull: k, m, g are powers of 1000, kb, mb, gb of 1024, any
// case), defaults to 1mb, and names the file, line and field when wrong.
func TestReplBacklogSizeUnits(t *testing.T) {
	if got := Default().Cluster.Config.ReplBacklogSize; got != 1<<20 {
		t.Errorf("default %d, want 1mb", got)
	}
	for _, c := range []struct {
		value string
		want  int64
		err   string
	}{
		{"1048576", 1 << 20, ""}, {"1mb", 1 << 20, ""}, {"1MB", 1 << 20, ""}, {"512kb", 512 << 10, ""},
		{"100k", 100000, ""}, {"2m", 2000000, ""}, {"1gb", 1 << 30, ""}, {"3g", 3000000000, ""},
		{"16b", 16, ""}, {"1", 1, ""},
		{"0", 0, "z.yaml:4: cluster.config.repl-backlog-size: must be at least 1 byte"},
		{"-1mb", 0, "want a size in bytes like 1048576, 1mb or 512kb"},
		{"1tb", 0, "want a size in bytes"}, {"1.5mb", 0, "want a size in bytes"}, {"[1]", 0, "want a size in bytes"},
		{"9223372036854775807gb", 0, "must be at most 9223372036854775807 bytes"},
	} {
		src := "name: z\ndescription: d\nduration: 1s\ncluster: {config: {repl-backlog-size: " + c.value + "}}\n"
		s, err := Parse("z.yaml", []byte(src))
		switch {
		case c.err == "" && err != nil:
			t.Errorf("%s: %v", c.value, err)
		case c.err == "" && s.Cluster.Config.ReplBacklogSize != c.want:
			t.Errorf("%s: %d bytes, want %d", c.value, s.Cluster.Config.ReplBacklogSize, c.want)
		case c.err != "" && (err == nil || !strings.Contains(err.Error(), c.err)):
			t.Errorf("%s: error %v, want %q", c.value, err, c.err)
		}
	}
	s, _ := Builtin("master-crash")
	if err := s.Set("repl-backlog-size", "64kb"); err != nil || s.Cluster.Config.ReplBacklogSize != 64<<10 {
		t.Errorf("Set repl-backlog-size=64kb: %v, %d", err, s.Cluster.Config.ReplBacklogSize)
	}
}
