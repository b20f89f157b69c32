package phone

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/switchboard/switchboard/channels"
)

const uisToken = "u1s-7Hq2ZkP9xW"

// uisEnded is what UIS sends from the template in docs/phone-cloud.md
// for the call-ended notification, its variables filled in as JSON values.
const uisEnded = `{
  "event": "ended",
  "call_session_id": 4218529361,
  "direction": "in",
  "is_internal": false,
  "contact_phone_number": "79135550102",
  "virtual_phone_number": "73832349096",
  "employee_id": 2417,
  "employee_phone_number": "101",
  "start_time": "2026-12-03 11:57:30",
  "notification_time": "2026-12-03 11:59:59.512",
  "wait_time_duration": 30,
  "talk_time_duration": 120,
  "total_time_duration": 150,
  "finish_reason": "subscriber_disconnects",
  "recording_url": null
}`

func uisPost(token, body string) *http.Request {
	return post("/hooks/phone/7/"+token, "application/json", []byte(body))
}

func newUIS(t *testing.T) *hookServer { return newHookServer(t, Settings{Provider: UIS}, uisToken) }

func TestUISEndedMakesTheCall(t *testing.T) {
	h := newUIS(t)
	got := h.send(t, uisPost(uisToken, uisEnded))
	calls := h.sink.all()
	if got.status != 200 || !got.resp.Stored || len(calls) != 1 {
		t.Fatalf("%d %s", got.status, got.body)
	}
	c := calls[0]
	want := channels.CallInfo{Answered: true, Ring: 30 * time.Second, Duration: 2 * time.Minute, Extension: "2417"}
	if c.ExternalID != "uis:4218529361" || c.From[0].Value != "79135550102" || c.EntryPoint != "73832349096" || c.Outgoing ||
		*c.Call != want || !c.At.Equal(testNow.Add(-150*time.Second)) || c.Meta["start_time"] != "2026-12-03 11:57:30" {
		t.Errorf("call = %+v %+v", c, *c.Call)
	}
	if raw := rawOf(t, c); len(raw) != 1 || raw[0].Path != "{secret}" || raw[0].Body != uisEnded {
		t.Errorf("raw = %+v", raw)
	}
	bad := h.send(t, uisPost(uisToken, strings.Replace(uisEnded, `"in"`, `"up"`, 1)))
	if bad.status != 422 || strings.Contains(h.logs.String(), uisToken) {
		t.Errorf("the secret reached the log: %s", h.logs)
	}
}

func TestUISRefuses(t *testing.T) {
	for _, tc := range []struct {
		name   string
		req    *http.Request
		status int
		code   string
	}{
		{"wrong secret", uisPost("guess", uisEnded), 401, CodeBadSignature},
		{"no secret", post("/hooks/phone/7", "application/json", []byte(uisEnded)), 401, CodeUnauthorized},
		{"two days old", uisPost(uisToken, strings.Replace(uisEnded, "2026-12-03 11:59:59.512", "2026-12-01 11:59:59", 1)), 401, CodeStale},
		{"not JSON", uisPost(uisToken, "call ended"), 400, CodeBadRequest},
		{"an empty variable left bare", uisPost(uisToken, strings.Replace(uisEnded, `150`, ``, 1)), 400, CodeBadRequest},
		{"no session id", uisPost(uisToken, strings.Replace(uisEnded, "4218529361", "null", 1)), 422, CodeInvalid},
		{"bad direction", uisPost(uisToken, strings.Replace(uisEnded, `"direction": "in"`, `"direction": "up"`, 1)), 422, CodeInvalid},
		{"bad duration", uisPost(uisToken, strings.Replace(uisEnded, `120`, `"2 min"`, 1)), 422, CodeInvalid},
		{"absurd duration", uisPost(uisToken, strings.Replace(uisEnded, `120`, `1e99`, 1)), 422, CodeInvalid},
		{"unknown event", uisPost(uisToken, strings.Replace(uisEnded, `"ended"`, `"started"`, 1)), 422, CodeInvalid},
		{"recording without link", uisPost(uisToken, strings.Replace(uisEnded, `"ended"`, `"recording"`, 1)), 422, CodeInvalid},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newUIS(t)
			wantRefused(t, h, h.send(t, tc.req), tc.status, tc.code)
		})
	}
	h := newHookServer(t, Settings{Provider: UIS}, "")
	wantRefused(t, h, h.send(t, uisPost("x", uisEnded)), 401, CodeUnauthorized)
}

func TestUISReplayAndSameCallTwice(t *testing.T) {
	h := newUIS(t)
	first := h.send(t, uisPost(uisToken, uisEnded))
	replay := h.send(t, uisPost(uisToken, uisEnded))
	if !first.resp.Stored || replay.status != 200 || replay.resp.Stored || len(h.sink.all()) != 1 {
		t.Fatalf("first %s replay %s", first.body, replay.body)
	}
	again := h.send(t, uisPost(uisToken, strings.Replace(uisEnded, "59.512", "59.913", 1)))
	if !again.resp.Duplicate || again.resp.TouchID != first.resp.TouchID {
		t.Errorf("again = %s", again.body)
	}
}

func TestUISMissedOutboundInternal(t *testing.T) {
	h := newUIS(t)
	missed := strings.NewReplacer(`4218529361`, `1`, `"talk_time_duration": 120`, `"talk_time_duration": 0`, `"total_time_duration": 150`, `"total_time_duration": 40`).Replace(uisEnded)
	out := strings.NewReplacer(`4218529361`, `2`, `"direction": "in"`, `"direction": "out"`, `"contact_phone_number": "79135550102"`, `"contact_phone_number": 79135550103`).Replace(uisEnded)
	internal := strings.NewReplacer(`4218529361`, `3`, `"is_internal": false`, `"is_internal": true`).Replace(uisEnded)
	for _, b := range []string{missed, out, internal} {
		if got := h.send(t, uisPost(uisToken, b)); got.status != 200 {
			t.Fatalf("%d %s", got.status, got.body)
		}
	}
	calls := h.sink.all()
	if len(calls) != 2 {
		t.Fatalf("%d calls, want 2 (internal ignored)", len(calls))
	}
	if c := calls[0].Call; c.Answered || c.Missed != channels.MissedCancelled || c.Ring != 30*time.Second || c.Extension != "" {
		t.Errorf("missed = %+v", *c)
	}
	if o := calls[1]; !o.Outgoing || o.From[0].Value != "79135550103" || o.EntryPoint != "" || o.Call.Extension != "2417" {
		t.Errorf("outbound = %+v %+v", o, *o.Call)
	}
}

func TestUISRecordingAfterTheEnd(t *testing.T) {
	h := newUIS(t)
	h.send(t, uisPost(uisToken, uisEnded))
	rec := `{"event":"recording","call_session_id":"4218529361","recording_url":"https://app.uiscom.ru/system/media/talk/4218529361/abc/"}`
	if got := h.send(t, uisPost(uisToken, rec)); !got.resp.Stored {
		t.Fatalf("%s", got.body)
	}
	calls := h.sink.all()
	r := calls[len(calls)-1]
	if len(calls) != 2 || r.ExternalID != "uis:4218529361" || !strings.HasPrefix(r.Call.RecordingURL, "https://app.uiscom.ru/") || r.From[0].Value != "79135550102" {
		t.Errorf("recording = %+v", r)
	}
}

// TestUISQuotedTemplate: a template written with quotes around every
// variable reads the same.
func TestUISQuotedTemplate(t *testing.T) {
	h := newUIS(t)
	quoted := `{"event":"ended","call_session_id":"77","direction":"in","is_internal":"false","contact_phone_number":"79135550102",` +
		`"virtual_phone_number":"73832349096","employee_id":"","employee_phone_number":"101","start_time":"2026-12-03T08:58:00Z",` +
		`"notification_time":"","wait_time_duration":"","talk_time_duration":"45","total_time_duration":"60","finish_reason":"","recording_url":""}`
	if got := h.send(t, uisPost(uisToken, quoted)); got.status != 200 || !got.resp.Stored {
		t.Fatalf("%d %s", got.status, got.body)
	}
	c := h.sink.all()[0]
	if c.ExternalID != "uis:77" || c.Call.Extension != "101" || c.Call.Ring != 15*time.Second || c.Call.Duration != 45*time.Second ||
		!c.At.Equal(time.Date(2026, 12, 3, 8, 58, 0, 0, time.UTC)) {
		t.Errorf("call = %+v %+v", c, *c.Call)
	}
}
