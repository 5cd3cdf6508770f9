package reports

// report.html in a real browser: Debian's headless Chromium loads the page
// (driven over the DevTools protocol on a pipe, no extra dependency),
// the test fails on any console error or exception, on a figure that is
// not visible at a sensible size, on text overflowing the page's width,
// and saves a full-page screenshot of a two-setting sweep and of a single
// run for people to look at.

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/rcsim/rcsim/checker"
	"github.com/rcsim/rcsim/checker/history"
	"github.com/rcsim/rcsim/node/trace"
)

// chromiumPath is Debian's chromium.
const chromiumPath = "/usr/bin/chromium"

// cdp is a DevTools protocol session over Chromium's --remote-debugging-pipe
// (fd 3 in, fd 4 out, NUL-terminated JSON).
type cdp struct {
	t      *testing.T
	cmd    *exec.Cmd
	in     *os.File
	out    *bufio.Reader
	id     int
	sess   string
	events []map[string]any
}

func startChromium(t *testing.T) *cdp {
	t.Helper()
	if _, err := os.Stat(chromiumPath); err != nil {
		t.Skipf("no headless browser: %s is absent (apt-get install chromium)", chromiumPath)
	}
	toChrome, chromeIn, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	chromeOut, fromChrome, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(chromiumPath, "--headless=new", "--remote-debugging-pipe", "--no-sandbox", "--disable-gpu",
		"--no-first-run", "--no-default-browser-check", "--hide-scrollbars", "--user-data-dir="+t.TempDir(), "about:blank")
	cmd.ExtraFiles = []*os.File{toChrome, fromChrome}
	// Its own process group, so the cleanup reaches the renderer, zygote
	// and crashpad children too: killing only the browser left them
	// writing into the user data dir while the test's TempDir was removed.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Skipf("cannot start %s: %v", chromiumPath, err)
	}
	toChrome.Close()
	fromChrome.Close()
	c := &cdp{t: t, cmd: cmd, in: chromeIn, out: bufio.NewReader(chromeOut)}
	t.Cleanup(func() {
		chromeIn.Close()
		pgid := cmd.Process.Pid // the group this test started, led by its PID
		_ = syscall.Kill(-pgid, syscall.SIGKILL)
		_ = cmd.Wait()
		// The children are not ours to Wait for: poll until the group is
		// gone (ESRCH), so the TempDir cleanup after this one finds the
		// user data dir quiet.
		for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
			if err := syscall.Kill(-pgid, 0); errors.Is(err, syscall.ESRCH) {
				break
			}
		}
	})
	target := c.call("Target.createTarget", map[string]any{"url": "about:blank"}, false)
	att := c.call("Target.attachToTarget", map[string]any{"targetId": target["targetId"], "flatten": true}, false)
	c.sess, _ = att["sessionId"].(string)
	for _, domain := range []string{"Runtime", "Log", "Page"} {
		c.call(domain+".enable", nil, true)
	}
	return c
}

// call sends one command and waits for its answer, keeping the events
// that arrive meanwhile.
func (c *cdp) call(method string, params map[string]any, inSession bool) map[string]any {
	c.t.Helper()
	c.id++
	msg := map[string]any{"id": c.id, "method": method, "params": params}
	if params == nil {
		msg["params"] = map[string]any{}
	}
	if inSession {
		msg["sessionId"] = c.sess
	}
	b, _ := json.Marshal(msg)
	if _, err := c.in.Write(append(b, 0)); err != nil {
		c.t.Fatalf("%s: %v", method, err)
	}
	for {
		m := c.read(method)
		if id, ok := m["id"].(float64); ok && int(id) == c.id {
			if e, ok := m["error"]; ok {
				c.t.Fatalf("%s: %v", method, e)
			}
			r, _ := m["result"].(map[string]any)
			return r
		}
		c.events = append(c.events, m)
	}
}

func (c *cdp) read(what string) map[string]any {
	c.t.Helper()
	done := make(chan struct{})
	timer := time.AfterFunc(60*time.Second, func() { c.in.Close(); _ = c.cmd.Process.Kill(); close(done) })
	defer timer.Stop()
	b, err := c.out.ReadBytes(0)
	select {
	case <-done:
		c.t.Fatalf("chromium: no answer to %s within 60s", what)
	default:
	}
	if err != nil {
		c.t.Fatalf("chromium: reading the answer to %s: %v", what, err)
	}
	var m map[string]any
	if err := json.Unmarshal(bytes.TrimSuffix(b, []byte{0}), &m); err != nil {
		c.t.Fatalf("chromium: %v", err)
	}
	return m
}

// waitEvent reads until an event of method arrives.
func (c *cdp) waitEvent(method string) {
	for _, e := range c.events {
		if e["method"] == method {
			return
		}
	}
	for {
		m := c.read(method)
		c.events = append(c.events, m)
		if m["method"] == method {
			return
		}
	}
}

// consoleErrors are the errors the page logged or threw.
func (c *cdp) consoleErrors() []string {
	var out []string
	for _, e := range c.events {
		p, _ := e["params"].(map[string]any)
		switch e["method"] {
		case "Runtime.exceptionThrown":
			out = append(out, fmt.Sprint(p["exceptionDetails"]))
		case "Runtime.consoleAPICalled":
			if p["type"] == "error" || p["type"] == "assert" {
				out = append(out, fmt.Sprint(p["args"]))
			}
		case "Log.entryAdded":
			if entry, _ := p["entry"].(map[string]any); entry["level"] == "error" {
				out = append(out, fmt.Sprint(entry["text"]))
			}
		}
	}
	return out
}

// figureBox is what the page reports of one figure.
type figureBox struct {
	ID         string  `json:"id"`
	Width      float64 `json:"w"`
	Height     float64 `json:"h"`
	Visible    bool    `json:"visible"`
	TextInside bool    `json:"text"`
}

const figuresJS = `JSON.stringify({
  scrollW: document.documentElement.scrollWidth, innerW: window.innerWidth,
  figures: [...document.querySelectorAll('figure')].map(f => {
    const s = f.querySelector('svg'); const r = s ? s.getBoundingClientRect() : {width: 0, height: 0};
    const st = s ? getComputedStyle(s) : {};
    return {id: f.id, w: r.width, h: r.height, visible: !!s && st.visibility !== 'hidden' && st.display !== 'none' && r.width > 0,
            text: !!s && s.querySelectorAll('text').length > 0};
  })})`

// loadAndCheck opens path at a 1400 px wide window, checks it and saves a
// full-page screenshot as shot; it returns the figures' ids.
func loadAndCheck(t *testing.T, c *cdp, path, shot string, wantFigures []string) {
	t.Helper()
	c.call("Emulation.setDeviceMetricsOverride", map[string]any{"width": 1400, "height": 900, "deviceScaleFactor": 1, "mobile": false}, true)
	abs, _ := filepath.Abs(path)
	c.events = nil
	c.call("Page.navigate", map[string]any{"url": "file://" + abs}, true)
	c.waitEvent("Page.loadEventFired")
	r := c.call("Runtime.evaluate", map[string]any{"expression": figuresJS, "returnByValue": true}, true)
	res, _ := r["result"].(map[string]any)
	var page struct {
		ScrollW float64     `json:"scrollW"`
		InnerW  float64     `json:"innerW"`
		Figures []figureBox `json:"figures"`
	}
	if s, _ := res["value"].(string); json.Unmarshal([]byte(s), &page) != nil {
		t.Fatalf("evaluating the page: %v", r)
	}
	if errs := c.consoleErrors(); len(errs) > 0 {
		t.Errorf("%s: console errors: %v", path, errs)
	}
	if page.ScrollW > page.InnerW {
		t.Errorf("%s: the page is %v px wide in a %v px window (something overflows)", path, page.ScrollW, page.InnerW)
	}
	var ids []string
	for _, f := range page.Figures {
		ids = append(ids, f.ID)
		// Full width: a figure spans most of the 1400 px window.
		if !f.Visible || f.Width < 1000 || f.Height < 150 || !f.TextInside {
			t.Errorf("%s: figure %s is %.0fx%.0f px, visible %v, text %v", path, f.ID, f.Width, f.Height, f.Visible, f.TextInside)
		}
	}
	if fmt.Sprint(ids) != fmt.Sprint(wantFigures) {
		t.Errorf("%s: figures %v, want %v", path, ids, wantFigures)
	}
	m := c.call("Page.getLayoutMetrics", nil, true)
	size, _ := m["cssContentSize"].(map[string]any)
	w, _ := size["width"].(float64)
	h, _ := size["height"].(float64)
	img := c.call("Page.captureScreenshot", map[string]any{"format": "png", "captureBeyondViewport": true,
		"clip": map[string]any{"x": 0, "y": 0, "width": w, "height": h, "scale": 1}}, true)
	data, err := base64.StdEncoding.DecodeString(fmt.Sprint(img["data"]))
	if err != nil || !bytes.HasPrefix(data, []byte("\x89PNG")) {
		t.Fatalf("screenshot: %v", err)
	}
	if err := os.WriteFile(shot, data, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot of %s (%.0fx%.0f px): %s", path, w, h, shot)
}

// screenshotDir is where the screenshots go: $RCSIM_SCREENSHOTS, else a
// directory under the system's temp dir, kept after the test.
func screenshotDir(t *testing.T) string {
	dir := os.Getenv("RCSIM_SCREENSHOTS")
	if dir == "" {
		dir = filepath.Join(os.TempDir(), "rcsim-screenshots")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// browserRun is the single run the browser test draws: short-crash seed 3,
//
//	rcsim run sim/sweep/testdata/short-crash.yaml --seed 3
func browserRun(t *testing.T) (checker.Summary, []*Figure) {
	t.Helper()
	events, err := readTestFile("testdata/browser-run-trace.jsonl", trace.Read)
	if err != nil {
		t.Fatal(err)
	}
	hist, err := readTestFile("testdata/browser-run-history.jsonl", history.Read)
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile("testdata/browser-run-summary.json")
	if err != nil {
		t.Fatal(err)
	}
	var sum checker.Summary
	if err := json.Unmarshal(b, &sum); err != nil {
		t.Fatal(err)
	}
	return sum, RunFigures(RunName(sum.Scenario, sum.Seed), events, hist, sum.VirtualMs)
}

func readTestFile[T any](path string, read func(string, io.Reader) ([]T, error)) ([]T, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return read(path, f)
}

// TestReportInChromium: the report of a sweep over two numeric settings
// (cluster-node-timeout × workload.clients, captured by
// `rcsim sweep sim/sweep/testdata/short-crash.yaml --set cluster-node-timeout=500,1000,2000
// --set workload.clients=1,3 --seeds 1..4`) and of a single run load in
// Chromium without errors, every figure visible at full width.
func TestReportInChromium(t *testing.T) {
	c := startChromium(t)
	shots := screenshotDir(t)
	sum, runFigs := browserRun(t)

	m := Meta{Source: "sim/sweep/testdata/short-crash.yaml", Scenario: "short-crash", ScenarioYAML: "name: short-crash\n",
		Axes:  []Axis{{"cluster-node-timeout", []string{"500", "1000", "2000"}}, {"workload.clients", []string{"1", "3"}}},
		Seeds: []uint64{1, 2, 3, 4}}
	sweepDir := t.TempDir()
	path, err := WriteSweep(sweepDir, m, loadRuns(t, "two-axis-runs.jsonl"), Extras{Run: runFigs})
	if err != nil {
		t.Fatal(err)
	}
	loadAndCheck(t, c, path, filepath.Join(shots, "sweep-two-settings.png"),
		[]string{"latency", "latency_band", "latency_per_timeout", "anatomy", "cdf_promoted", "cdf_writes_resumed",
			"timeline", "timeline_failover", "availability"})

	path, err = WriteRun(t.TempDir(), sum, runFigs, "rcsim run sim/sweep/testdata/short-crash.yaml --seed 3")
	if err != nil {
		t.Fatal(err)
	}
	loadAndCheck(t, c, path, filepath.Join(shots, "single-run.png"), []string{"timeline", "timeline_failover", "availability"})
}
