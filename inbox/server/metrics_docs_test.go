package server

import (
	"encoding/json"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// metricRef is a metric name as a query in the docs uses it.
var metricRef = regexp.MustCompile(`\b(?:switchboard|go|process)_[a-z0-9_]+\b`)

// checkDocsQueryOnly checks that the Grafana dashboard and the alert rules
// in docs/ parse and query only metrics a scrape has (names: the scrape's
// metric names, histograms' _bucket, _sum and _count included).
func checkDocsQueryOnly(t *testing.T, names map[string]bool) {
	t.Helper()
	raw, err := os.ReadFile("../../docs/grafana-dashboard.json")
	if err != nil {
		t.Fatal(err)
	}
	var dash struct {
		Title  string            `json:"title"`
		Panels []json.RawMessage `json:"panels"`
	}
	if err := json.Unmarshal(raw, &dash); err != nil {
		t.Fatalf("docs/grafana-dashboard.json: %v", err)
	}
	var doc any
	json.Unmarshal(raw, &doc)
	exprs := jsonExprs(doc)
	if dash.Title == "" || len(dash.Panels) < 10 || len(exprs) < 12 {
		t.Errorf("dashboard: title %q, %d panels, %d queries", dash.Title, len(dash.Panels), len(exprs))
	}
	checkQueries(t, "docs/grafana-dashboard.json", exprs, names)

	alerts, err := os.ReadFile("../../docs/alerts.yml")
	if err != nil {
		t.Fatal(err)
	}
	rules := alertRules(t, string(alerts))
	for _, want := range []string{"SwitchboardAccountFailing", "SwitchboardOutboxStuck", "SwitchboardIngestFailing"} {
		if _, ok := rules[want]; !ok {
			t.Errorf("docs/alerts.yml has no alert %s", want)
		}
	}
	var rexprs []string
	for _, e := range rules {
		rexprs = append(rexprs, e)
	}
	checkQueries(t, "docs/alerts.yml", rexprs, names)
}

// jsonExprs collects every "expr" string in a decoded JSON document.
func jsonExprs(v any) []string {
	var out []string
	switch v := v.(type) {
	case map[string]any:
		for k, x := range v {
			if s, ok := x.(string); ok && k == "expr" {
				out = append(out, s)
			} else {
				out = append(out, jsonExprs(x)...)
			}
		}
	case []any:
		for _, x := range v {
			out = append(out, jsonExprs(x)...)
		}
	}
	return out
}

// alertRules reads a Prometheus rule file as the docs write it (each
// alert's expr on one line after its "- alert:" line): alert → expr. It
// checks each alert has an expr, a for and a summary.
func alertRules(t *testing.T, yml string) map[string]string {
	t.Helper()
	if !strings.HasPrefix(strings.TrimSpace(stripComments(yml)), "groups:") {
		t.Error("docs/alerts.yml does not start with groups:")
	}
	out := map[string]string{}
	var cur string
	seen := map[string][]string{}
	for line := range strings.SplitSeq(yml, "\n") {
		l := strings.TrimSpace(line)
		if strings.Contains(l, "\t") || strings.Contains(line, "\t") {
			t.Errorf("docs/alerts.yml: a tab in %q (YAML indents with spaces)", line)
		}
		switch {
		case strings.HasPrefix(l, "- alert:"):
			cur = strings.TrimSpace(strings.TrimPrefix(l, "- alert:"))
		case cur == "":
		case strings.HasPrefix(l, "expr:"):
			out[cur] = strings.TrimSpace(strings.TrimPrefix(l, "expr:"))
			seen[cur] = append(seen[cur], "expr")
		case strings.HasPrefix(l, "for:"), strings.HasPrefix(l, "summary:"):
			seen[cur] = append(seen[cur], l[:strings.IndexByte(l, ':')])
		}
	}
	for name, keys := range seen {
		for _, k := range []string{"expr", "for", "summary"} {
			if !slices.Contains(keys, k) {
				t.Errorf("alert %s has no %s", name, k)
			}
		}
	}
	return out
}

func stripComments(s string) string {
	var b strings.Builder
	for line := range strings.SplitSeq(s, "\n") {
		if !strings.HasPrefix(strings.TrimSpace(line), "#") {
			b.WriteString(line + "\n")
		}
	}
	return b.String()
}

func checkQueries(t *testing.T, file string, exprs []string, names map[string]bool) {
	t.Helper()
	for _, e := range exprs {
		refs := metricRef.FindAllString(e, -1)
		if len(refs) == 0 {
			t.Errorf("%s: query %q names no metric", file, e)
		}
		for _, n := range refs {
			if !names[n] {
				t.Errorf("%s: query %q uses %s, which no scrape has", file, e, n)
			}
		}
	}
}
