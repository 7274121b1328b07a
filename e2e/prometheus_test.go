//go:build e2e

package e2e

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/wirefeed/wirefeed/internal/kafkatest"
)

// The monitoring files under test, relative to this package.
const (
	dashboardFile = "../deploy/grafana/wirefeed.json"
	rulesFile     = "../deploy/prometheus/rules/wirefeed.rules.yml"
	metricsDoc    = "../docs/metrics.md"
)

// The services' default HTTP addresses: the scrape targets of
// deploy/prometheus/prometheus.yml.
var stageAddrs = []struct{ job, addr string }{
	{"ingest", "127.0.0.1:9101"},
	{"normalize", "127.0.0.1:9102"},
	{"sink", "127.0.0.1:9103"},
}

// emptyAllowed lists the dashboard panels that may show no data after a
// clean run of generated items and the bundled samples, and why.
var emptyAllowed = map[string]string{
	"normalize: skipped by reason":         "only items without a text story (photos, packages) are skipped; the run has none",
	"http sources: fetch errors by reason": "the test's feed answers every fetch",
}

// TestPrometheus runs the three services on their default ports, so that
// the real Prometheus of `make up` scrapes them, sends items through, and
// checks through the Prometheus HTTP API that the scrape jobs are up, the
// alert rules are loaded and healthy and every alert expression evaluates,
// every query of the Grafana dashboard evaluates and the traffic panels
// have data, and every metric the services export is documented.
func TestPrometheus(t *testing.T) {
	prom := &promAPI{t: t, base: strings.TrimRight(envOr("WIREFEED_PROMETHEUS_URL", "http://127.0.0.1:9090"), "/")}
	if err := prom.ready(); err != nil {
		t.Fatalf("Prometheus at %s is not ready (%v); start the stack with `make up`", prom.base, err)
	}
	for _, s := range stageAddrs {
		ln, err := net.Listen("tcp", s.addr)
		if err != nil {
			t.Fatalf("%s is in use (%v): stop what listens there (make run, make demo-serve) and run again", s.addr, err)
		}
		ln.Close()
	}

	// The configuration and rules in the repository, as Prometheus has them.
	reloaded := time.Now()
	prom.reload()
	wantAlerts := alertNames(t)
	prom.waitRules(wantAlerts, 30*time.Second)
	prom.checkTargets()

	p := newPipeline(t)
	sink := p.startAt("sink", stageAddrs[2].addr)
	p.startAt("normalize", stageAddrs[1].addr)
	// ingest with every kind of source: the pipeline's spool folder, an RSS
	// feed served by the test, and a push source.
	feed := newWireFeed(t, "prom", 10)
	sources := filepath.Join(t.TempDir(), "sources.yaml")
	const pushToken = "e2e-prometheus-push-token-0123456789"
	err := os.WriteFile(sources, []byte(fmt.Sprintf("sources:\n"+
		"  - {id: prom-feed, type: http, url: '%s/rss.xml', format: rss, interval: 1s}\n"+
		"  - {id: prom-push, type: push, format: ninjs, token: '%s'}\n", feed.srv.URL, pushToken)), 0o644)
	if err != nil {
		t.Fatal(err)
	}
	pushAddr := freeAddr(t)
	ingest := p.startAt("ingest", stageAddrs[0].addr, "--sources", sources, "--push.addr", pushAddr, "--poll.jitter", "0",
		"--seen.topic", kafkatest.Name(t, "seen"), "--ownership.topic", kafkatest.Name(t, "owner"),
		"--ownership.group", kafkatest.Name(t, "owner-group"))

	// Two waves: a labelled counter appears on its first event, and rate()
	// sees only what changes between scrapes, so the second wave, once the
	// first was scraped, gives every traffic query something to show.
	const n = 60
	wave1, _ := generated(7000, n/2)
	p.drop(wave1)
	p.drop(samples(t))
	p.drop(map[string]string{"empty.txt": ""}) // refused: empty
	push(t, pushAddr, pushToken, 1)
	archived := n/2 + 21 + 10 // 3 of the 24 samples are dead-lettered; 10 feed entries
	p.waitArchived(archived, 2*time.Minute)
	prom.waitValue(`sum(wirefeed_sink_records_total{job="sink", result="archived"})`, float64(archived), 60*time.Second)
	prom.waitValue(`sum(wirefeed_normalize_items_total{job="normalize", result="dead_letter"})`, 3, 30*time.Second)

	// A reload of the sources file, and more of everything.
	if err := ingest.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	wave2, _ := generated(8000, n/2)
	p.drop(wave2)
	feed.add("prom", 10)
	push(t, pushAddr, pushToken, 2)
	archived += n/2 + 10
	p.waitArchived(archived, 2*time.Minute)
	// Wait until Prometheus has scraped the whole run, and once more.
	prom.waitValue(`sum(wirefeed_sink_records_total{job="sink", result="archived"})`, float64(archived), 60*time.Second)
	prom.waitValue(`sum(wirefeed_ingest_sources_reloads_total{job="ingest", result="ok"})`, 1, 30*time.Second)
	time.Sleep(6 * time.Second)

	t.Run("scrape jobs up", func(t *testing.T) {
		for _, s := range stageAddrs {
			res := prom.instant(t, fmt.Sprintf(`up{job=%q}`, s.job))
			if len(res) != 1 || res[0].Metric["instance"] != s.addr || res[0].value() != 1 {
				t.Errorf("up{job=%q}: got %v, want one series, instance %s, value 1", s.job, res, s.addr)
			}
		}
	})

	t.Run("alert rules", func(t *testing.T) {
		prom.checkRules(t, wantAlerts, reloaded)
		// Nothing is wrong with this run: the stage alerts have resolved
		// (they may have been firing before the services started).
		deadline := time.Now().Add(40 * time.Second)
		for {
			firing := prom.firing(t, "WirefeedStageDown", "WirefeedStageMissing", "WirefeedSourceStalled", "WirefeedSinkDeadLetters",
				"WirefeedSinkUploadsFailing", "WirefeedSinkUploadRetries", "WirefeedKafkaProduceRetrying")
			if len(firing) == 0 {
				break
			}
			if time.Now().After(deadline) {
				t.Errorf("alerts still firing for a healthy run: %v", firing)
				break
			}
			time.Sleep(2 * time.Second)
		}
	})

	t.Run("dashboard queries", func(t *testing.T) {
		d := loadDashboard(t)
		for _, v := range d.variables() {
			if v.query == "" {
				continue
			}
			vals := prom.labelValues(t, v.query)
			logf(t, "variable %s: %s -> %v", v.name, v.query, vals)
			if len(vals) == 0 {
				t.Errorf("variable %s: %s returns no values", v.name, v.query)
			}
		}
		panels := d.panels()
		if len(panels) < 10 {
			t.Fatalf("dashboard has %d panels with queries; parsing went wrong", len(panels))
		}
		queries := 0
		for _, pn := range panels {
			withData := 0
			for _, tg := range pn.Targets {
				expr, err := d.substitute(tg.Expr)
				if err != nil {
					t.Errorf("panel %q, target %s: %v", pn.Title, tg.RefID, err)
					continue
				}
				queries++
				if _, err := prom.queryRange(expr, 10*time.Minute, 15*time.Second); err != nil {
					t.Errorf("panel %q, target %s: range query %s: %v", pn.Title, tg.RefID, expr, err)
					continue
				}
				res, err := prom.query(expr)
				if err != nil {
					t.Errorf("panel %q, target %s: query %s: %v", pn.Title, tg.RefID, expr, err)
					continue
				}
				if len(res) > 0 {
					withData++
				} else {
					logf(t, "panel %q, target %s: no data now: %s", pn.Title, tg.RefID, expr)
				}
			}
			if why, ok := emptyAllowed[pn.Title]; withData == 0 && !ok {
				t.Errorf("panel %q shows no data after the run", pn.Title)
			} else if withData == 0 {
				logf(t, "panel %q has no data, as expected: %s", pn.Title, why)
			}
		}
		logf(t, "%d dashboard queries in %d panels evaluated on Prometheus", queries, len(panels))
	})

	t.Run("traffic numbers", func(t *testing.T) {
		// What the overview shows matches what went through.
		checks := []struct {
			expr string
			min  float64
		}{
			{`sum(wirefeed_ingest_items_total{job="ingest", result="published"})`, float64(n + 24 + 20 + 2)},
			{`sum(wirefeed_ingest_fetches_total{job="ingest", source="prom-feed", result=~"ok|not_modified"})`, 2},
			{`sum(wirefeed_ingest_push_requests_total{job="ingest", code="202"})`, 1},
			{`sum(wirefeed_ingest_refused_total{job="ingest", source="spool", reason="empty"})`, 1},
			{`count(wirefeed_ingest_source_info{job="ingest"})`, 3},
			{`sum(wirefeed_normalize_records_total{job="normalize"})`, float64(archived)},
			{`sum(wirefeed_sink_records_total{job="sink", result="archived"})`, float64(archived)},
			{`sum(rate(wirefeed_sink_records_total{job="sink", result="archived"}[1m]))`, 0.01},
			{`histogram_quantile(0.99, sum by (le) (rate(wirefeed_sink_end_to_end_latency_seconds_bucket{job="sink"}[5m])))`, 0.001},
		}
		for _, c := range checks {
			res := prom.instant(t, c.expr)
			if len(res) != 1 || !(res[0].value() >= c.min) {
				t.Errorf("%s: got %v, want one value >= %g", c.expr, res, c.min)
			}
		}
	})

	t.Run("exported metrics documented", func(t *testing.T) {
		doc, err := os.ReadFile(metricsDoc)
		if err != nil {
			t.Fatal(err)
		}
		documented := documentedTypes(string(doc))
		if len(documented) < 40 {
			t.Fatalf("%s: only %d metrics found in its tables", metricsDoc, len(documented))
		}
		for _, s := range stageAddrs {
			for name, typ := range exportedTypes(t, "http://"+s.addr+"/metrics") {
				switch got, ok := documented[name]; {
				case !ok:
					t.Errorf("%s exports %s (%s), which %s does not list", s.job, name, typ, metricsDoc)
				case got != typ:
					t.Errorf("%s exports %s as a %s; %s says %s", s.job, name, typ, metricsDoc, got)
				}
			}
		}
	})

	t.Run("stage down detected", func(t *testing.T) {
		// Stop the sink: the next scrape fails, up turns 0 and
		// WirefeedStageDown becomes pending (it fires after 2 minutes).
		sink.stop(t)
		expr := `ALERTS{alertname="WirefeedStageDown", job="sink", instance="` + stageAddrs[2].addr + `"}`
		deadline := time.Now().Add(45 * time.Second)
		for {
			res := prom.instant(t, expr)
			if len(res) == 1 && (res[0].Metric["alertstate"] == "pending" || res[0].Metric["alertstate"] == "firing") {
				logf(t, "sink stopped: WirefeedStageDown is %s", res[0].Metric["alertstate"])
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("sink stopped 45s ago; %s: %v", expr, res)
			}
			time.Sleep(time.Second)
		}
	})
}

// push posts a ninjs item to ingest's push endpoint and expects 202.
func push(t *testing.T, addr, token string, i int) {
	body := fmt.Sprintf(`{"uri": "urn:prom:push:%d", "type": "text", "headline": "Pushed story %d", "body_text": "Paragraph of pushed story %d."}`, i, i, i)
	req, err := http.NewRequest(http.MethodPost, "http://"+addr+"/v1/items", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("X-Wirefeed-Item-Id", fmt.Sprintf("urn:prom:push:%d", i))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("push item %d: %d %s, want 202", i, resp.StatusCode, b)
	}
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

// ---------------------------------------------------------------- Prometheus

type promAPI struct {
	t    *testing.T
	base string
}

type sample struct {
	Metric map[string]string `json:"metric"`
	Value  [2]any            `json:"value"`
}

func (s sample) value() float64 {
	str, _ := s.Value[1].(string)
	v, err := strconv.ParseFloat(str, 64)
	if err != nil {
		return -1
	}
	return v
}

func (s sample) String() string { return fmt.Sprintf("%v=%v", s.Metric, s.Value[1]) }

var promClient = &http.Client{Timeout: 30 * time.Second}

// call GETs or POSTs an API path and decodes the data of a success answer.
func (p *promAPI) call(method, path string, form url.Values, data any) error {
	var resp *http.Response
	var err error
	if method == http.MethodPost {
		resp, err = promClient.PostForm(p.base+path, form)
	} else {
		u := p.base + path
		if form != nil {
			u += "?" + form.Encode()
		}
		resp, err = promClient.Get(u)
	}
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	var env struct {
		Status    string          `json:"status"`
		Data      json.RawMessage `json:"data"`
		ErrorType string          `json:"errorType"`
		Error     string          `json:"error"`
		Warnings  []string        `json:"warnings"`
	}
	if err := json.Unmarshal(body, &env); err != nil {
		return fmt.Errorf("%s %s: HTTP %d: %.300s", method, path, resp.StatusCode, body)
	}
	if env.Status != "success" {
		return fmt.Errorf("%s: %s", env.ErrorType, env.Error)
	}
	if len(env.Warnings) > 0 {
		return fmt.Errorf("warnings: %v", env.Warnings)
	}
	if data == nil {
		return nil
	}
	return json.Unmarshal(env.Data, data)
}

func (p *promAPI) ready() error {
	resp, err := promClient.Get(p.base + "/-/ready")
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("HTTP %d", resp.StatusCode)
	}
	return nil
}

// reload makes Prometheus read its configuration and rule files again
// (it runs with --web.enable-lifecycle).
func (p *promAPI) reload() {
	resp, err := promClient.Post(p.base+"/-/reload", "text/plain", nil)
	if err != nil {
		p.t.Fatalf("reload Prometheus: %v", err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		p.t.Fatalf("reload Prometheus: HTTP %d: %s (check deploy/prometheus with deploy/prometheus/test-rules.sh)", resp.StatusCode, body)
	}
}

func (p *promAPI) query(expr string) ([]sample, error) {
	var data struct {
		ResultType string   `json:"resultType"`
		Result     []sample `json:"result"`
	}
	if err := p.call(http.MethodPost, "/api/v1/query", url.Values{"query": {expr}}, &data); err != nil {
		return nil, err
	}
	if data.ResultType != "vector" {
		return nil, fmt.Errorf("result type %s, want vector", data.ResultType)
	}
	return data.Result, nil
}

func (p *promAPI) instant(t *testing.T, expr string) []sample {
	t.Helper()
	res, err := p.query(expr)
	if err != nil {
		t.Fatalf("query %s: %v", expr, err)
	}
	return res
}

func (p *promAPI) queryRange(expr string, span, step time.Duration) (int, error) {
	end := time.Now()
	form := url.Values{
		"query": {expr},
		"start": {strconv.FormatInt(end.Add(-span).Unix(), 10)},
		"end":   {strconv.FormatInt(end.Unix(), 10)},
		"step":  {strconv.FormatFloat(step.Seconds(), 'f', -1, 64)},
	}
	var data struct {
		Result []json.RawMessage `json:"result"`
	}
	if err := p.call(http.MethodPost, "/api/v1/query_range", form, &data); err != nil {
		return 0, err
	}
	return len(data.Result), nil
}

// waitValue polls expr until it returns one sample of at least min.
func (p *promAPI) waitValue(expr string, min float64, timeout time.Duration) {
	deadline := time.Now().Add(timeout)
	var last []sample
	for time.Now().Before(deadline) {
		res, err := p.query(expr)
		if err != nil {
			p.t.Fatalf("query %s: %v", expr, err)
		}
		if len(res) == 1 && res[0].value() >= min {
			return
		}
		last = res
		time.Sleep(time.Second)
	}
	p.t.Fatalf("%s: still %v after %s, want >= %g", expr, last, timeout, min)
}

// checkTargets checks that Prometheus scrapes the services where they
// listen by default.
func (p *promAPI) checkTargets() {
	var data struct {
		ActiveTargets []struct {
			ScrapePool string            `json:"scrapePool"`
			Labels     map[string]string `json:"labels"`
			ScrapeURL  string            `json:"scrapeUrl"`
		} `json:"activeTargets"`
	}
	if err := p.call(http.MethodGet, "/api/v1/targets", url.Values{"state": {"active"}}, &data); err != nil {
		p.t.Fatalf("targets: %v", err)
	}
	for _, s := range stageAddrs {
		found := false
		for _, tg := range data.ActiveTargets {
			if tg.Labels["job"] == s.job && tg.Labels["instance"] == s.addr {
				found = true
			}
		}
		if !found {
			p.t.Fatalf("Prometheus has no target job=%s instance=%s (deploy/prometheus/prometheus.yml)", s.job, s.addr)
		}
	}
}

type ruleState struct {
	Name           string    `json:"name"`
	Query          string    `json:"query"`
	Type           string    `json:"type"`
	Health         string    `json:"health"`
	LastError      string    `json:"lastError"`
	LastEvaluation time.Time `json:"lastEvaluation"`
	Labels         map[string]string
	Annotations    map[string]string
}

func (p *promAPI) rules(t testing.TB) []ruleState {
	var data struct {
		Groups []struct {
			File  string      `json:"file"`
			Rules []ruleState `json:"rules"`
		} `json:"groups"`
	}
	if err := p.call(http.MethodGet, "/api/v1/rules", nil, &data); err != nil {
		t.Fatalf("rules: %v", err)
	}
	var out []ruleState
	for _, g := range data.Groups {
		if strings.HasSuffix(g.File, "wirefeed.rules.yml") {
			out = append(out, g.Rules...)
		}
	}
	return out
}

// waitRules waits until Prometheus has loaded every alert of the rules
// file.
func (p *promAPI) waitRules(want []string, timeout time.Duration) {
	deadline := time.Now().Add(timeout)
	for {
		got := map[string]bool{}
		for _, r := range p.rules(p.t) {
			got[r.Name] = true
		}
		missing := []string{}
		for _, a := range want {
			if !got[a] {
				missing = append(missing, a)
			}
		}
		if len(missing) == 0 {
			return
		}
		if time.Now().After(deadline) {
			p.t.Fatalf("Prometheus has not loaded the alerts %v of %s (rule_files in deploy/prometheus/prometheus.yml)", missing, rulesFile)
		}
		time.Sleep(500 * time.Millisecond)
	}
}

// checkRules: every rule was evaluated since the reload without error, its
// expression evaluates through the query API, and every alert has a
// severity and a runbook.
func (p *promAPI) checkRules(t *testing.T, want []string, since time.Time) {
	rules := p.rules(t)
	alerts := 0
	for _, r := range rules {
		if r.Health != "ok" || r.LastError != "" {
			t.Errorf("rule %s: health %q, error %q", r.Name, r.Health, r.LastError)
		}
		if r.LastEvaluation.Before(since) {
			t.Errorf("rule %s: last evaluated %s, before the reload", r.Name, r.LastEvaluation.Format(time.RFC3339))
		}
		if _, err := p.query(r.Query); err != nil {
			t.Errorf("rule %s: %s: %v", r.Name, r.Query, err)
		}
		if r.Type != "alerting" {
			continue
		}
		alerts++
		if r.Labels["severity"] == "" {
			t.Errorf("alert %s has no severity label", r.Name)
		}
		if !strings.Contains(r.Annotations["runbook_url"], "docs/operating.md#"+strings.ToLower(r.Name)) {
			t.Errorf("alert %s: runbook_url %q does not point to docs/operating.md#%s", r.Name, r.Annotations["runbook_url"], strings.ToLower(r.Name))
		}
	}
	if alerts != len(want) {
		t.Errorf("Prometheus has %d alerts from %s, the file has %d", alerts, rulesFile, len(want))
	}
	logf(t, "%d rules (%d alerts) loaded, healthy and evaluating", len(rules), alerts)
}

// firing returns the firing alerts among names for the stages under test.
func (p *promAPI) firing(t *testing.T, names ...string) []string {
	var data struct {
		Alerts []struct {
			Labels map[string]string `json:"labels"`
			State  string            `json:"state"`
		} `json:"alerts"`
	}
	if err := p.call(http.MethodGet, "/api/v1/alerts", nil, &data); err != nil {
		t.Fatalf("alerts: %v", err)
	}
	want := map[string]bool{}
	for _, n := range names {
		want[n] = true
	}
	mine := map[string]bool{}
	for _, s := range stageAddrs {
		mine[s.addr] = true
	}
	var out []string
	for _, a := range data.Alerts {
		inst := a.Labels["instance"]
		if a.State == "firing" && want[a.Labels["alertname"]] && (inst == "" || mine[inst]) {
			out = append(out, fmt.Sprintf("%s%v", a.Labels["alertname"], a.Labels))
		}
	}
	sort.Strings(out)
	return out
}

var labelValuesRe = regexp.MustCompile(`^label_values\(\s*([a-zA-Z_:][a-zA-Z0-9_:]*(?:\{[^}]*\})?)\s*,\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*\)$`)

// labelValues evaluates a Grafana variable query label_values(SELECTOR, LABEL)
// as Grafana does, through the label values API.
func (p *promAPI) labelValues(t *testing.T, q string) []string {
	m := labelValuesRe.FindStringSubmatch(strings.TrimSpace(q))
	if m == nil {
		t.Errorf("variable query %q is not label_values(selector, label)", q)
		return nil
	}
	var vals []string
	form := url.Values{"match[]": {m[1]}, "start": {strconv.FormatInt(time.Now().Add(-10*time.Minute).Unix(), 10)}}
	if err := p.call(http.MethodGet, "/api/v1/label/"+m[2]+"/values", form, &vals); err != nil {
		t.Errorf("variable query %s: %v", q, err)
	}
	return vals
}

// ---------------------------------------------------------------- dashboard

type dashTarget struct {
	Expr  string `json:"expr"`
	RefID string `json:"refId"`
}

type dashPanel struct {
	Title   string       `json:"title"`
	Type    string       `json:"type"`
	Targets []dashTarget `json:"targets"`
	Panels  []dashPanel  `json:"panels"`
}

type dashVar struct {
	Name       string          `json:"name"`
	Type       string          `json:"type"`
	Query      json.RawMessage `json:"query"`
	Definition string          `json:"definition"`
	AllValue   string          `json:"allValue"`
	IncludeAll bool            `json:"includeAll"`
}

type dashboard struct {
	Panels     []dashPanel `json:"panels"`
	Templating struct {
		List []dashVar `json:"list"`
	} `json:"templating"`
}

func loadDashboard(t *testing.T) *dashboard {
	b, err := os.ReadFile(dashboardFile)
	if err != nil {
		t.Fatal(err)
	}
	var d dashboard
	if err := json.Unmarshal(b, &d); err != nil {
		t.Fatalf("%s: %v", dashboardFile, err)
	}
	return &d
}

// panels returns every panel holding queries, those inside collapsed rows
// included.
func (d *dashboard) panels() []dashPanel {
	var out []dashPanel
	var walk func([]dashPanel)
	walk = func(ps []dashPanel) {
		for _, p := range ps {
			var ts []dashTarget
			for _, tg := range p.Targets {
				if strings.TrimSpace(tg.Expr) != "" {
					ts = append(ts, tg)
				}
			}
			if len(ts) > 0 {
				p.Targets = ts
				out = append(out, p)
			}
			walk(p.Panels)
		}
	}
	walk(d.Panels)
	return out
}

type variable struct{ name, query, value string }

// variables returns the template variables with the value substituted for
// them in queries: the "All" value (every value) for query variables.
func (d *dashboard) variables() []variable {
	var out []variable
	for _, v := range d.Templating.List {
		val := ".*"
		if v.AllValue != "" {
			val = v.AllValue
		}
		q := v.Definition
		if q == "" && len(v.Query) > 0 {
			var s string
			var o struct {
				Query string `json:"query"`
			}
			if json.Unmarshal(v.Query, &s) == nil {
				q = s
			} else if json.Unmarshal(v.Query, &o) == nil {
				q = o.Query
			}
		}
		if v.Type != "query" {
			q = ""
		}
		out = append(out, variable{name: v.Name, query: q, value: val})
	}
	return out
}

// Grafana's built-in interval variables, as they resolve for a one-hour
// dashboard on a 5 s scrape interval, about.
var builtins = map[string]string{
	"__rate_interval": "1m",
	"__interval":      "15s",
	"__range":         "10m",
}

var varRe = regexp.MustCompile(`\$\{([a-zA-Z0-9_]+)(?::[a-z]+)?\}|\$([a-zA-Z0-9_]+)|\[\[([a-zA-Z0-9_]+)\]\]`)

// substitute replaces the template and built-in variables of expr; a
// variable the dashboard does not define is an error.
func (d *dashboard) substitute(expr string) (string, error) {
	vals := map[string]string{}
	for k, v := range builtins {
		vals[k] = v
	}
	for _, v := range d.variables() {
		vals[v.name] = v.value
	}
	var unknown []string
	out := varRe.ReplaceAllStringFunc(expr, func(m string) string {
		sm := varRe.FindStringSubmatch(m)
		name := sm[1] + sm[2] + sm[3]
		if v, ok := vals[name]; ok {
			return v
		}
		unknown = append(unknown, name)
		return m
	})
	if len(unknown) > 0 {
		return "", fmt.Errorf("unknown variables %v in %s", unknown, expr)
	}
	return out, nil
}

// ---------------------------------------------------------------- files

var alertRe = regexp.MustCompile(`(?m)^\s*-\s*alert:\s*(\S+)\s*$`)

// alertNames lists the alerts of the rules file.
func alertNames(t *testing.T) []string {
	b, err := os.ReadFile(rulesFile)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, m := range alertRe.FindAllStringSubmatch(string(b), -1) {
		out = append(out, m[1])
	}
	if len(out) == 0 {
		t.Fatalf("no alerts in %s", rulesFile)
	}
	return out
}

var docRowRe = regexp.MustCompile("(?m)^\\|\\s*`([a-zA-Z_:][a-zA-Z0-9_:]*)`\\s*\\|\\s*(counter|gauge|histogram|summary|untyped)\\s*\\|")

// documentedTypes reads the tables of exported metrics of docs/metrics.md:
// rows starting | `name` | type |, before the review and the missing
// metrics.
func documentedTypes(doc string) map[string]string {
	if i := strings.Index(doc, "\n## Review against"); i >= 0 {
		doc = doc[:i]
	}
	out := map[string]string{}
	for _, m := range docRowRe.FindAllStringSubmatch(doc, -1) {
		out[m[1]] = m[2]
	}
	return out
}

// exportedTypes reads the # TYPE lines of a /metrics page.
func exportedTypes(t *testing.T, u string) map[string]string {
	resp, err := http.Get(u)
	if err != nil {
		t.Fatalf("%s: %v", u, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, l := range strings.Split(string(b), "\n") {
		if f := strings.Fields(l); len(f) == 4 && f[0] == "#" && f[1] == "TYPE" {
			out[f[2]] = f[3]
		}
	}
	if len(out) == 0 {
		t.Fatalf("%s: no metrics", u)
	}
	return out
}
