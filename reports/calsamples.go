package reports

// Reading `rcsim calibrate`'s calibration-samples.csv: real-server and
// simulated times of each failover phase, for the latency figures' real
// points and report.html's calibration table.

import (
	"encoding/csv"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
)

// CalibrationFile is the name `rcsim calibrate` gives its samples.
const CalibrationFile = "calibration-samples.csv"

// calibrationHeader is the file's header, in order.
var calibrationHeader = []string{"server", "fault", "timeout_ms", "phase", "source", "trial", "ms"}

// CalibrationPhaseNames are the phases a sample may name, in failover order.
var CalibrationPhaseNames = []string{"pfail", "fail", "election", "promotion", "cluster_ok", "writes_resumed", "minority_write_window"}

// CalibrationSample is one row: the time of one phase in one trial, on a
// real server or in the simulator.
type CalibrationSample struct {
	Server    string // e.g. "redis-7.0.15"
	Fault     string // e.g. "master-kill"
	TimeoutMs int64
	Phase     string
	Source    string // "real" or "sim"
	Trial     int
	Ms        float64
}

// LoadCalibration reads a calibration-samples.csv strictly: a wrong
// header, field count, source, phase or number is an error naming the
// file, line and column.
func LoadCalibration(path string) ([]CalibrationSample, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return ReadCalibration(path, f)
}

// ReadCalibration is LoadCalibration from a reader; name labels errors.
func ReadCalibration(name string, r io.Reader) ([]CalibrationSample, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = len(calibrationHeader)
	head, err := cr.Read()
	if err != nil {
		return nil, fmt.Errorf("%s:1: %v", name, err)
	}
	if !slices.Equal(head, calibrationHeader) {
		return nil, fmt.Errorf("%s:1: header %q, want %q", name, strings.Join(head, ","), strings.Join(calibrationHeader, ","))
	}
	var out []CalibrationSample
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			return out, nil
		}
		line, _ := cr.FieldPos(0)
		if err != nil {
			return nil, fmt.Errorf("%s: %v", name, err)
		}
		s, err := calibrationRow(rec)
		if err != nil {
			return nil, fmt.Errorf("%s:%d: %v", name, line, err)
		}
		out = append(out, s)
	}
}

func calibrationRow(rec []string) (CalibrationSample, error) {
	s := CalibrationSample{Server: rec[0], Fault: rec[1], Phase: rec[3], Source: rec[4]}
	var err error
	if s.TimeoutMs, err = strconv.ParseInt(rec[2], 10, 64); err != nil || s.TimeoutMs <= 0 {
		return s, fmt.Errorf("timeout_ms: want a positive integer, got %q", rec[2])
	}
	if !slices.Contains(CalibrationPhaseNames, s.Phase) {
		return s, fmt.Errorf("phase: want one of %s, got %q", strings.Join(CalibrationPhaseNames, ", "), s.Phase)
	}
	if s.Source != "real" && s.Source != "sim" {
		return s, fmt.Errorf("source: want real or sim, got %q", s.Source)
	}
	if s.Trial, err = strconv.Atoi(rec[5]); err != nil || s.Trial < 0 {
		return s, fmt.Errorf("trial: want an integer >= 0, got %q", rec[5])
	}
	if s.Ms, err = strconv.ParseFloat(rec[6], 64); err != nil || s.Ms < 0 {
		return s, fmt.Errorf("ms: want a decimal >= 0, got %q", rec[6])
	}
	return s, nil
}

// CalibrationRow is one line of report.html's calibration table: one
// phase at one server, fault and timeout, real against simulated.
type CalibrationRow struct {
	Server, Fault string
	TimeoutMs     int64
	Phase         string
	Real, Sim     Quantiles
}

// Quantiles summarise float samples (ms): nearest-rank p10, median, p90.
type Quantiles struct {
	N             int
	P10, P50, P90 float64
}

func quantilesOf(xs []float64) Quantiles {
	if len(xs) == 0 {
		return Quantiles{}
	}
	xs = slices.Clone(xs)
	slices.Sort(xs)
	rank := func(p int) float64 { return xs[max(0, (p*len(xs)+99)/100-1)] }
	return Quantiles{N: len(xs), P10: rank(10), P50: rank(50), P90: rank(90)}
}

// CalibrationRows groups samples by server, fault, timeout and phase (in
// failover order).
func CalibrationRows(samples []CalibrationSample) []CalibrationRow {
	type key struct {
		server, fault string
		timeout       int64
		phase         string
	}
	var keys []key
	vals := map[key][2][]float64{}
	for _, s := range samples {
		k := key{s.Server, s.Fault, s.TimeoutMs, s.Phase}
		v, ok := vals[k]
		if !ok {
			keys = append(keys, k)
		}
		i := 0
		if s.Source == "sim" {
			i = 1
		}
		v[i] = append(v[i], s.Ms)
		vals[k] = v
	}
	slices.SortStableFunc(keys, func(a, b key) int {
		if c := strings.Compare(a.server+"\x00"+a.fault, b.server+"\x00"+b.fault); c != 0 {
			return c
		}
		if a.timeout != b.timeout {
			return int(a.timeout - b.timeout)
		}
		return slices.Index(CalibrationPhaseNames, a.phase) - slices.Index(CalibrationPhaseNames, b.phase)
	})
	var out []CalibrationRow
	for _, k := range keys {
		v := vals[k]
		out = append(out, CalibrationRow{k.server, k.fault, k.timeout, k.phase, quantilesOf(v[0]), quantilesOf(v[1])})
	}
	return out
}
