package phone

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/switchboard/switchboard/channels"
)

const (
	zdKey    = "a1b2c3d4e5f6"
	zdSecret = "zsecret_4b1d"
	zdStart  = "2026-12-03 11:58:00" // Moscow time of the PBX, 08:58 UTC
)

// zdPost is Zadarma posting the notification v, signed under secret.
func zdPost(v url.Values, secret string) *http.Request {
	r := post("/hooks/phone/7", "application/x-www-form-urlencoded", []byte(v.Encode()))
	r.Header.Set("Signature", zadarmaSign(secret, zadarmaSigned(v)))
	return r
}

func zdStartEvent(id string) url.Values {
	return url.Values{"event": {"NOTIFY_START"}, "call_start": {zdStart}, "pbx_call_id": {id}, "caller_id": {"79135550102"}, "called_did": {"73832349096"}}
}

func zdEnd(id, disposition, duration string) url.Values {
	v := zdStartEvent(id)
	v.Set("event", "NOTIFY_END")
	v.Set("internal", "101")
	v.Set("disposition", disposition)
	v.Set("duration", duration)
	v.Set("status_code", "16")
	v.Set("is_recorded", "0")
	return v
}

func newZadarma(t *testing.T, api string) *hookServer {
	return newHookServer(t, Settings{Provider: Zadarma, APIKey: zdKey, APIURL: api}, zdSecret)
}

// TestZadarmaSignatureVector checks our signing against a value computed
// independently (Python's hmac, following Zadarma's PHP library).
func TestZadarmaSignatureVector(t *testing.T) {
	if got := zadarmaSign(zdSecret, zadarmaSigned(zdStartEvent("x"))); got != "ZThiZThlZDgzNmRhNGNmMjgxMzUwYjA1Y2Q1NmEzZTAzNDlkYmEwMQ==" {
		t.Errorf("signature = %s", got)
	}
	if got := mangoSign(mangoKey, `{"a":1}`, mangoSalt); got != "0fc4bf4f666a15e3670c1b451c8ab8f22d33be5c74e1efabd734c0876e86fbcb" {
		t.Errorf("mango sign = %s", got)
	}
}

func TestZadarmaEcho(t *testing.T) {
	h := newZadarma(t, "")
	got := h.send(t, httptest.NewRequest(http.MethodGet, "/hooks/phone/7?zd_echo=9f8e7d", nil))
	if got.status != 200 || got.body != "9f8e7d" {
		t.Errorf("echo = %d %q", got.status, got.body)
	}
	if got := h.send(t, httptest.NewRequest(http.MethodGet, "/hooks/phone/7", nil)); got.status != 400 {
		t.Errorf("GET without zd_echo = %d", got.status)
	}
}

func TestZadarmaAnsweredCall(t *testing.T) {
	h := newZadarma(t, "")
	answer := url.Values{"event": {"NOTIFY_ANSWER"}, "call_start": {zdStart}, "pbx_call_id": {"in_1"}, "caller_id": {"79135550102"}, "destination": {"102"}, "internal": {"102"}}
	end := zdEnd("in_1", "answered", "95")
	end.Set("internal", "102")
	end.Set("is_recorded", "1")
	end.Set("call_id_with_rec", "1733216280.1234")
	for i, v := range []url.Values{zdStartEvent("in_1"), answer, end} {
		h.cloud.now = func() time.Time { return testNow.Add(time.Duration(i) * 15 * time.Second) }
		if got := h.send(t, zdPost(v, zdSecret)); got.status != 200 || got.resp.Stored != (i == 2) {
			t.Fatalf("%s: %d %s", v.Get("event"), got.status, got.body)
		}
	}
	calls := h.sink.all()
	if len(calls) != 1 {
		t.Fatalf("%d calls", len(calls))
	}
	c := calls[0]
	want := channels.CallInfo{Answered: true, Ring: 15 * time.Second, Duration: 95 * time.Second, Extension: "102", RecordingURL: "zadarma-record:1733216280.1234"}
	if c.ExternalID != "zadarma:in_1" || c.From[0].Value != "79135550102" || c.EntryPoint != "73832349096" || *c.Call != want || !c.At.Equal(testNow) {
		t.Errorf("call = %+v %+v", c, *c.Call)
	}
	if raw := rawOf(t, c); len(raw) != 3 || !strings.Contains(raw[2].Body, "NOTIFY_END") {
		t.Errorf("raw = %+v", raw)
	}
}

func TestZadarmaRefuses(t *testing.T) {
	end := zdEnd("in_2", "answered", "10")
	for _, tc := range []struct {
		name   string
		req    func() *http.Request
		status int
		code   string
	}{
		{"wrong secret", func() *http.Request { return zdPost(end, "another") }, 401, CodeBadSignature},
		{"caller_id changed after signing", func() *http.Request {
			r := zdPost(end, zdSecret)
			v := zdEnd("in_2", "answered", "10")
			v.Set("caller_id", "79990000000")
			r2 := post("/hooks/phone/7", "application/x-www-form-urlencoded", []byte(v.Encode()))
			r2.Header = r.Header
			return r2
		}, 401, CodeBadSignature},
		{"no Signature", func() *http.Request {
			return post("/hooks/phone/7", "application/x-www-form-urlencoded", []byte(end.Encode()))
		}, 401, CodeUnauthorized},
		{"two days old", func() *http.Request {
			v := zdEnd("in_2", "answered", "10")
			v.Set("call_start", "2026-12-01 11:58:00")
			return zdPost(v, zdSecret)
		}, 401, CodeStale},
		{"a day ahead", func() *http.Request {
			v := zdEnd("in_2", "answered", "10")
			v.Set("call_start", "2026-12-04 11:58:00")
			return zdPost(v, zdSecret)
		}, 401, CodeStale},
		{"call_start garbage", func() *http.Request {
			v := zdEnd("in_2", "answered", "10")
			v.Set("call_start", "yesterday")
			return zdPost(v, zdSecret)
		}, 422, CodeInvalid},
		{"no event", func() *http.Request {
			return post("/hooks/phone/7", "application/x-www-form-urlencoded", []byte("a=b"))
		}, 400, CodeBadRequest},
		{"no pbx_call_id", func() *http.Request {
			v := zdEnd("", "answered", "10")
			return zdPost(v, zdSecret)
		}, 422, CodeInvalid},
		{"duration not a number", func() *http.Request { return zdPost(zdEnd("in_2", "answered", "ten"), zdSecret) }, 422, CodeInvalid},
		{"a sub-path", func() *http.Request {
			r := zdPost(end, zdSecret)
			r.URL.Path = "/hooks/phone/7/x"
			return r
		}, 404, CodeNotFound},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newZadarma(t, "")
			wantRefused(t, h, h.send(t, tc.req()), tc.status, tc.code)
		})
	}
}

func TestZadarmaReplayAndEndTwice(t *testing.T) {
	h := newZadarma(t, "")
	end := zdEnd("in_3", "answered", "40")
	first := h.send(t, zdPost(end, zdSecret))
	replay := h.send(t, zdPost(end, zdSecret))
	if !first.resp.Stored || replay.status != 200 || replay.resp.Stored || len(h.sink.all()) != 1 {
		t.Fatalf("first %s replay %s", first.body, replay.body)
	}
	end.Set("status_code", "31") // a retry that differs: the same call
	again := h.send(t, zdPost(end, zdSecret))
	if !again.resp.Duplicate || again.resp.TouchID != first.resp.TouchID {
		t.Errorf("again = %s", again.body)
	}
}

func TestZadarmaMissedOutboundInternal(t *testing.T) {
	h := newZadarma(t, "")
	out := url.Values{"event": {"NOTIFY_OUT_END"}, "call_start": {zdStart}, "pbx_call_id": {"out_1"}, "internal": {"101"},
		"destination": {"79135550103"}, "disposition": {"answered"}, "duration": {"33"}, "is_recorded": {"0"}}
	internalOut := url.Values{"event": {"NOTIFY_OUT_END"}, "call_start": {zdStart}, "pbx_call_id": {"out_2"}, "internal": {"101"},
		"destination": {"102"}, "disposition": {"answered"}, "duration": {"5"}}
	internalIn := zdEnd("in_9", "answered", "5")
	internalIn.Set("caller_id", "103")
	internalIn.Set("called_did", "104")
	for _, v := range []url.Values{zdEnd("in_4", "busy", "0"), zdEnd("in_5", "cancel", "12"), zdEnd("in_6", "no answer", "30"),
		zdEnd("in_7", "no money", "0"), out, internalOut, internalIn, {"event": {"NOTIFY_IVR"}, "pbx_call_id": {"x"}, "call_start": {zdStart}}} {
		if got := h.send(t, zdPost(v, zdSecret)); got.status != 200 {
			t.Fatalf("%v: %d %s", v, got.status, got.body)
		}
	}
	calls := h.sink.all()
	if len(calls) != 5 {
		t.Fatalf("%d calls, want 5 (internal ones and IVR ignored)", len(calls))
	}
	for i, want := range []string{channels.MissedBusy, channels.MissedCancelled, channels.MissedNoAnswer, channels.MissedFailed} {
		if c := calls[i].Call; c.Answered || c.Missed != want || c.Extension != "" {
			t.Errorf("call %d = %+v, want missed %s", i, *c, want)
		}
	}
	if calls[1].Call.Ring != 12*time.Second {
		t.Errorf("cancelled ring = %v", calls[1].Call.Ring)
	}
	if o := calls[4]; !o.Outgoing || o.From[0].Value != "79135550103" || o.EntryPoint != "" || o.Call.Extension != "101" || o.Call.Duration != 33*time.Second {
		t.Errorf("outbound = %+v %+v", o, *o.Call)
	}
}

func TestZadarmaRecordAfterTheEnd(t *testing.T) {
	h := newZadarma(t, "")
	h.send(t, zdPost(zdEnd("in_8", "answered", "20"), zdSecret))
	rec := url.Values{"event": {"NOTIFY_RECORD"}, "pbx_call_id": {"in_8"}, "call_id_with_rec": {"1733216280.99"}}
	if got := h.send(t, zdPost(rec, zdSecret)); got.status != 200 || !got.resp.Stored {
		t.Fatalf("%d %s", got.status, got.body)
	}
	calls := h.sink.all()
	r := calls[len(calls)-1]
	if len(calls) != 2 || r.ExternalID != "zadarma:in_8" || r.Call.RecordingURL != "zadarma-record:1733216280.99" || r.From[0].Value != "79135550102" {
		t.Errorf("recording = %+v", r)
	}
}

// fakeZadarmaAPI checks the Authorization the way Zadarma's API does: key,
// then the signature of method + sorted query + md5(query).
func fakeZadarmaAPI(t *testing.T, handle func(w http.ResponseWriter, r *http.Request)) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query().Encode()
		sum := md5.Sum([]byte(q))
		if r.Header.Get("Authorization") != zdKey+":"+zadarmaSign(zdSecret, r.URL.Path+q+hex.EncodeToString(sum[:])) || r.URL.Query().Get("format") != "json" {
			w.WriteHeader(401)
			io.WriteString(w, `{"status":"error","message":"Not authorized"}`)
			return
		}
		handle(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestZadarmaDial(t *testing.T) {
	api := fakeZadarmaAPI(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/v1/request/callback/" || r.URL.Query().Get("from") != "101" {
			t.Errorf("%s", r.URL)
		}
		if r.URL.Query().Get("to") == "79990000000" {
			io.WriteString(w, `{"status":"error","message":"Wrong number format"}`)
			return
		}
		io.WriteString(w, `{"status":"success","from":101,"to":79135550102,"time":1733216280}`)
	})
	h := newZadarma(t, api.URL)
	var prog []channels.DialProgress
	req := channels.DialRequest{ID: "d2", Extension: "101", To: "+7 913 555-01-02", Progress: func(p channels.DialProgress) { prog = append(prog, p) }}
	if err := h.cloud.Dial(context.Background(), req); err != nil {
		t.Fatalf("Dial: %v", err)
	}
	req.To = "+79990000000"
	if err := h.cloud.Dial(context.Background(), req); err == nil {
		t.Error("a refused callback did not fail")
	}
	if len(prog) != 2 || prog[0].State != channels.DialRinging || prog[1].State != channels.DialFailed || !strings.Contains(prog[1].Error, "Wrong number format") {
		t.Errorf("progress = %+v", prog)
	}
	bad := newHookServer(t, Settings{Provider: Zadarma, APIKey: zdKey, APIURL: api.URL}, "wrong")
	if err := bad.cloud.Dial(context.Background(), req); err == nil || !strings.Contains(err.Error(), "Not authorized") {
		t.Errorf("wrongly signed: %v", err)
	}
	// The independent vector: Python's hmac over method + query + md5(query).
	q := "format=json&from=101&to=79135550102"
	sum := md5.Sum([]byte(q))
	if got := zadarmaSign(zdSecret, "/v1/request/callback/"+q+hex.EncodeToString(sum[:])); got != "YzFmYmM3ZDg5ZTkwNjM2YjRkNGZjMjgxNDY4YTY3ZDZmZjkwMjA2Ng==" {
		t.Errorf("API signature = %s", got)
	}
}

func TestZadarmaRecordingLink(t *testing.T) {
	api := fakeZadarmaAPI(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/v1/pbx/record/request/" || r.URL.Query().Get("call_id") != "1733216280.99" {
			t.Errorf("%s", r.URL)
		}
		io.WriteString(w, `{"status":"success","link":"https://api.zadarma.com/v1/pbx/record/download/abc/1733216280.99.mp3","lifetime_till":"2026-12-03 12:30:00"}`)
	})
	h := newZadarma(t, api.URL)
	link, err := h.cloud.RecordingLink(context.Background(), "zadarma-record:1733216280.99")
	if err != nil || !strings.HasSuffix(link, "1733216280.99.mp3") {
		t.Errorf("RecordingLink = %q, %v", link, err)
	}
	if _, err := h.cloud.RecordingLink(context.Background(), "mango-record:1"); err == nil {
		t.Error("Zadarma resolved a Mango reference")
	}
}

func TestZadarmaDialConnected(t *testing.T) {
	api := fakeZadarmaAPI(t, func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, `{"status":"success"}`) })
	h := newZadarma(t, api.URL)
	l := &dialLog{}
	if err := h.cloud.Dial(context.Background(), channels.DialRequest{ID: "z1", Extension: "101", To: "+7 913 555-01-02", Progress: l.add}); err != nil {
		t.Fatal(err)
	}
	start := url.Values{"event": {"NOTIFY_OUT_START"}, "call_start": {zdStart}, "pbx_call_id": {"out_9"}, "internal": {"101"}, "destination": {"79135550102"}}
	if got := h.send(t, zdPost(start, zdSecret)); got.status != 200 {
		t.Fatalf("%d %s", got.status, got.body)
	}
	if got := l.states(2); got != "ringing,connected" {
		t.Errorf("progress: %s", got)
	}
}
