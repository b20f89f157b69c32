package phone

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/switchboard/switchboard/channels"
)

const genSecret = "whsec_phone_9f2c"

// signedGeneric is a POST of body to the generic hook signed at ts.
func signedGeneric(body []byte, secret string, ts time.Time) *http.Request {
	r := post("/hooks/phone/7", "application/json", body)
	stamp := strconv.FormatInt(ts.Unix(), 10)
	r.Header.Set(HeaderTimestamp, stamp)
	r.Header.Set(HeaderSignature, SignGeneric([]byte(secret), stamp, body))
	return r
}

func genBody(fields string) []byte { return []byte("{" + fields + "}") }

func TestGenericEndedAloneMakesTheCall(t *testing.T) {
	h := newHookServer(t, Settings{Provider: Generic}, genSecret)
	body := genBody(`"call_id":"c-1","event":"ended","direction":"in","from":"8 (913) 555-01-02","to":"+7 383 234-90-96",
		"extension":"101","started_at":"2026-12-03T11:58:00+03:00","answered_at":"2026-12-03T11:58:12+03:00",
		"ended_at":"2026-12-03T12:01:12+03:00","queue":"sales","recording_url":"https://pbx.example/rec/c-1.mp3"`)
	got := h.send(t, signedGeneric(body, genSecret, testNow))
	if got.status != 200 || !got.resp.Stored || got.resp.TouchID != 1 {
		t.Fatalf("answer = %d %s", got.status, got.body)
	}
	calls := h.sink.all()
	if len(calls) != 1 {
		t.Fatalf("%d calls stored, want 1", len(calls))
	}
	in := calls[0]
	want := channels.CallInfo{Answered: true, Ring: 12 * time.Second, Duration: 3 * time.Minute, Extension: "101", Queue: "sales", RecordingURL: "https://pbx.example/rec/c-1.mp3"}
	if in.ExternalID != "generic:c-1" || in.Kind != channels.Call || in.AccountID != 7 || in.Outgoing ||
		in.EntryPoint != "+7 383 234-90-96" || len(in.From) != 1 || in.From[0] != (channels.Handle{Kind: "phone", Value: "8 (913) 555-01-02"}) ||
		*in.Call != want || !in.At.Equal(time.Date(2026, 12, 3, 8, 58, 0, 0, time.UTC)) {
		t.Errorf("Inbound = %+v, call %+v", in, *in.Call)
	}
	if raw := rawOf(t, in); len(raw) != 1 || raw[0].Body != string(body) || raw[0].ContentType != "application/json" {
		t.Errorf("raw = %+v", raw)
	}
}

func TestGenericRingingAnsweredEnded(t *testing.T) {
	h := newHookServer(t, Settings{Provider: Generic}, genSecret)
	for i, f := range []string{
		`"call_id":"c-2","event":"ringing","direction":"in","from":"+79135550102","to":"+73832349096","started_at":"2026-12-03T08:58:00Z"`,
		`"call_id":"c-2","event":"answered","direction":"in","extension":"102","answered_at":"2026-12-03T08:58:20Z"`,
		`"call_id":"c-2","event":"ended","direction":"in","ended_at":"2026-12-03T08:59:20Z"`,
	} {
		got := h.send(t, signedGeneric(genBody(f), genSecret, testNow))
		if got.status != 200 || got.resp.Stored != (i == 2) {
			t.Fatalf("event %d: answer = %d %s", i, got.status, got.body)
		}
	}
	calls := h.sink.all()
	if len(calls) != 1 {
		t.Fatalf("%d calls, want 1", len(calls))
	}
	c := calls[0]
	if c.From[0].Value != "+79135550102" || c.EntryPoint != "+73832349096" || c.Call.Extension != "102" ||
		c.Call.Ring != 20*time.Second || c.Call.Duration != time.Minute || !c.Call.Answered {
		t.Errorf("call = %+v %+v", c, *c.Call)
	}
	if raw := rawOf(t, c); len(raw) != 3 {
		t.Errorf("%d raw requests kept, want 3", len(raw))
	}
}

func TestGenericRefusesForgedStaleUnsigned(t *testing.T) {
	body := genBody(`"call_id":"c-3","event":"ended","direction":"in","from":"+79135550102","to":"+73832349096"`)
	for _, tc := range []struct {
		name   string
		req    func() *http.Request
		status int
		code   string
	}{
		{"wrong secret", func() *http.Request { return signedGeneric(body, "another", testNow) }, 401, CodeBadSignature},
		{"body changed after signing", func() *http.Request {
			r := signedGeneric(body, genSecret, testNow)
			r2 := post("/hooks/phone/7", "application/json", []byte(strings.Replace(string(body), "c-3", "c-4", 1)))
			r2.Header = r.Header
			return r2
		}, 401, CodeBadSignature},
		{"six minutes old", func() *http.Request { return signedGeneric(body, genSecret, testNow.Add(-6*time.Minute)) }, 401, CodeStale},
		{"six minutes ahead", func() *http.Request { return signedGeneric(body, genSecret, testNow.Add(6*time.Minute)) }, 401, CodeStale},
		{"milliseconds", func() *http.Request {
			r := signedGeneric(body, genSecret, testNow)
			r.Header.Set(HeaderTimestamp, fmt.Sprint(testNow.UnixMilli()))
			return r
		}, 401, CodeStale},
		{"unsigned", func() *http.Request { return post("/hooks/phone/7", "application/json", body) }, 401, CodeUnauthorized},
		{"a sub-path", func() *http.Request {
			r := signedGeneric(body, genSecret, testNow)
			r.URL.Path = "/hooks/phone/7/events"
			return r
		}, 404, CodeNotFound},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHookServer(t, Settings{Provider: Generic}, genSecret)
			wantRefused(t, h, h.send(t, tc.req()), tc.status, tc.code)
		})
	}
	h := newHookServer(t, Settings{Provider: Generic}, "")
	wantRefused(t, h, h.send(t, signedGeneric(body, "", testNow)), 401, CodeUnauthorized)
}

func TestGenericReplayAndSameCallTwice(t *testing.T) {
	h := newHookServer(t, Settings{Provider: Generic}, genSecret)
	body := genBody(`"call_id":"c-5","event":"ended","direction":"in","from":"+79135550102","to":"+73832349096","talk_seconds":30`)
	first := h.send(t, signedGeneric(body, genSecret, testNow))
	replay := h.send(t, signedGeneric(body, genSecret, testNow))
	if first.status != 200 || !first.resp.Stored || replay.status != 200 || replay.resp.Stored || !replay.resp.Duplicate {
		t.Fatalf("first %s, replay %s", first.body, replay.body)
	}
	if n := len(h.sink.all()); n != 1 {
		t.Fatalf("the replay reached the sink: %d calls", n)
	}
	// A retry signed anew is not a replay: it reaches ingest, which
	// reports the duplicate by the stable ExternalID.
	again := h.send(t, signedGeneric(body, genSecret, testNow.Add(time.Second)))
	calls := h.sink.all()
	if again.status != 200 || !again.resp.Duplicate || again.resp.TouchID != first.resp.TouchID || len(calls) != 2 || calls[1].ExternalID != calls[0].ExternalID {
		t.Errorf("again = %s; calls %d", again.body, len(calls))
	}
}

func TestGenericMissedOutboundInternal(t *testing.T) {
	h := newHookServer(t, Settings{Provider: Generic}, genSecret)
	for _, f := range []string{
		`"call_id":"m-1","event":"ended","direction":"in","from":"+79135550102","to":"+73832349096","ring_seconds":25,"missed_reason":"busy","ended_at":"2026-12-03T08:59:00Z"`,
		`"call_id":"o-1","event":"ended","direction":"out","from":"101","to":"+7 913 555-01-03","extension":"101","ring_seconds":5,"talk_seconds":61`,
		`"call_id":"i-1","event":"ended","direction":"internal","from":"101","to":"102","talk_seconds":10`,
	} {
		if got := h.send(t, signedGeneric(genBody(f), genSecret, testNow)); got.status != 200 {
			t.Fatalf("answer = %d %s", got.status, got.body)
		}
	}
	calls := h.sink.all()
	if len(calls) != 2 {
		t.Fatalf("%d calls, want 2 (the internal one ignored)", len(calls))
	}
	m, o := calls[0], calls[1]
	if m.Call.Answered || m.Call.Missed != channels.MissedBusy || m.Call.Ring != 25*time.Second || !m.At.Equal(testNow.Add(-85*time.Second)) {
		t.Errorf("missed = %+v at %v", *m.Call, m.At)
	}
	if !o.Outgoing || o.From[0].Value != "+7 913 555-01-03" || o.EntryPoint != "" || o.Call.Extension != "101" || !o.Call.Answered || o.Call.Duration != 61*time.Second {
		t.Errorf("outbound = %+v %+v", o, *o.Call)
	}
}

func TestGenericRecordingAfterTheEnd(t *testing.T) {
	h := newHookServer(t, Settings{Provider: Generic}, genSecret)
	h.send(t, signedGeneric(genBody(`"call_id":"r-1","event":"ended","direction":"in","from":"+79135550102","to":"+73832349096","talk_seconds":9`), genSecret, testNow))
	got := h.send(t, signedGeneric(genBody(`"call_id":"r-1","event":"recording","recording_url":"https://pbx.example/r-1.mp3"`), genSecret, testNow))
	calls := h.sink.all()
	if got.status != 200 || len(calls) != 2 {
		t.Fatalf("answer %s, %d calls", got.body, len(calls))
	}
	r := calls[1]
	if r.ExternalID != "generic:r-1" || r.Call.RecordingURL != "https://pbx.example/r-1.mp3" || !r.Call.RecordingOnly || r.Call.Answered || r.From[0].Value != "+79135550102" || r.EntryPoint != "+73832349096" {
		t.Errorf("recording = %+v %+v", r, *r.Call)
	}
}

func TestGenericGarbage(t *testing.T) {
	for _, tc := range []struct {
		body   string
		status int
		code   string
	}{
		{``, 400, CodeBadRequest},
		{`not json`, 400, CodeBadRequest},
		{`[1,2]`, 400, CodeBadRequest},
		{`{"call_id":1,"event":"ended"}`, 400, CodeBadRequest},
		{`{"call_id":"x","event":"ended","direction":"in","started_at":"yesterday"}`, 400, CodeBadRequest},
		{`{"call_id":"x","event":"ended"} {}`, 400, CodeBadRequest},
		{`{"event":"ended","direction":"in","from":"+79135550102"}`, 422, CodeInvalid},
		{`{"call_id":"x","event":"hangup","direction":"in"}`, 422, CodeInvalid},
		{`{"call_id":"x","event":"ended","direction":"sideways"}`, 422, CodeInvalid},
		{`{"call_id":"x","event":"ended","direction":"in","from":"+79135550102","missed_reason":"asleep"}`, 422, CodeInvalid},
		{`{"call_id":"x","event":"ended","direction":"in","to":"+73832349096"}`, 422, CodeInvalid},
		{`{"call_id":"x","event":"recording"}`, 422, CodeInvalid},
		{`{"call_id":"x","event":"recording","recording_url":"javascript:alert(1)"}`, 422, CodeInvalid},
		{`{"call_id":"` + strings.Repeat("x", 201) + `","event":"ended","direction":"in"}`, 422, CodeInvalid},
		{`{"call_id":"x","event":"ended","direction":"in","from":"+79135550102","to":"` + strings.Repeat("7", 65) + `"}`, 422, CodeInvalid},
	} {
		h := newHookServer(t, Settings{Provider: Generic}, genSecret)
		got := h.send(t, signedGeneric([]byte(tc.body), genSecret, testNow))
		if got.status != tc.status || got.code != tc.code {
			t.Errorf("%.60s: answer %d %s, want %d %s", tc.body, got.status, got.body, tc.status, tc.code)
		}
		if len(h.sink.all()) != 0 || !strings.Contains(h.logs.String(), "account=7") {
			t.Errorf("%.60s: stored, or not logged with the account: %s", tc.body, h.logs)
		}
	}
}

func TestGenericSinkFailures(t *testing.T) {
	h := newHookServer(t, Settings{Provider: Generic}, genSecret)
	body := genBody(`"call_id":"f-1","event":"ended","direction":"in","from":"+79135550102","to":"+73832349096"`)
	h.sink.fail = channels.Invalid(fmt.Errorf("no sender handle"))
	if got := h.send(t, signedGeneric(body, genSecret, testNow)); got.status != 422 {
		t.Errorf("invalid in ingest: %d %s", got.status, got.body)
	}
	h.sink.fail = fmt.Errorf("database is locked")
	if got := h.send(t, signedGeneric(body, genSecret, testNow.Add(time.Second))); got.status != 500 {
		t.Errorf("store error: %d %s", got.status, got.body)
	}
	// The failed request was not marked seen: its retry is stored.
	h.sink.fail = nil
	if got := h.send(t, signedGeneric(body, genSecret, testNow.Add(time.Second))); got.status != 200 || !got.resp.Stored {
		t.Errorf("retry: %d %s", got.status, got.body)
	}
}

func FuzzGenericDecode(f *testing.F) {
	f.Add([]byte(`{"call_id":"c","event":"ended","direction":"in","from":"1","talk_seconds":3}`))
	f.Add([]byte(`{"call_id":"c","event":"recording","recording_url":"https://x"}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		e, err := decodeGeneric(b)
		if err != nil {
			return
		}
		c := genericCall("generic:"+e.CallID, e, partial{})
		c.inbound(nil)
	})
}
