package sweep

// The files of a sweep directory: sweep.json (the Spec), runs.jsonl (one
// Record a line) and runs.csv (the same, flattened for spreadsheets).

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"

	"github.com/rcsim/rcsim/checker"
)

// File names inside a sweep directory.
const (
	SpecFile = "sweep.json"
	RunsFile = "runs.jsonl"
	CSVFile  = "runs.csv"
)

// Record is one run of a sweep, a line of runs.jsonl: the run's index, the
// checker's summary (with the run's settings), the total virtual time a
// partition was in force, and the panic if the simulator failed.
type Record struct {
	Run int `json:"run"`
	checker.Summary
	PartitionMs int64  `json:"partition_ms"`
	Panic       string `json:"panic,omitempty"`
	// Stopped is "event limit" when the run reached Spec.MaxEvents before
	// its end: the record covers only part of the run.
	Stopped string `json:"stopped,omitempty"`
}

// specFile is sweep.json: the Spec, and the shard when the directory holds
// one (a merge writes none, like the unsharded sweep).
type specFile struct {
	Spec
	Shard *Shard `json:"shard,omitempty"`
}

func writeSpec(dir string, sp Spec, sh Shard) error {
	f := specFile{Spec: sp}
	if sh.Count > 1 {
		f.Shard = &sh
	}
	b, err := json.MarshalIndent(f, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, SpecFile), append(b, '\n'), 0o644)
}

// ReadSpec reads DIR/sweep.json.
func ReadSpec(dir string) (Spec, Shard, error) {
	path := filepath.Join(dir, SpecFile)
	b, err := os.ReadFile(path)
	if err != nil {
		return Spec{}, Shard{}, err
	}
	var f specFile
	if err := json.Unmarshal(b, &f); err != nil {
		return Spec{}, Shard{}, fmt.Errorf("%s: %v", path, err)
	}
	if f.Version != FormatVersion {
		return Spec{}, Shard{}, fmt.Errorf("%s: version %d, this rcsim reads %d", path, f.Version, FormatVersion)
	}
	var sh Shard
	if f.Shard != nil {
		sh = *f.Shard
	}
	return f.Spec, sh, nil
}

// sameSpec compares two specs by their JSON, the form they are stored in.
func sameSpec(a, b Spec) bool {
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	return bytes.Equal(ja, jb)
}

// line is one record as stored: its index and its exact JSON bytes.
type line struct {
	run  int
	seed uint64
	json []byte
}

// readRuns reads DIR/runs.jsonl up to its last complete, well-formed line:
// an interrupted sweep may have left half a line, at the end only. It
// returns the lines and the byte length they cover. A missing file is no
// lines; a malformed line with records after it is an error (the file was
// damaged, not interrupted), naming the line.
func readRuns(path string) ([]line, int64, error) {
	f, err := os.Open(path)
	if os.IsNotExist(err) {
		return nil, 0, nil
	}
	if err != nil {
		return nil, 0, err
	}
	defer f.Close()
	r := bufio.NewReaderSize(f, 1<<20)
	var out []line
	var good int64
	torn := 0 // the number of a malformed line, if one was seen
	for n := 1; ; n++ {
		b, err := r.ReadBytes('\n')
		if err == io.EOF {
			return out, good, nil // a last line without its newline is cut off
		}
		if err != nil {
			return nil, 0, err
		}
		var head struct {
			Run  *int    `json:"run"`
			Seed *uint64 `json:"seed"`
		}
		ok := json.Unmarshal(b, &head) == nil && head.Run != nil && head.Seed != nil
		switch {
		case torn > 0 && len(bytes.TrimSpace(b)) > 0:
			return nil, 0, fmt.Errorf("%s:%d: a malformed record with more records after it: the file is damaged, not "+
				"interrupted (remove or mend line %d to rerun that run)", path, torn, torn)
		case !ok:
			torn = n // a torn last write is cut off; anything after it is an error
		default:
			out = append(out, line{run: *head.Run, seed: *head.Seed, json: bytes.TrimSuffix(b, []byte("\n"))})
			good += int64(len(b))
		}
	}
}

// checkSeed refuses a record whose seed is not the one its run index has.
func (sp Spec) checkSeed(path string, l line) error {
	if want := sp.Seed(l.run); l.seed != want {
		return fmt.Errorf("%s: run %d has seed %d, but run %d of this sweep has seed %d", path, l.run, l.seed, l.run, want)
	}
	return nil
}

// csvHeader names runs.csv's columns: the run, the seed, one column per
// axis, the verdict and the first failover's steps (ms after the fault).
func csvHeader(sp Spec) []string {
	h := []string{"run", "seed"}
	for _, a := range sp.Axes {
		h = append(h, a.Key)
	}
	return append(h, "ok", "verdict", "ops", "unknown", "failed", "lost_writes", "partition_ms", "failovers",
		"failed_node", "fault_at_ms", "pfail_ms", "fail_ms", "election_ms", "promoted_ms", "cluster_ok_ms",
		"writes_resumed_ms", "promoted_node", "trace_sha256", "panic")
}

// csvRow flattens r in csvHeader's order; a step that never happened is
// an empty cell.
func csvRow(sp Spec, r Record) []string {
	row := []string{strconv.Itoa(r.Run), strconv.FormatUint(r.Seed, 10)}
	for _, a := range sp.Axes {
		row = append(row, r.Settings[a.Key])
	}
	c := r.Check
	row = append(row, strconv.FormatBool(r.OK), string(c.Verdict), strconv.Itoa(c.Ops), strconv.Itoa(c.Unknown),
		strconv.Itoa(c.Failed), strconv.Itoa(c.LostWrites), strconv.FormatInt(r.PartitionMs, 10),
		strconv.Itoa(len(r.Failovers)))
	var f checker.Failover
	if len(r.Failovers) > 0 {
		f = r.Failovers[0]
	}
	opt := func(p *int64) string {
		if p == nil {
			return ""
		}
		return strconv.FormatInt(*p, 10)
	}
	fault := ""
	if f.FailedNode != "" {
		fault = strconv.FormatInt(f.FaultAtMs, 10)
	}
	return append(row, f.FailedNode, fault, opt(f.PFailMs), opt(f.FailMs), opt(f.ElectionMs), opt(f.PromotedMs),
		opt(f.ClusterOKMs), opt(f.WritesResumedMs), f.PromotedNode, r.TraceSHA256, r.Panic)
}

// writeAll writes runs.jsonl and runs.csv from lines sorted by run index,
// each through a temporary file renamed into place.
func writeAll(dir string, sp Spec, lines []line) error {
	var jb, cb bytes.Buffer
	cw := csv.NewWriter(&cb)
	if err := cw.Write(csvHeader(sp)); err != nil {
		return err
	}
	for _, l := range lines {
		var r Record
		if err := json.Unmarshal(l.json, &r); err != nil {
			return fmt.Errorf("%s: run %d: %v", RunsFile, l.run, err)
		}
		jb.Write(l.json)
		jb.WriteByte('\n')
		if err := cw.Write(csvRow(sp, r)); err != nil {
			return err
		}
	}
	cw.Flush()
	if err := replace(filepath.Join(dir, RunsFile), jb.Bytes()); err != nil {
		return err
	}
	return replace(filepath.Join(dir, CSVFile), cb.Bytes())
}

// replace writes data to path through a temporary file and a rename, so a
// reader never sees half of it.
func replace(path string, data []byte) error {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}
