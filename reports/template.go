package reports

// pageHTML is report.html: plain HTML and CSS, no scripts, the figures as
// inline SVG, so the file opens anywhere on its own. The page uses the
// window's whole width; figures scale to it.
const pageHTML = `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}}</title>
<style>
body { font-family: system-ui, sans-serif; margin: 1.5em 2em; color: #222; }
table { border-collapse: collapse; margin: 1em 0; }
th, td { border: 1px solid #ccc; padding: 0.2em 0.6em; text-align: right; vertical-align: top; }
th { background: #f3f3f3; } td:first-child, th:first-child { text-align: left; }
td.text, th.text { text-align: left; }
figure { margin: 2em 0; width: 100%; } figure svg { width: 100%; height: auto; display: block; }
figcaption { color: #555; font-size: 0.9em; }
pre, code.cmd { background: #f7f7f7; } pre { padding: 1em; overflow-x: auto; }
code.cmd { display: inline-block; padding: 0.1em 0.4em; white-space: pre-wrap; overflow-wrap: break-word; }
.bad { color: #b00; } .few { color: #a60; } .note { color: #555; font-size: 0.9em; }
details { margin: 0.5em 0; } summary { cursor: pointer; }
</style></head><body>
<h1>{{.Title}}</h1>
{{- if .Run}}{{with .Run}}
<p>Scenario <b>{{.Scenario}}</b>, seed {{.Seed}}: {{.VirtualMs}} ms of virtual time, {{.Events}} trace events,
trace_sha256 <code>{{.TraceSHA256}}</code>.</p>
{{end}}<p>Reproduce: <code class="cmd">{{.RunCommand}}</code></p>{{with .Run}}
<h2>Failovers (ms after the fault)</h2>
<table><tr><th>failed node</th><th>fault at (ms)</th><th>PFAIL</th><th>FAIL</th><th>election start</th><th>promoted</th><th>cluster ok</th><th>writes resumed</th><th>new master</th></tr>
{{range .Failovers}}<tr><td>{{.FailedNode}}</td><td>{{.FaultAtMs}}</td><td>{{ms .PFailMs}}</td><td>{{ms .FailMs}}</td><td>{{ms .ElectionMs}}</td><td>{{ms .PromotedMs}}</td><td>{{ms .ClusterOKMs}}</td><td>{{ms .WritesResumedMs}}</td><td>{{.PromotedNode}}</td></tr>
{{else}}<tr><td colspan="9">no failover</td></tr>{{end}}</table>
<h2>Checker verdict</h2>
<p>Linearizability: <b>{{.Check.Verdict}}</b> ({{.Check.Ops}} ops, {{.Check.Unknown}} unknown, {{.Check.Failed}} failed);
{{.Check.LostWrites}} acknowledged writes lost; {{len .Invariants}} invariants broken.</p>
{{if .Downtime}}<table><tr><th>shard</th><th>client-observed downtime (ms)</th><th>of which CLUSTERDOWN (ms)</th></tr>
{{range .Downtime}}<tr><td>{{.Shard}}</td><td>{{.DowntimeMs}}</td><td>{{.ClusterDownMs}}</td></tr>{{end}}</table>{{end}}
<table><tr><th>expectation</th><th>want</th><th>got</th><th>held</th></tr>
{{range .Expectations}}<tr><td>{{.Name}}</td><td>{{.Want}}</td><td class="text">{{.Got}}</td><td{{if not .OK}} class="bad"{{end}}>{{.OK}}</td></tr>{{end}}</table>
{{if .Invariants}}<h3>Invariants broken</h3><ul>{{range .Invariants}}<li>{{.String}}</li>{{end}}</ul>{{end}}
{{end}}{{else}}
<p>Scenario <b>{{.Meta.Scenario}}</b> ({{.Meta.Source}}); {{.Runs}} runs; seeds {{.SeedText}}.
{{range .Meta.Axes}}{{if gt (len .Values) 1}}Swept <code>{{.Key}}</code> over {{range $i, $v := .Values}}{{if $i}}, {{end}}{{$v}}{{end}}. {{end}}{{end}}
{{if .Fixed}}Held at <code>{{.Fixed}}</code>.{{end}}</p>
<h2>Failover latency (ms after the crash)</h2>
<p class="note">Nearest-rank percentiles of the first failover of each run; "never" counts runs where the step did not happen before the end.
{{if .FewRuns}}<span class="few">*</span> marks a p90 over fewer than 10 runs or a p99 over fewer than 100: with so few runs it is the largest value seen (or close to it), not an estimate of the tail.{{end}}</p>
<table><tr><th rowspan="2">{{.AxisTitle}}</th><th rowspan="2">runs</th><th colspan="7">crash → promotion</th><th colspan="7">crash → writes resumed</th></tr>
<tr><th>n</th><th>never</th><th>p10</th><th>p50</th><th>p90</th><th>p99</th><th>max</th><th>n</th><th>never</th><th>p10</th><th>p50</th><th>p90</th><th>p99</th><th>max</th></tr>
{{range .Rows}}<tr><td>{{.Group}}</td><td>{{.Runs}}</td>{{with .Promoted}}<td>{{.N}}</td><td>{{.Missing}}</td><td>{{.P10}}</td><td>{{.P50}}</td><td>{{.P90}}{{if few .N 10}}<span class="few">*</span>{{end}}</td><td>{{.P99}}{{if few .N 100}}<span class="few">*</span>{{end}}</td><td>{{.Max}}</td>{{end}}{{with .WritesResumed}}<td>{{.N}}</td><td>{{.Missing}}</td><td>{{.P10}}</td><td>{{.P50}}</td><td>{{.P90}}{{if few .N 10}}<span class="few">*</span>{{end}}</td><td>{{.P99}}{{if few .N 100}}<span class="few">*</span>{{end}}</td><td>{{.Max}}</td>{{end}}</tr>
{{end}}</table>
<h2>Anatomy of a failover (mean ms per phase)</h2>
<table><tr><th>{{.AxisTitle}}</th><th>runs with every step</th>{{range .Phases}}<th>{{.}}</th>{{end}}</tr>
{{range .Rows}}<tr><td>{{.Group}}</td><td>{{.Anatomy.N}}</td>{{range .Anatomy.MeanMs}}<td>{{.}}</td>{{end}}</tr>
{{end}}</table>
{{if .Shards}}<h2>Client-observed downtime per shard (ms)</h2>
<p class="note">Per run, the 100 ms buckets in which a shard's clients tried operations and none succeeded; p50 and max over the runs.</p>
<table><tr><th rowspan="2">{{.AxisTitle}}</th>{{range .Shards}}<th colspan="2">{{.}}</th>{{end}}</tr>
<tr>{{range .Shards}}<th>p50</th><th>max</th>{{end}}</tr>
{{range .Rows}}<tr><td>{{.Group}}</td>{{range .Downtime}}<td>{{.Stats.P50}}</td><td>{{.Stats.Max}}</td>{{end}}</tr>
{{end}}</table>{{end}}
<h2>Checker verdicts</h2>
<table><tr><th>{{.AxisTitle}}</th><th>runs</th><th>expectations held</th><th>linearizable</th><th>not linearizable</th><th>unknown</th><th>acknowledged writes lost</th><th>runs losing writes</th><th>simulator panics</th></tr>
{{range .Rows}}<tr><td>{{.Group}}</td><td>{{.Runs}}</td><td>{{.OK}}</td><td>{{index .Verdicts 0}}</td><td>{{index .Verdicts 1}}</td><td>{{index .Verdicts 2}}</td><td>{{.LostWrites}}</td><td>{{.LossyRuns}}</td><td>{{.Panics}}</td></tr>
{{end}}</table>
{{if .Failures}}<h2>Runs that failed, by what failed</h2>
<table><tr><th>what failed</th><th>runs</th><th class="text">settings</th><th class="text">seeds</th><th class="text">first run's details</th><th class="text">reproduce the first run</th></tr>
{{range .Failures}}<tr><td class="text">{{.What}}</td><td>{{.Count}}</td><td class="text">{{.Settings}}</td><td class="text">{{.Seeds}}</td><td class="text">{{.Example}}</td><td class="text"><code class="cmd">{{.Command}}</code></td></tr>
{{end}}</table>{{else}}<p>Every run held every expectation and invariant.</p>{{end}}
{{if .Findings}}<h2>Runs that lost acknowledged writes or broke an invariant</h2>
<table><tr><th>run</th><th>seed</th><th class="text">settings</th><th>writes lost</th><th class="text">invariants broken</th><th class="text">reproduce</th></tr>
{{range .Findings}}<tr><td>{{.Run}}</td><td>{{.Seed}}</td><td class="text">{{.Settings}}</td><td>{{.LostWrites}}</td><td class="text">{{.Invariants}}</td><td class="text"><code class="cmd">{{.Command}}</code></td></tr>
{{end}}</table>{{if .MoreFinds}}<p>… and {{.MoreFinds}} more (see runs.csv).</p>{{end}}{{end}}
{{end}}
{{range .Figures}}<figure id="{{.Name}}">{{.SVG}}<figcaption>{{.Title}} ({{.Name}}.png, {{.Name}}.svg)</figcaption></figure>
{{end}}
{{- if .Calibration}}
<h2>Calibration against a real server (rcsim calibrate)</h2>
<p class="note">Per phase, milliseconds after the fault: the real server's trials against the simulator's runs (nearest-rank p10, median, p90).</p>
<table><tr><th>server</th><th>fault</th><th>cluster-node-timeout (ms)</th><th>phase</th><th>real n</th><th>real p10</th><th>real median</th><th>real p90</th><th>sim n</th><th>sim p10</th><th>sim median</th><th>sim p90</th></tr>
{{range .Calibration}}<tr><td>{{.Server}}</td><td class="text">{{.Fault}}</td><td>{{.TimeoutMs}}</td><td class="text">{{.Phase}}</td>{{with .Real}}<td>{{.N}}</td><td>{{f1 .P10}}</td><td>{{f1 .P50}}</td><td>{{f1 .P90}}</td>{{end}}{{with .Sim}}<td>{{.N}}</td><td>{{f1 .P10}}</td><td>{{f1 .P50}}</td><td>{{f1 .P90}}</td>{{end}}</tr>
{{end}}</table>
{{end}}
{{- with .Comparison}}{{template "compare" .}}{{end}}
{{- if .Meta.Points}}
<h2>Scenario as run, per setting</h2>
{{range .Meta.Points}}<details><summary>{{range $i, $v := .Settings}}{{if $i}}, {{end}}{{$v}}{{end}}</summary><pre>{{.YAML}}</pre></details>
{{end}}
{{- else if .Meta.ScenarioYAML}}
<h2>Scenario</h2>
<pre>{{.Meta.ScenarioYAML}}</pre>
{{end}}
</body></html>
` + compareHTML
