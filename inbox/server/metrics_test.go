package server

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/switchboard/switchboard/channels"
	"github.com/switchboard/switchboard/crm"
)

const metricsToken = "scrape-me-7f3a9c"

// scrape GETs /metrics with an Authorization header (empty: none) and
// returns the status and body.
func (ta *testApp) scrape(auth string) (int, string) {
	ta.t.Helper()
	req, _ := http.NewRequest("GET", ta.srv.URL+"/metrics", nil)
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		ta.t.Fatal(err)
	}
	defer resp.Body.Close()
	var b strings.Builder
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		b.WriteString(sc.Text() + "\n")
	}
	return resp.StatusCode, b.String()
}

// samples reads a scrape in the text format: series (name{labels} as
// written, labels sorted by name) → value.
func samples(t testing.TB, body string) map[string]float64 {
	t.Helper()
	out := map[string]float64{}
	for line := range strings.SplitSeq(body, "\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			t.Fatalf("scrape line %q: %v", line, err)
		}
		out[line[:i]] = v
	}
	return out
}

// metricNames are the metric names a scrape has series of.
func metricNames(s map[string]float64) map[string]bool {
	out := map[string]bool{}
	for k := range s {
		if i := strings.IndexByte(k, '{'); i >= 0 {
			k = k[:i]
		}
		out[k] = true
	}
	return out
}

func TestMetricsAreOffByDefaultAndNeedTheToken(t *testing.T) {
	off := newTestApp(t)
	if st, body := off.scrape("Bearer " + metricsToken); st != http.StatusNotFound {
		t.Errorf("metrics off: status %d, want 404: %s", st, body)
	}
	// Off, /metrics is not the UI's page either.
	rec := httptest.NewRecorder()
	off.Handler(fstest.MapFS{"index.html": {Data: []byte("<html>inbox</html>")}}).ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	if rec.Code != http.StatusNotFound || strings.Contains(rec.Body.String(), "inbox") {
		t.Errorf("metrics off with a UI: %d %q", rec.Code, rec.Body)
	}

	on := newTestAppWith(t, func(o *Options) { o.MetricsToken = metricsToken })
	for _, auth := range []string{"", "Bearer", "Bearer wrong", "Basic " + metricsToken, metricsToken, "Bearer " + metricsToken + "x"} {
		st, body := on.scrape(auth)
		if st != http.StatusUnauthorized || strings.Contains(body, "switchboard_") {
			t.Errorf("Authorization %q: status %d, want 401: %.200s", auth, st, body)
		}
	}
	if st, body := on.scrape("Bearer " + metricsToken); st != http.StatusOK || !strings.Contains(body, "go_goroutines") {
		t.Errorf("with the token: status %d: %.300s", st, body)
	}
	// Another app has its own registry: no "duplicate metrics" panic, and
	// its counters start at zero.
	other := newTestAppWith(t, func(o *Options) { o.MetricsToken = metricsToken })
	if st, _ := other.scrape("Bearer " + metricsToken); st != http.StatusOK {
		t.Errorf("second app: status %d", st)
	}
}

// TestMetricsCountTheWork ingests touches (one from a contact whose name
// must never show), queues and sends replies, and reads every series the
// issue asks for from a scrape of the running app.
func TestMetricsCountTheWork(t *testing.T) {
	ch := &scripted{errs: []error{errors.New("connection reset by peer"), nil, channels.Permanent(errors.New("number not on WhatsApp"))}}
	ta, m, conv := newOutboxApp(t, ch, func(o *Options) { o.MetricsToken = metricsToken })
	site := ta.account("web", "Тайный сайт Секретова")
	ctx, cancel := context.WithCancel(context.Background())
	if err := ta.Supervisor().Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cancel(); ta.Supervisor().Wait() })

	// A slow WebSocket client (buffer of one) is dropped by the ingest's
	// events; a good one stays.
	slow := ta.Hub().Subscribe(1)
	defer slow.Close()
	good := ta.Hub().Subscribe(64)
	defer good.Close()

	secret := channels.Inbound{AccountID: site.ID, ExternalID: "form-1", Name: "Секретов Пётр",
		From: []channels.Handle{{Kind: "phone", Value: "+79135550101"}}, Text: "Совершенно секретный заказ"}
	res := ta.ingest(secret,
		channels.Inbound{AccountID: site.ID, ExternalID: "form-2", Name: "Секретов Павел", From: []channels.Handle{{Kind: "phone", Value: "+79135550102"}}, Text: "ещё"})
	if res[0].Err != nil || res[1].Err != nil {
		t.Fatalf("ingest: %+v", res)
	}
	res = ta.ingest(secret, channels.Inbound{AccountID: site.ID, ExternalID: "form-3", Text: "no sender"})
	if !res[0].Duplicate || !errors.Is(res[1].Err, channels.ErrInvalid) {
		t.Fatalf("duplicate and invalid: %+v", res)
	}

	// Two replies through the API, queued; the oldest waits ten minutes.
	c := ta.login(m.Email)
	var first, second crm.Touch
	must(t, c, 200, "POST", fmt.Sprintf("/api/v1/conversations/%d/reply", conv.ID), map[string]any{"text": "Секретный ответ"}, &first)
	must(t, c, 200, "POST", fmt.Sprintf("/api/v1/conversations/%d/reply", conv.ID), map[string]any{"text": "второй"}, &second)
	must(t, c, 404, "GET", "/api/v1/conversations/999999", nil, nil)
	ta.db.Model(&crm.OutboxJob{}).Where("touch_id = ?", first.ID).Update("created_at", time.Now().UTC().Add(-10*time.Minute))
	eventually(t, "whatsapp account live", func() bool {
		st, ok := ta.Supervisor().State(mustAccount(t, ta, "whatsapp").ID)
		return ok && st.Phase == channels.Live
	})

	s := ta.scrapeUntil(t, `switchboard_websocket_dropped_clients_total`, 1)
	want := map[string]float64{
		`switchboard_touches_ingested_total{channel="whatsapp",result="stored"}`:                         1,
		`switchboard_touches_ingested_total{channel="web",result="stored"}`:                              2,
		`switchboard_touches_ingested_total{channel="web",result="duplicate"}`:                           1,
		`switchboard_touches_ingested_total{channel="web",result="rejected"}`:                            1,
		`switchboard_ingest_batch_duration_seconds_count`:                                                3,
		`switchboard_outbox_queued_jobs{channel="whatsapp"}`:                                             2,
		`switchboard_outbox_queued_jobs{channel="web"}`:                                                  0,
		`switchboard_outbox_oldest_job_age_seconds{channel="web"}`:                                       0,
		`switchboard_accounts{channel="whatsapp",phase="live"}`:                                          1,
		`switchboard_accounts{channel="web",phase="hook"}`:                                               1,
		`switchboard_websocket_clients`:                                                                  1,
		`switchboard_websocket_dropped_clients_total`:                                                    1,
		`switchboard_http_requests_total{code="200",route="POST /api/v1/conversations/{id}/reply"}`:      2,
		`switchboard_http_requests_total{code="200",route="POST /api/v1/login"}`:                         1,
		`switchboard_http_requests_total{code="404",route="GET /api/v1/conversations/{id}"}`:             1,
		`switchboard_http_request_duration_seconds_count{route="POST /api/v1/conversations/{id}/reply"}`: 2,
		`go_sql_max_open_connections{db_name="switchboard"}`:                                             s[`go_sql_max_open_connections{db_name="switchboard"}`],
	}
	checkSamples(t, s, want)
	if age := s[`switchboard_outbox_oldest_job_age_seconds{channel="whatsapp"}`]; age < 600 || age > 3600 {
		t.Errorf("oldest outbox job age = %v s, want about 600", age)
	}
	if _, ok := s[`go_sql_open_connections{db_name="switchboard"}`]; !ok {
		t.Error("no database pool series")
	}

	// The first reply's send fails and waits for a retry, the second
	// goes; the retry fails for good.
	ta.DispatchDue(context.Background())
	ta.due(ta.job(first.ID).ID)
	ta.DispatchDue(context.Background())
	if a, b := ta.job(first.ID).Status, ta.job(second.ID).Status; a != crm.Failed || b != crm.Sent {
		t.Fatalf("replies: %s, %s", a, b)
	}
	_, body := ta.scrape("Bearer " + metricsToken)
	s = samples(t, body)
	checkSamples(t, s, map[string]float64{
		`switchboard_send_attempts_total{channel="whatsapp"}`:                  3,
		`switchboard_send_failures_total{channel="whatsapp",outcome="retry"}`:  1,
		`switchboard_send_failures_total{channel="whatsapp",outcome="failed"}`: 1,
		`switchboard_outbox_queued_jobs{channel="whatsapp"}`:                   0,
		`switchboard_outbox_oldest_job_age_seconds{channel="whatsapp"}`:        0,
	})
	checkNoNames(t, body, "Секретов", "Тайный", "секретный", "Секретный", "Пётр", "79135550101", "/api/v1/conversations/"+strconv.FormatInt(conv.ID, 10))

	// No backup recorded (or no backups table yet): the series is absent.
	if _, ok := s["switchboard_last_backup_timestamp_seconds"]; ok {
		t.Error("last backup reported with none recorded")
	}
	finished := recordBackup(t, ta)
	_, body = ta.scrape("Bearer " + metricsToken)
	s = samples(t, body)
	if got := s["switchboard_last_backup_timestamp_seconds"]; got != float64(finished.Unix()) {
		t.Errorf("last backup = %v, want %d", got, finished.Unix())
	}
	checkDocsQueryOnly(t, metricNames(s))
}

// recordBackup writes a backup row as the backup command does (the table
// comes with migration 0013; it is created here when this build has no
// such migration yet).
func recordBackup(t *testing.T, ta *testApp) time.Time {
	t.Helper()
	ddl := `CREATE TABLE IF NOT EXISTS backups (id INTEGER PRIMARY KEY, finished_at DATETIME NOT NULL, archive TEXT NOT NULL, bytes BIGINT NOT NULL)`
	if crm.Dialect(ta.db) == "postgres" {
		ddl = `CREATE TABLE IF NOT EXISTS backups (id BIGSERIAL PRIMARY KEY, finished_at TIMESTAMP NOT NULL, archive TEXT NOT NULL, bytes BIGINT NOT NULL)`
	}
	if err := ta.db.Exec(ddl).Error; err != nil {
		t.Fatal(err)
	}
	finished := time.Now().UTC().Truncate(time.Second)
	for _, at := range []time.Time{finished.Add(-24 * time.Hour), finished} {
		if err := ta.db.Exec(`INSERT INTO backups (finished_at, archive, bytes) VALUES (?, ?, ?)`, at, "backup.tar.gz", 1024).Error; err != nil {
			t.Fatal(err)
		}
	}
	return finished
}

func checkSamples(t *testing.T, s map[string]float64, want map[string]float64) {
	t.Helper()
	for k, v := range want {
		got, ok := s[k]
		if !ok {
			t.Errorf("no series %s", k)
		} else if got != v {
			t.Errorf("%s = %v, want %v", k, got, v)
		}
	}
}

// checkNoNames checks that no contact, message, account name or raw path
// made it into the scrape.
func checkNoNames(t *testing.T, body string, secrets ...string) {
	t.Helper()
	for _, s := range secrets {
		if strings.Contains(body, s) {
			t.Errorf("the scrape contains %q", s)
		}
	}
	for line := range strings.SplitSeq(body, "\n") {
		if strings.HasPrefix(line, "#") {
			continue
		}
		if strings.ContainsFunc(line, func(r rune) bool { return r > 127 }) {
			t.Errorf("a non-ASCII label value (a name?) in %q", line)
		}
	}
}

// scrapeUntil scrapes until a series reaches a value (on PostgreSQL the
// hub gets its events from the relay, a moment after commit).
func (ta *testApp) scrapeUntil(t *testing.T, series string, v float64) map[string]float64 {
	t.Helper()
	var s map[string]float64
	eventually(t, series, func() bool {
		st, body := ta.scrape("Bearer " + metricsToken)
		if st != 200 {
			t.Fatalf("scrape: %d %s", st, body)
		}
		s = samples(t, body)
		return s[series] >= v
	})
	return s
}

func mustAccount(t *testing.T, ta *testApp, channel string) crm.Account {
	t.Helper()
	var a crm.Account
	if err := ta.db.Where("channel = ?", channel).Order("id").First(&a).Error; err != nil {
		t.Fatal(err)
	}
	return a
}
