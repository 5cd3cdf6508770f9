package reports

// Reading `rcsim compare`'s output back for report.html's paired-comparison
// section: compare.json holds the statistics (medians, the median paired
// difference and its bootstrap interval) and the seeds whose verdict
// differs with their run lines; compare.csv holds the per-seed rows the
// paired figure draws. The page shows what `rcsim compare` computed, never
// a recomputation of it.

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// Compare files, as `rcsim compare` writes them.
const (
	CompareCSV  = "compare.csv"
	CompareJSON = "compare.json"
)

var compareHeader = []string{"seed", "metric", "a", "b", "diff"}

// LoadComparison reads DIR/compare.json and DIR/compare.csv; ok is false
// when DIR has no compare.json. Errors name the file and line.
func LoadComparison(dir string) (c *Comparison, ok bool, err error) {
	name := filepath.Join(dir, CompareJSON)
	b, err := os.ReadFile(name)
	if errors.Is(err, os.ErrNotExist) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	c = &Comparison{}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(c); err != nil {
		return nil, false, fmt.Errorf("%s:%d: %v", name, jsonErrorLine(b, err), err)
	}
	if c.Scenario == "" || len(c.Seeds) == 0 {
		return nil, false, fmt.Errorf("%s: no scenario or no seeds: not an rcsim compare result", name)
	}
	csvName := filepath.Join(dir, CompareCSV)
	f, err := os.Open(csvName)
	if errors.Is(err, os.ErrNotExist) {
		return nil, false, fmt.Errorf("%s: missing beside %s (its per-seed rows)", csvName, CompareJSON)
	}
	if err != nil {
		return nil, false, err
	}
	defer f.Close()
	if c.Rows, err = readPairRows(csvName, f); err != nil {
		return nil, false, err
	}
	return c, true, nil
}

// jsonErrorLine is the line of a JSON decoding error: its byte offset,
// or for an unknown field (which encoding/json reports without one) the
// field's first occurrence; 1 when neither is known.
func jsonErrorLine(b []byte, err error) int {
	var off int64
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		off = se.Offset
	case errors.As(err, &te):
		off = te.Offset
	default:
		if field, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
			off = max(0, int64(bytes.Index(b, []byte(field))))
		}
	}
	return 1 + bytes.Count(b[:min(int(off), len(b))], []byte("\n"))
}

// readPairRows reads compare.csv: seed,metric,a,b,diff with empty cells
// where a side has no value.
func readPairRows(name string, r io.Reader) ([]PairRow, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = len(compareHeader)
	head, err := cr.Read()
	if err != nil {
		return nil, fmt.Errorf("%s:1: %v", name, err)
	}
	if !slices.Equal(head, compareHeader) {
		return nil, fmt.Errorf("%s:1: header %q, want %q", name, strings.Join(head, ","), strings.Join(compareHeader, ","))
	}
	var rows []PairRow
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			return rows, nil
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %v", name, err)
		}
		line, _ := cr.FieldPos(0)
		row := PairRow{Metric: rec[1]}
		if row.Seed, err = strconv.ParseUint(rec[0], 10, 64); err != nil {
			return nil, fmt.Errorf("%s:%d: seed: want an integer, got %q", name, line, rec[0])
		}
		for i, p := range []**int64{&row.A, &row.B, &row.Diff} {
			if rec[2+i] == "" {
				continue
			}
			v, err := strconv.ParseInt(rec[2+i], 10, 64)
			if err != nil {
				return nil, fmt.Errorf("%s:%d: %s: want an integer or empty, got %q", name, line, compareHeader[2+i], rec[2+i])
			}
			*p = &v
		}
		rows = append(rows, row)
	}
}

// compareHTML is report.html's paired-comparison section: compare.json's
// statistics and verdict differences, as `rcsim compare` printed them.
const compareHTML = `{{define "compare"}}
<h2>Paired comparison: {{.A.Label}} vs {{.B.Label}} (rcsim compare)</h2>
<p class="note">{{.Scenario}}, {{len .Seeds}} seeds, each run on both sides with the same fault schedule, node IDs and client streams; diff is B − A ({{.B.Label}} minus {{.A.Label}}), its interval a seeded 95% bootstrap of the median. Times in ms.</p>
<table><tr><th>metric</th><th>pairs</th><th>only A</th><th>only B</th><th>differ</th><th>median A</th><th>median B</th><th>median B − A</th><th>95% CI of B − A</th></tr>
{{range .Metrics}}<tr><td>{{.Metric}}</td><td>{{.N}}</td><td>{{.OnlyA}}</td><td>{{.OnlyB}}</td><td>{{.Differ}}</td><td>{{pf1 .MedianA}}</td><td>{{pf1 .MedianB}}</td><td>{{pf1 .MedianDiff}}</td><td>{{if .CILow}}[{{pf1 .CILow}}, {{pf1 .CIHigh}}]{{else}}-{{end}}</td></tr>
{{end}}</table>
{{if .VerdictDiffers}}<p>Seeds whose verdict differs, with the runs that show it:</p>
<table><tr><th>seed</th><th class="text">A: {{.A.Label}}</th><th class="text">B: {{.B.Label}}</th></tr>
{{range .VerdictDiffers}}<tr><td>{{.Seed}}</td><td class="text">{{.A}}<br><code class="cmd">{{.RunA}}</code></td><td class="text">{{.B}}<br><code class="cmd">{{.RunB}}</code></td></tr>
{{end}}</table>
{{else}}<p>No seed's verdict differs.</p>{{end}}
{{end}}`
