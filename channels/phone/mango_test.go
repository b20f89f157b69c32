package phone

import (
	"context"
	"encoding/json"
	"fmt"
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
	mangoKey  = "8v7lygho7jb61aa7e7gwlqz6horeuqe2"
	mangoSalt = "sux7mpqilsripo5gbjok484gxb10h6ua"
)

// mangoPost is Mango posting js to path under the hook, signed with key
// and salt.
func mangoPost(path, js, key, salt string) *http.Request {
	form := url.Values{"vpbx_api_key": {key}, "sign": {mangoSign(key, js, salt)}, "json": {js}}
	return post("/hooks/phone/7/"+path, "application/x-www-form-urlencoded", []byte(form.Encode()))
}

// unix is testNow shifted by d, in unix seconds, as Mango writes times.
func unix(d time.Duration) int64 { return testNow.Add(d).Unix() }

func mangoSummary(entry string, dir, result int, forward, talk int64) string {
	return fmt.Sprintf(`{"entry_id":%q,"call_direction":%d,"from":{"extension":"","number":"79135550102"},`+
		`"to":{"extension":"101","number":"sip:ivanov@vpbx400012345.mangosip.ru"},"line_number":"73832349096",`+
		`"create_time":%d,"forward_time":%d,"talk_time":%d,"end_time":%d,"entry_result":%d,"disconnect_reason":1110}`,
		entry, dir, unix(-200*time.Second), forward, talk, unix(-20*time.Second), result)
}

func newMango(t *testing.T) *hookServer {
	return newHookServer(t, Settings{Provider: Mango, APIKey: mangoKey}, mangoSalt)
}

func TestMangoSummaryMakesTheCall(t *testing.T) {
	h := newMango(t)
	for _, js := range []string{
		fmt.Sprintf(`{"entry_id":"MTAx","call_id":"MToxMDA1","timestamp":%d,"seq":1,"call_state":"Appeared","location":"ivr","from":{"number":"79135550102"},"to":{"number":"73832349096","line_number":"73832349096"}}`, unix(-200*time.Second)),
		fmt.Sprintf(`{"entry_id":"MTAx","call_id":"MToxMDA2","timestamp":%d,"seq":2,"call_state":"Connected","location":"abonent","from":{"number":"79135550102"},"to":{"extension":"102","number":"sip:petrov@vpbx","line_number":"73832349096","acd_group":"sales"}}`, unix(-170*time.Second)),
	} {
		if got := h.send(t, mangoPost("events/call", js, mangoKey, mangoSalt)); got.status != 200 || got.resp.Stored {
			t.Fatalf("events/call: %d %s", got.status, got.body)
		}
	}
	got := h.send(t, mangoPost("events/summary", mangoSummary("MTAx", 1, 1, unix(-190*time.Second), unix(-170*time.Second)), mangoKey, mangoSalt))
	calls := h.sink.all()
	if got.status != 200 || !got.resp.Stored || len(calls) != 1 {
		t.Fatalf("summary: %d %s; %d calls", got.status, got.body, len(calls))
	}
	c := calls[0]
	want := channels.CallInfo{Answered: true, Ring: 30 * time.Second, Duration: 150 * time.Second, Extension: "102", Queue: "sales"}
	if c.ExternalID != "mango:MTAx" || c.From[0].Value != "79135550102" || c.EntryPoint != "73832349096" || c.Outgoing ||
		*c.Call != want || !c.At.Equal(testNow.Add(-200*time.Second)) || c.Meta["disconnect_reason"] != "1110" {
		t.Errorf("call = %+v %+v", c, *c.Call)
	}
	if raw := rawOf(t, c); len(raw) != 3 || raw[2].Path != "events/summary" {
		t.Errorf("raw = %+v", raw)
	}
}

func TestMangoRefuses(t *testing.T) {
	js := mangoSummary("MTAy", 1, 1, unix(-190*time.Second), unix(-170*time.Second))
	for _, tc := range []struct {
		name   string
		req    *http.Request
		status int
		code   string
	}{
		{"wrong salt", mangoPost("events/summary", js, mangoKey, "another-salt"), 401, CodeBadSignature},
		{"another account's key", mangoPost("events/summary", js, "another-key", mangoSalt), 401, CodeBadSignature},
		{"no sign", post("/hooks/phone/7/events/summary", "application/x-www-form-urlencoded", []byte(url.Values{"vpbx_api_key": {mangoKey}, "json": {js}}.Encode())), 401, CodeUnauthorized},
		{"json changed after signing", func() *http.Request {
			form := url.Values{"vpbx_api_key": {mangoKey}, "sign": {mangoSign(mangoKey, js, mangoSalt)}, "json": {strings.Replace(js, "MTAy", "MTAz", 1)}}
			return post("/hooks/phone/7/events/summary", "application/x-www-form-urlencoded", []byte(form.Encode()))
		}(), 401, CodeBadSignature},
		{"two hours old", mangoPost("events/summary", strings.Replace(js, fmt.Sprint(unix(-20*time.Second)), fmt.Sprint(unix(-2*time.Hour)), 1), mangoKey, mangoSalt), 401, CodeStale},
		{"call event from the future", mangoPost("events/call", fmt.Sprintf(`{"entry_id":"X","timestamp":%d,"call_state":"Appeared"}`, unix(time.Hour)), mangoKey, mangoSalt), 401, CodeStale},
		{"unknown path", mangoPost("hello", js, mangoKey, mangoSalt), 404, CodeNotFound},
		{"not a form", post("/hooks/phone/7/events/summary", "application/x-www-form-urlencoded", []byte("%zz")), 400, CodeBadRequest},
		{"json not JSON", mangoPost("events/summary", "{oops", mangoKey, mangoSalt), 400, CodeBadRequest},
		{"no entry_id", mangoPost("events/summary", `{"call_direction":1,"from":{"number":"79135550102"}}`, mangoKey, mangoSalt), 422, CodeInvalid},
		{"bad direction", mangoPost("events/summary", `{"entry_id":"E","call_direction":7}`, mangoKey, mangoSalt), 422, CodeInvalid},
		{"hidden caller", mangoPost("events/summary", `{"entry_id":"E","call_direction":1,"line_number":"73832349096"}`, mangoKey, mangoSalt), 422, CodeInvalid},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newMango(t)
			wantRefused(t, h, h.send(t, tc.req), tc.status, tc.code)
		})
	}
	h := newHookServer(t, Settings{Provider: Mango}, mangoSalt) // no key configured
	wantRefused(t, h, h.send(t, mangoPost("events/summary", js, "", mangoSalt)), 401, CodeUnauthorized)
}

func TestMangoReplayAndSummaryTwice(t *testing.T) {
	h := newMango(t)
	js := mangoSummary("MTA0", 1, 1, unix(-190*time.Second), unix(-170*time.Second))
	first := h.send(t, mangoPost("events/summary", js, mangoKey, mangoSalt))
	replay := h.send(t, mangoPost("events/summary", js, mangoKey, mangoSalt))
	if !first.resp.Stored || replay.status != 200 || replay.resp.Stored || len(h.sink.all()) != 1 {
		t.Fatalf("first %s replay %s", first.body, replay.body)
	}
	// Mango reporting the call again, in other bytes: the same ExternalID.
	again := h.send(t, mangoPost("events/summary", strings.Replace(js, `"disconnect_reason":1110`, `"disconnect_reason":1110,"seq":2`, 1), mangoKey, mangoSalt))
	if !again.resp.Duplicate || again.resp.TouchID != first.resp.TouchID {
		t.Errorf("again = %s", again.body)
	}
}

func TestMangoMissedOutboundInternal(t *testing.T) {
	h := newMango(t)
	for _, js := range []string{
		mangoSummary("M1", 1, 0, 0, 0),                      // hung up in the voice menu
		mangoSummary("M2", 1, 0, unix(-190*time.Second), 0), // offered, not answered
		`{"entry_id":"O1","call_direction":2,"from":{"extension":"101","number":"73832349096"},"to":{"number":"79135550103"},` +
			fmt.Sprintf(`"create_time":%d,"talk_time":%d,"end_time":%d,"entry_result":1}`, unix(-100*time.Second), unix(-90*time.Second), unix(-30*time.Second)),
		`{"entry_id":"I1","call_direction":0,"from":{"extension":"101"},"to":{"extension":"102"},"entry_result":1}`,
	} {
		if got := h.send(t, mangoPost("events/summary", js, mangoKey, mangoSalt)); got.status != 200 {
			t.Fatalf("%d %s", got.status, got.body)
		}
	}
	calls := h.sink.all()
	if len(calls) != 3 {
		t.Fatalf("%d calls, want 3 (internal ignored)", len(calls))
	}
	if c := calls[0].Call; c.Answered || c.Missed != channels.MissedAbandoned || c.Ring != 180*time.Second || c.Duration != 0 {
		t.Errorf("abandoned = %+v", *c)
	}
	if c := calls[1].Call; c.Answered || c.Missed != channels.MissedNoAnswer || c.Extension != "" || calls[1].Meta["rang_extension"] != "101" {
		t.Errorf("no answer = %+v", *c)
	}
	if o := calls[2]; !o.Outgoing || o.From[0].Value != "79135550103" || o.EntryPoint != "" || o.Call.Extension != "101" ||
		o.Call.Ring != 10*time.Second || o.Call.Duration != time.Minute {
		t.Errorf("outbound = %+v %+v", o, *o.Call)
	}
}

func TestMangoRecordingAfterTheEnd(t *testing.T) {
	h := newMango(t)
	h.send(t, mangoPost("events/summary", mangoSummary("R1", 1, 1, unix(-190*time.Second), unix(-170*time.Second)), mangoKey, mangoSalt))
	started := fmt.Sprintf(`{"entry_id":"R1","call_id":"C","recording_id":"REC1","recording_state":"Started","timestamp":%d}`, unix(-170*time.Second))
	done := fmt.Sprintf(`{"entry_id":"R1","call_id":"C","recording_id":"REC1","recording_state":"Completed","timestamp":%d}`, unix(-10*time.Second))
	if got := h.send(t, mangoPost("events/recording", started, mangoKey, mangoSalt)); got.resp.Stored {
		t.Errorf("a started recording was stored: %s", got.body)
	}
	if got := h.send(t, mangoPost("events/recording", done, mangoKey, mangoSalt)); !got.resp.Stored {
		t.Fatalf("completed recording: %s", got.body)
	}
	added := fmt.Sprintf(`{"entry_id":"R1","recording_id":"REC1","timestamp":%d}`, unix(-5*time.Second))
	if got := h.send(t, mangoPost("events/recording/added", added, mangoKey, mangoSalt)); !got.resp.Stored {
		t.Errorf("recording/added: %s", got.body)
	}
	if got := h.send(t, mangoPost("events/dtmf", `{"entry_id":"R1"}`, mangoKey, mangoSalt)); got.status != 200 || got.resp.Stored {
		t.Errorf("an unused event: %s", got.body)
	}
	calls := h.sink.all()
	r := calls[len(calls)-1]
	if len(calls) != 3 || r.ExternalID != "mango:R1" || r.Call.RecordingURL != "mango-record:REC1" || r.From[0].Value != "79135550102" {
		t.Errorf("recording = %+v", r)
	}
}

// fakeMangoAPI checks what Mango checks: the key and the signature.
func fakeMangoAPI(t *testing.T, handle func(w http.ResponseWriter, path string, cmd map[string]any)) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.ParseForm()
		js := r.PostForm.Get("json")
		if r.PostForm.Get("vpbx_api_key") != mangoKey || r.PostForm.Get("sign") != mangoSign(mangoKey, js, mangoSalt) {
			w.WriteHeader(401)
			io.WriteString(w, `{"result":3102,"message":"bad sign"}`)
			return
		}
		var cmd map[string]any
		json.Unmarshal([]byte(js), &cmd)
		handle(w, r.URL.Path, cmd)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestMangoDial(t *testing.T) {
	var got map[string]any
	api := fakeMangoAPI(t, func(w http.ResponseWriter, path string, cmd map[string]any) {
		if path != "/vpbx/commands/callback" {
			t.Errorf("path = %s", path)
		}
		got = cmd
		if cmd["to_number"] == "79990000000" {
			io.WriteString(w, `{"result":4001,"message":"number blocked"}`)
			return
		}
		io.WriteString(w, `{"result":1000}`)
	})
	h := newHookServer(t, Settings{Provider: Mango, APIKey: mangoKey, APIURL: api.URL + "/vpbx/"}, mangoSalt)
	var prog []channels.DialProgress
	req := channels.DialRequest{ID: "dial-1", Extension: "101", To: "+7 913 555-01-02", Progress: func(p channels.DialProgress) { prog = append(prog, p) }}
	if err := h.cloud.Dial(context.Background(), req); err != nil {
		t.Fatalf("Dial: %v", err)
	}
	if got["command_id"] != "dial-1" || got["to_number"] != "79135550102" || got["from"].(map[string]any)["extension"] != "101" {
		t.Errorf("command = %v", got)
	}
	req.ID, req.To = "dial-2", "+7 999 000-00-00"
	if err := h.cloud.Dial(context.Background(), req); err == nil {
		t.Error("a refused callback did not fail")
	}
	if len(prog) != 2 || prog[0].State != channels.DialRinging || prog[1].State != channels.DialFailed || !strings.Contains(prog[1].Error, "number blocked") {
		t.Errorf("progress = %+v", prog)
	}
	bad := newHookServer(t, Settings{Provider: Mango, APIKey: mangoKey, APIURL: api.URL + "/vpbx"}, "wrong-salt")
	if err := bad.cloud.Dial(context.Background(), req); err == nil || !strings.Contains(err.Error(), "401") {
		t.Errorf("a wrongly signed callback: %v", err)
	}
}

func TestMangoRecordingLink(t *testing.T) {
	api := fakeMangoAPI(t, func(w http.ResponseWriter, path string, cmd map[string]any) {
		if path != "/vpbx/queries/recording/post" || cmd["recording_id"] != "REC1" || cmd["action"] != "download" {
			t.Errorf("%s %v", path, cmd)
		}
		w.Header().Set("Location", "https://storage.mango-office.ru/rec/REC1.mp3?token=t")
		w.WriteHeader(http.StatusFound)
	})
	h := newHookServer(t, Settings{Provider: Mango, APIKey: mangoKey, APIURL: api.URL + "/vpbx"}, mangoSalt)
	link, err := h.cloud.RecordingLink(context.Background(), "mango-record:REC1")
	if err != nil || link != "https://storage.mango-office.ru/rec/REC1.mp3?token=t" {
		t.Errorf("RecordingLink = %q, %v", link, err)
	}
}

func TestMangoDialLifecycle(t *testing.T) {
	api := fakeMangoAPI(t, func(w http.ResponseWriter, _ string, _ map[string]any) { io.WriteString(w, `{"result":1000}`) })
	h := newHookServer(t, Settings{Provider: Mango, APIKey: mangoKey, APIURL: api.URL + "/vpbx"}, mangoSalt)
	h.cloud.dials.wait = 50 * time.Millisecond
	dial := func(id string) *dialLog {
		l := &dialLog{}
		if err := h.cloud.Dial(context.Background(), channels.DialRequest{ID: id, Extension: "101", To: "+79135550102", Progress: l.add}); err != nil {
			t.Fatal(err)
		}
		return l
	}
	event := func(path, js string) {
		if got := h.send(t, mangoPost(path, js, mangoKey, mangoSalt)); got.status != 200 {
			t.Fatalf("%s: %d %s", path, got.status, got.body)
		}
	}
	answered := dial("cmd-1")
	event("events/call", fmt.Sprintf(`{"entry_id":"CB1","call_id":"a","command_id":"cmd-1","timestamp":%d,"call_state":"Appeared","to":{"extension":"101"}}`, unix(0)))
	event("events/call", fmt.Sprintf(`{"entry_id":"CB1","call_id":"a","command_id":"cmd-1","timestamp":%d,"call_state":"Connected","to":{"extension":"101"}}`, unix(time.Second)))
	if got := answered.states(2); got != "ringing,connected" {
		t.Errorf("answered: %s", got)
	}
	refused := dial("cmd-2")
	event("result/callback", `{"command_id":"cmd-2","result":3100}`)
	if got := refused.states(2); got != "ringing,failed Mango refused the call (result 3100)" {
		t.Errorf("refused: %s", got)
	}
	unanswered := dial("cmd-3")
	event("events/call", fmt.Sprintf(`{"entry_id":"CB3","call_id":"c","command_id":"cmd-3","timestamp":%d,"call_state":"Disconnected"}`, unix(0)))
	if got := unanswered.states(2); got != "ringing,failed the call ended before the manager answered" {
		t.Errorf("unanswered: %s", got)
	}
	silent := dial("cmd-4")
	if got := silent.states(2); got != "ringing,failed the manager did not answer within 50ms" {
		t.Errorf("silent: %s", got)
	}
}

func TestMangoNumbersAsStrings(t *testing.T) {
	h := newMango(t)
	js := fmt.Sprintf(`{"entry_id":"S1","call_direction":"1","from":{"number":"79135550102"},"line_number":"73832349096",`+
		`"create_time":"%d","forward_time":"%d","talk_time":"%d","end_time":"%d","entry_result":"1","disconnect_reason":null}`,
		unix(-60*time.Second), unix(-55*time.Second), unix(-50*time.Second), unix(-10*time.Second))
	got := h.send(t, mangoPost("events/summary", js, mangoKey, mangoSalt))
	calls := h.sink.all()
	if got.status != 200 || len(calls) != 1 || !calls[0].Call.Answered || calls[0].Call.Duration != 40*time.Second {
		t.Fatalf("%d %s %+v", got.status, got.body, calls)
	}
	bad := h.send(t, mangoPost("events/summary", `{"entry_id":"S2","call_direction":"in"}`, mangoKey, mangoSalt))
	if bad.status != 400 || !strings.Contains(bad.body, "call_direction") {
		t.Errorf("a word for a number: %d %s", bad.status, bad.body)
	}
}
