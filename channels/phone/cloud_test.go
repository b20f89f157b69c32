package phone

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchboard/switchboard/channels"
)

// testNow is the receiver's clock in every cloud test.
var testNow = time.Date(2026, 12, 3, 9, 0, 0, 0, time.UTC)

// recSink is a channels.Sink double: it records what it is given and, like
// ingest, reports an ExternalID it has seen before as a duplicate.
type recSink struct {
	mu   sync.Mutex
	got  []channels.Inbound
	ids  map[string]int64
	fail error // returned as the result's error while set
}

func (s *recSink) Ingest(_ context.Context, batch []channels.Inbound) ([]channels.Result, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ids == nil {
		s.ids = map[string]int64{}
	}
	out := make([]channels.Result, len(batch))
	for i, in := range batch {
		if s.fail != nil {
			out[i].Err = s.fail
			continue
		}
		s.got = append(s.got, in)
		if id, ok := s.ids[in.ExternalID]; ok {
			out[i] = channels.Result{TouchID: id, Duplicate: true}
			continue
		}
		s.ids[in.ExternalID] = int64(len(s.ids) + 1)
		out[i] = channels.Result{TouchID: s.ids[in.ExternalID]}
	}
	return out, nil
}

func (s *recSink) all() []channels.Inbound {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]channels.Inbound(nil), s.got...)
}

// hookServer serves acc's cloud adapter on the routes the API registers,
// so that HookPath sees what it sees in production.
type hookServer struct {
	*httptest.Server
	cloud *Cloud
	sink  *recSink
	logs  *bytes.Buffer
}

func newHookServer(t *testing.T, s Settings, secret string) *hookServer {
	t.Helper()
	raw, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	logs := &bytes.Buffer{}
	a, err := New(channels.Account{ID: 7, Channel: channels.Phone, Settings: raw, Secret: secret}, slog.New(slog.NewTextHandler(logs, nil)))
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	c := a.(*Cloud)
	c.now = func() time.Time { return testNow }
	h := &hookServer{cloud: c, sink: &recSink{}, logs: logs}
	mux := http.NewServeMux()
	serve := func(w http.ResponseWriter, r *http.Request) { c.ServeWebhook(w, r, h.sink) }
	mux.HandleFunc("POST /hooks/{channel}/{account}", serve)
	mux.HandleFunc("POST /hooks/{channel}/{account}/{rest...}", serve)
	mux.HandleFunc("GET /hooks/{channel}/{account}", serve)
	h.Server = httptest.NewServer(mux)
	t.Cleanup(h.Close)
	return h
}

// reply is a hook's answer.
type reply struct {
	status int
	body   string
	resp   HookResponse
	code   string // the error code of a refusal
}

// send makes req against the server and reads the answer.
func (h *hookServer) send(t *testing.T, req *http.Request) reply {
	t.Helper()
	u := h.URL + req.URL.Path
	if req.URL.RawQuery != "" {
		u += "?" + req.URL.RawQuery
	}
	var body io.Reader
	if req.Body != nil {
		b, _ := io.ReadAll(req.Body)
		body = bytes.NewReader(b)
	}
	r, err := http.NewRequest(req.Method, u, body)
	if err != nil {
		t.Fatal(err)
	}
	r.Header = req.Header
	resp, err := http.DefaultClient.Do(r)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	out := reply{status: resp.StatusCode, body: string(b)}
	if resp.StatusCode == http.StatusOK {
		json.Unmarshal(b, &out.resp)
	} else {
		var e channels.HookError
		json.Unmarshal(b, &e)
		out.code = e.Error.Code
	}
	return out
}

func post(path, contentType string, body []byte) *http.Request {
	r := httptest.NewRequest(http.MethodPost, path, bytes.NewReader(body))
	r.Header.Set("Content-Type", contentType)
	return r
}

// wantRefused checks a refusal's status and code, and that nothing was
// stored.
func wantRefused(t *testing.T, h *hookServer, got reply, status int, code string) {
	t.Helper()
	if got.status != status || got.code != code {
		t.Errorf("answer = %d %s (%s), want %d %s", got.status, got.code, got.body, status, code)
	}
	if n := len(h.sink.all()); n != 0 {
		t.Errorf("a refused request stored %d calls", n)
	}
}

// rawOf decodes Meta["raw"].
func rawOf(t *testing.T, in channels.Inbound) []rawRequest {
	t.Helper()
	var raw []rawRequest
	if err := json.Unmarshal([]byte(in.Meta["raw"]), &raw); err != nil {
		t.Fatalf("Meta[raw] = %q: %v", in.Meta["raw"], err)
	}
	return raw
}

func TestCloudRunAndSend(t *testing.T) {
	h := newHookServer(t, Settings{Provider: Generic}, "s3cret")
	ctx, cancel := context.WithCancel(context.Background())
	var states []channels.State
	done := make(chan error)
	go func() { done <- h.cloud.Run(ctx, nil, func(s channels.State) { states = append(states, s) }) }()
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Run = %v", err)
	}
	if len(states) != 1 || states[0].Phase != channels.Hook {
		t.Errorf("states = %+v, want one Hook", states)
	}
	if _, err := h.cloud.Send(ctx, channels.Outbound{}); !errors.Is(err, channels.ErrPermanent) {
		t.Errorf("Send = %v, want a permanent error", err)
	}
}

func TestCloudRefusesMethodAndSize(t *testing.T) {
	h := newHookServer(t, Settings{Provider: Generic}, "s3cret")
	got := h.send(t, httptest.NewRequest(http.MethodGet, "/hooks/phone/7", nil))
	wantRefused(t, h, got, http.StatusMethodNotAllowed, "method_not_allowed")
	big := bytes.Repeat([]byte("a"), MaxCloudBody+1)
	got = h.send(t, signedGeneric(big, "s3cret", testNow))
	wantRefused(t, h, got, http.StatusRequestEntityTooLarge, CodeTooLarge)
}

func TestCanDial(t *testing.T) {
	for _, tc := range []struct {
		s      Settings
		secret string
		want   bool
	}{
		{Settings{Provider: Generic}, "x", false},
		{Settings{Provider: UIS}, "x", false},
		{Settings{Provider: Mango, APIKey: "k"}, "salt", true},
		{Settings{Provider: Mango}, "salt", false},
		{Settings{Provider: Zadarma, APIKey: "k"}, "secret", true},
		{Settings{Provider: Zadarma, APIKey: "k"}, "", false},
	} {
		h := newHookServer(t, tc.s, tc.secret)
		if got := h.cloud.CanDial(); got != tc.want {
			t.Errorf("%s key=%q secret=%q: CanDial = %v, want %v", tc.s.Provider, tc.s.APIKey, tc.secret, got, tc.want)
		}
	}
	h := newHookServer(t, Settings{Provider: UIS}, "x")
	var prog []channels.DialProgress
	err := h.cloud.Dial(context.Background(), channels.DialRequest{ID: "d1", Extension: "101", To: "+79135550102", Progress: func(p channels.DialProgress) { prog = append(prog, p) }})
	if err == nil || len(prog) != 1 || prog[0].State != channels.DialFailed {
		t.Errorf("UIS Dial = %v, progress %+v; want failed", err, prog)
	}
}

func TestRecordingLinkPassesURLs(t *testing.T) {
	h := newHookServer(t, Settings{Provider: UIS}, "x")
	for _, u := range []string{"https://rec.example/1.mp3", "http://r/2.wav"} {
		if got, err := h.cloud.RecordingLink(context.Background(), u); err != nil || got != u {
			t.Errorf("RecordingLink(%q) = %q, %v", u, got, err)
		}
	}
	for _, u := range []string{"zadarma-record:1", "file:///etc/passwd"} {
		if got, err := h.cloud.RecordingLink(context.Background(), u); err == nil {
			t.Errorf("UIS resolved %q to %q", u, got)
		}
	}
}

func TestSeenSetIsBounded(t *testing.T) {
	s := newSeenSet(3)
	for _, k := range []string{"a", "b", "c", "d"} {
		if !s.claim(k, testNow, time.Minute) {
			t.Fatalf("claim(%s) = false", k)
		}
	}
	if len(s.until) != 3 {
		t.Errorf("%d keys kept, want 3", len(s.until))
	}
	if !s.claim("a", testNow, time.Minute) {
		t.Error("the oldest key was not forgotten")
	}
	if s.claim("d", testNow, time.Minute) {
		t.Error("a fresh key was claimed twice")
	}
	if !s.claim("d", testNow.Add(2*time.Minute), time.Minute) {
		t.Error("an expired key was not claimable")
	}
}

func TestMemoryIsBounded(t *testing.T) {
	m := newMemory(2, time.Hour)
	q := &hookRequest{r: httptest.NewRequest(http.MethodPost, "/", nil), now: testNow}
	for _, id := range []string{"a", "b", "c"} {
		m.note(id, q, func(p *partial) { p.From = id })
	}
	if len(m.calls) != 2 || m.peek("a", testNow).From != "" || m.peek("c", testNow).From != "c" {
		t.Errorf("calls = %v, want b and c", m.calls)
	}
	if m.peek("c", testNow.Add(2*time.Hour)).From != "" {
		t.Error("an expired call was remembered")
	}
	if !strings.Contains(rawOfPartial(m, "c"), `"path"`) {
		t.Error("the raw request was not kept")
	}
}

func rawOfPartial(m *memory, id string) string {
	b, _ := json.Marshal(m.peek(id, testNow).Raw)
	return string(b)
}

// FuzzCloudTranslate feeds any body to every provider's checks and
// mapper: a refusal is fine, a panic is not.
func FuzzCloudTranslate(f *testing.F) {
	f.Add("events/summary", []byte("json=%7B%22entry_id%22%3A%22E%22%2C%22call_direction%22%3A1%7D"))
	f.Add("", []byte("event=NOTIFY_END&pbx_call_id=x&caller_id=1&called_did=2&duration=-1&call_start=2026-12-03+11%3A58%3A00"))
	f.Add("", []byte(`{"event":"ended","call_session_id":[1],"talk_time_duration":1e99}`))
	providers := []provider{&generic{}, &mango{}, &zadarma{}, &uis{}}
	f.Fuzz(func(t *testing.T, path string, body []byte) {
		for _, p := range providers {
			q := &hookRequest{r: httptest.NewRequest(http.MethodPost, "/", nil), path: path, body: body, now: testNow}
			p.verify(q)
			out, err := p.translate(q, newMemory(10, time.Hour))
			if err == nil && out.in != nil && out.in.ExternalID == "" {
				t.Errorf("%s: an Inbound without ExternalID", p.name())
			}
		}
	})
}

// dialLog collects click-to-call progress, from any goroutine.
type dialLog struct {
	mu  sync.Mutex
	got []channels.DialProgress
}

func (l *dialLog) add(p channels.DialProgress) {
	l.mu.Lock()
	l.got = append(l.got, p)
	l.mu.Unlock()
}

// states waits up to a second for n reports and returns their states.
func (l *dialLog) states(n int) string {
	for range 100 {
		l.mu.Lock()
		k := len(l.got)
		l.mu.Unlock()
		if k >= n {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	var s []string
	for _, p := range l.got {
		if p.Error != "" {
			p.State += channels.DialState(" " + p.Error)
		}
		s = append(s, string(p.State))
	}
	return strings.Join(s, ",")
}
