package reports

// Reading `rcsim compare`'s output (compare.csv, compare.json) for
// report.html's paired-comparison section: per metric the median
// difference b − a over the seeds both sides ran, and the seeds whose
// verdicts differ.

import (
	"encoding/csv"
	"encoding/json"
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

// CompareSection is what report.html shows of a paired comparison.
type CompareSection struct {
	A, B    string // the sides' labels
	Metrics []CompareMetric
	// VerdictSeeds are the seeds whose verdict differs between a and b,
	// with both verdicts.
	VerdictSeeds []SeedVerdicts
}

// CompareMetric is one numeric metric over the paired seeds.
type CompareMetric struct {
	Metric     string
	N          int     // seeds where both sides have a value
	MedianDiff float64 // median of b − a
	Missing    int     // seeds where a side has none
}

// SeedVerdicts is a seed whose verdict differs.
type SeedVerdicts struct {
	Seed uint64
	A, B string
}

// LoadComparison reads DIR/compare.csv and DIR/compare.json; ok is false
// when DIR has no compare.csv. Errors name the file and line.
func LoadComparison(dir string) (c *CompareSection, ok bool, err error) {
	f, err := os.Open(filepath.Join(dir, CompareCSV))
	if os.IsNotExist(err) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	defer f.Close()
	c = &CompareSection{A: "a", B: "b"}
	if b, err := os.ReadFile(filepath.Join(dir, CompareJSON)); err == nil {
		var labels struct {
			A struct{ Label string } `json:"a"`
			B struct{ Label string } `json:"b"`
		}
		if err := json.Unmarshal(b, &labels); err != nil {
			return nil, false, fmt.Errorf("%s: %v", filepath.Join(dir, CompareJSON), err)
		}
		c.A, c.B = cmpOrString(labels.A.Label, "a"), cmpOrString(labels.B.Label, "b")
	}
	if err := c.read(filepath.Join(dir, CompareCSV), f); err != nil {
		return nil, false, err
	}
	return c, true, nil
}

func cmpOrString(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// read fills c from compare.csv.
func (c *CompareSection) read(name string, r io.Reader) error {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = len(compareHeader)
	head, err := cr.Read()
	if err != nil {
		return fmt.Errorf("%s:1: %v", name, err)
	}
	if !slices.Equal(head, compareHeader) {
		return fmt.Errorf("%s:1: header %q, want %q", name, strings.Join(head, ","), strings.Join(compareHeader, ","))
	}
	diffs := map[string][]float64{}
	missing := map[string]int{}
	var order []string
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		line, _ := cr.FieldPos(0)
		if err != nil {
			return fmt.Errorf("%s: %v", name, err)
		}
		seed, err := strconv.ParseUint(rec[0], 10, 64)
		if err != nil {
			return fmt.Errorf("%s:%d: seed: want an integer, got %q", name, line, rec[0])
		}
		m := rec[1]
		if m == "verdict" {
			if rec[2] != rec[3] {
				c.VerdictSeeds = append(c.VerdictSeeds, SeedVerdicts{seed, rec[2], rec[3]})
			}
			continue
		}
		if _, seen := diffs[m]; !seen && missing[m] == 0 {
			order = append(order, m)
		}
		if rec[4] == "" {
			missing[m]++
			continue
		}
		d, err := strconv.ParseFloat(rec[4], 64)
		if err != nil {
			return fmt.Errorf("%s:%d: diff: want a number or empty, got %q", name, line, rec[4])
		}
		diffs[m] = append(diffs[m], d)
	}
	for _, m := range order {
		q := quantilesOf(diffs[m])
		c.Metrics = append(c.Metrics, CompareMetric{Metric: m, N: q.N, MedianDiff: q.P50, Missing: missing[m]})
	}
	return nil
}

// compareHTML is report.html's paired-comparison section.
const compareHTML = `{{define "compare"}}
<h2>Paired comparison: {{.A}} vs {{.B}} (rcsim compare)</h2>
<p class="note">Each seed run on both sides; diff is b − a ({{.B}} minus {{.A}}).</p>
<table><tr><th>metric</th><th>seeds with both</th><th>median diff</th><th>seeds missing a side</th></tr>
{{range .Metrics}}<tr><td>{{.Metric}}</td><td>{{.N}}</td><td>{{f1 .MedianDiff}}</td><td>{{.Missing}}</td></tr>
{{end}}</table>
{{if .VerdictSeeds}}<p>Seeds whose verdict differs:</p>
<table><tr><th>seed</th><th>{{.A}}</th><th>{{.B}}</th></tr>
{{range .VerdictSeeds}}<tr><td>{{.Seed}}</td><td>{{.A}}</td><td>{{.B}}</td></tr>{{end}}</table>
{{else}}<p>No seed's verdict differs.</p>{{end}}
{{end}}`
