package scenarios

import (
	"testing"
	"time"
)

// TestWorkloadKeys: every workload key is read into the schema, and the
// defaults are uniform keys, no WAIT and reads from masters.
func TestWorkloadKeys(t *testing.T) {
	s, err := Load("testdata/good/workload.yaml")
	if err != nil {
		t.Fatal(err)
	}
	want := Workload{Kind: "list", Clients: 6, Rate: 500, Keys: 50, Timeout: 750 * time.Millisecond,
		ReadRatio: 30, Distribution: "zipf", ZipfMilli: 1250, Wait: 2, ReadFromReplicas: true}
	if s.Workload != want {
		t.Errorf("workload %+v, want %+v", s.Workload, want)
	}
	roundTrip(t, s)
	d := Default().Workload
	if d.Distribution != "uniform" || d.ZipfMilli != 0 || d.Wait != 0 || d.ReadFromReplicas {
		t.Errorf("defaults %+v", d)
	}
}

// TestZipfExponentDefault: distribution zipf without an exponent is s = 1.
func TestZipfExponentDefault(t *testing.T) {
	s, err := Parse("z.yaml", []byte("name: z\ndescription: d\nduration: 1s\nworkload: {kind: register, distribution: zipf}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if s.Workload.ZipfMilli != 1000 {
		t.Errorf("zipf exponent %d/1000, want 1000", s.Workload.ZipfMilli)
	}
}

// TestFmtMilli: thousandths are written as the shortest decimal that
// parses back to them.
func TestFmtMilli(t *testing.T) {
	for x, want := range map[int]string{1000: "1", 1200: "1.2", 1250: "1.25", 1: "0.001", 10000: "10"} {
		if got := fmtMilli(x); got != want {
			t.Errorf("fmtMilli(%d) = %q, want %q", x, got, want)
		}
	}
}
