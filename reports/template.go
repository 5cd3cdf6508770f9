package reports

// pageHTML is report.html: plain HTML and CSS, no scripts, the figures as
// inline SVG, so the file opens anywhere on its own.
const pageHTML = `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>{{.Title}}</title>
<style>
body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 70em; color: #222; }
table { border-collapse: collapse; margin: 1em 0; }
th, td { border: 1px solid #ccc; padding: 0.2em 0.6em; text-align: right; }
th { background: #f3f3f3; } td:first-child, th:first-child { text-align: left; }
figure { margin: 2em 0; } figure svg { max-width: 100%; height: auto; }
pre { background: #f7f7f7; padding: 1em; overflow-x: auto; }
.bad { color: #b00; }
</style></head><body>
<h1>{{.Title}}</h1>
{{- if .Run}}{{with .Run}}
<p>Scenario <b>{{.Scenario}}</b>, seed {{.Seed}}: {{.VirtualMs}} ms of virtual time, {{.Events}} trace events,
trace_sha256 <code>{{.TraceSHA256}}</code>.</p>
<h2>Failovers (ms after the fault)</h2>
<table><tr><th>failed node</th><th>fault at (ms)</th><th>PFAIL</th><th>FAIL</th><th>election start</th><th>promoted</th><th>cluster ok</th><th>writes resumed</th><th>new master</th></tr>
{{range .Failovers}}<tr><td>{{.FailedNode}}</td><td>{{.FaultAtMs}}</td><td>{{ms .PFailMs}}</td><td>{{ms .FailMs}}</td><td>{{ms .ElectionMs}}</td><td>{{ms .PromotedMs}}</td><td>{{ms .ClusterOKMs}}</td><td>{{ms .WritesResumedMs}}</td><td>{{.PromotedNode}}</td></tr>
{{else}}<tr><td colspan="9">no failover</td></tr>{{end}}</table>
<h2>Checker verdict</h2>
<p>Linearizability: <b>{{.Check.Verdict}}</b> ({{.Check.Ops}} ops, {{.Check.Unknown}} unknown, {{.Check.Failed}} failed);
{{.Check.LostWrites}} acknowledged writes lost.</p>
<table><tr><th>expectation</th><th>want</th><th>got</th><th>held</th></tr>
{{range .Expectations}}<tr><td>{{.Name}}</td><td>{{.Want}}</td><td>{{.Got}}</td><td{{if not .OK}} class="bad"{{end}}>{{.OK}}</td></tr>{{end}}</table>
{{end}}{{else}}
<p>Scenario <b>{{.Meta.Scenario}}</b> ({{.Meta.Source}}); {{.Runs}} runs; seeds {{.SeedText}}.
{{range .Meta.Axes}}Swept <code>{{.Key}}</code> over {{range $i, $v := .Values}}{{if $i}}, {{end}}{{$v}}{{end}}. {{end}}</p>
<h2>Failover latency (ms after the crash)</h2>
<p>Nearest-rank percentiles of the first failover of each run; "never" counts runs where the step did not happen before the end.</p>
<table><tr><th rowspan="2">{{.AxisTitle}}</th><th rowspan="2">runs</th><th colspan="6">crash → promotion</th><th colspan="6">crash → writes resumed</th></tr>
<tr><th>n</th><th>never</th><th>p50</th><th>p90</th><th>p99</th><th>max</th><th>n</th><th>never</th><th>p50</th><th>p90</th><th>p99</th><th>max</th></tr>
{{range .Rows}}<tr><td>{{.Group}}</td><td>{{.Runs}}</td>{{with .Promoted}}<td>{{.N}}</td><td>{{.Missing}}</td><td>{{.P50}}</td><td>{{.P90}}</td><td>{{.P99}}</td><td>{{.Max}}</td>{{end}}{{with .WritesResumed}}<td>{{.N}}</td><td>{{.Missing}}</td><td>{{.P50}}</td><td>{{.P90}}</td><td>{{.P99}}</td><td>{{.Max}}</td>{{end}}</tr>
{{end}}</table>
<h2>Anatomy of a failover (mean ms per phase)</h2>
<table><tr><th>{{.AxisTitle}}</th><th>runs with every step</th>{{range .Phases}}<th>{{.}}</th>{{end}}</tr>
{{range .Rows}}<tr><td>{{.Group}}</td><td>{{.Anatomy.N}}</td>{{range .Anatomy.MeanMs}}<td>{{.}}</td>{{end}}</tr>
{{end}}</table>
<h2>Checker verdicts</h2>
<table><tr><th>{{.AxisTitle}}</th><th>runs</th><th>expectations held</th><th>linearizable</th><th>not linearizable</th><th>unknown</th><th>acknowledged writes lost</th><th>runs losing writes</th><th>simulator panics</th></tr>
{{range .Rows}}<tr><td>{{.Group}}</td><td>{{.Runs}}</td><td>{{.OK}}</td><td>{{index .Verdicts 0}}</td><td>{{index .Verdicts 1}}</td><td>{{index .Verdicts 2}}</td><td>{{.LostWrites}}</td><td>{{.LossyRuns}}</td><td>{{.Panics}}</td></tr>
{{end}}</table>
{{end}}
{{range .Figures}}<figure id="{{.Name}}">{{.SVG}}<figcaption>{{.Title}} ({{.Name}}.png, {{.Name}}.svg)</figcaption></figure>
{{end}}
{{- if .Failed}}
<h2>Runs whose expectations failed</h2>
<table><tr><th>run</th><th>seed</th><th>settings</th><th>what failed</th></tr>
{{range .Failed}}<tr><td>{{.Run}}</td><td>{{.Seed}}</td><td>{{settings .Settings}}</td><td>{{failed .}}</td></tr>
{{end}}</table>{{if .MoreFail}}<p>… and {{.MoreFail}} more (see runs.csv).</p>{{end}}
{{end}}
{{- if .Meta.ScenarioYAML}}
<h2>Scenario</h2>
<pre>{{.Meta.ScenarioYAML}}</pre>
{{end}}
</body></html>
`
