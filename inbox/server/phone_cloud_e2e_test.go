package server

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"github.com/switchboard/switchboard/channels"
	"github.com/switchboard/switchboard/channels/phone"
	"github.com/switchboard/switchboard/channels/web"
	"github.com/switchboard/switchboard/crm"
	"github.com/switchboard/switchboard/inbox"
)

// phoneAccount stores a phone account with settings and secret.
func (ta *testApp) phoneAccount(name, settings, secret string) crm.Account {
	ta.t.Helper()
	acc, err := crm.SaveAccount(ta.db, ta.box, 0, crm.AccountInput{Channel: "phone", Name: &name, Settings: json.RawMessage(settings), Secret: &secret})
	if err != nil {
		ta.t.Fatal(err)
	}
	return acc
}

// callHook posts a generic call event signed with secret.
func callHook(t *testing.T, ta *testApp, acc int64, secret string, ev map[string]any) reply {
	t.Helper()
	body, _ := json.Marshal(ev)
	ts := strconv.FormatInt(time.Now().Unix(), 10)
	return send(t, ta.anon(), "POST", fmt.Sprintf("/hooks/phone/%d", acc), body, web.HeaderTimestamp, ts, web.HeaderSignature, web.Sign([]byte(secret), ts, body))
}

// A cloud PBX reports calls to the generic signed hook; through the running
// app each call is one touch on the caller's contact with its tracking
// number's ad source, the manager who answered, and its recording fetched
// into the blob store and served as a sound; a missed call waits in Call
// back until the manager calls back.
func TestPhoneCloudCallsEndToEnd(t *testing.T) {
	wav := recordingWAVForTest()
	rec := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/rec/1001.wav" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "audio/wav")
		w.Write(wav)
	}))
	defer rec.Close()

	ta := newTestApp(t)
	ta.useAdapters(map[channels.Kind]channels.Factory{channels.Phone: phone.New})
	ta.user("owner@x.ru", crm.Owner)
	lead := ta.user("lead@x.ru", crm.Lead)
	anna := ta.user("anna@x.ru", crm.Manager)
	if _, err := ta.UpdateUser(t.Context(), lead, anna.ID, inbox.UserPatch{Extension: ptr("101")}); err != nil {
		t.Fatal(err)
	}
	acc := ta.phoneAccount("Cloud PBX", `{"provider":"generic","recordings_on_lan":true}`, "pbx-secret")
	src, _ := crm.CreateAdSource(ta.db, "Yandex Direct")
	if _, err := crm.CreateEntryPoint(ta.db, acc.ID, "+73832349096", true, &src.ID, nil); err != nil {
		t.Fatal(err)
	}
	start := time.Now().Add(-5 * time.Minute).UTC()
	answered := map[string]any{"call_id": "pbx-1001", "event": "ended", "direction": "in", "from": "8 913 555-01-02", "to": "+7 383 234-90-96", "extension": "101",
		"started_at": start.Format(time.RFC3339), "answered_at": start.Add(12 * time.Second).Format(time.RFC3339), "ended_at": start.Add(3 * time.Minute).Format(time.RFC3339),
		"recording_url": rec.URL + "/rec/1001.wav"}

	if r := callHook(t, ta, acc.ID, "wrong-secret", answered); r.status != http.StatusUnauthorized {
		t.Fatalf("forged: %s", r)
	}
	if n := ta.count("touches", ""); n != 0 {
		t.Fatalf("a forged request stored %d touches", n)
	}
	r := callHook(t, ta, acc.ID, "pbx-secret", answered)
	var hr phone.HookResponse
	if r.status != 200 || json.Unmarshal(r.body, &hr) != nil || !hr.Stored || hr.TouchID == 0 {
		t.Fatalf("call: %s", r)
	}
	time.Sleep(1100 * time.Millisecond) // a new timestamp: the same call again, not a replay
	if r := callHook(t, ta, acc.ID, "pbx-secret", answered); r.status != 200 || ta.count("touches", "kind = 'call'") != 1 {
		t.Fatalf("the same call reported twice: %s, %d call touches", r, ta.count("touches", "kind = 'call'"))
	}

	lc := ta.login("lead@x.ru")
	tc := touchOf(t, lc, hr.TouchID)
	var m map[string]string
	json.Unmarshal(tc.Meta, &m)
	if tc.AdSourceID == nil || *tc.AdSourceID != src.ID || tc.AuthorID == nil || *tc.AuthorID != anna.ID || tc.CallStatus != crm.CallAnswered ||
		m["call_duration_s"] != "168" || m["call_ring_s"] != "12" || tc.Handle != "phone:+79135550102" {
		t.Fatalf("the call touch: %+v meta %v", tc, m)
	}

	// The recording is fetched in the background and played from our origin.
	if n := ta.s.Recordings.FetchDue(t.Context()); n != 1 {
		t.Fatalf("fetched %d recordings", n)
	}
	var files struct {
		Attachments []crm.Attachment `json:"attachments"`
	}
	must(t, lc, 200, "GET", fmt.Sprintf("/api/v1/touches/%d/attachments", tc.ID), nil, &files)
	if len(files.Attachments) != 1 || !files.Attachments[0].Stored || files.Attachments[0].Size != int64(len(wav)) {
		t.Fatalf("recording files: %+v", files.Attachments)
	}
	if r := send(t, lc, "GET", fmt.Sprintf("/api/v1/attachments/%d?inline=1", files.Attachments[0].ID), nil); r.status != 200 || r.header.Get("Content-Type") != "audio/wave" || len(r.body) != len(wav) {
		t.Fatalf("recording download: %d %s %d bytes", r.status, r.header.Get("Content-Type"), len(r.body))
	}
	if _, m2 := touchMetaOf(t, ta, tc.ID); m2[crm.MetaRecordingStatus] != crm.RecordingStored {
		t.Errorf("recording status %q", m2[crm.MetaRecordingStatus])
	}

	// A missed call from a new number waits in Call back…
	missed := map[string]any{"call_id": "pbx-1002", "event": "ended", "direction": "in", "from": "+7 913 777-00-11", "to": "+73832349096",
		"started_at": time.Now().Add(-3 * time.Minute).UTC().Format(time.RFC3339), "ended_at": time.Now().Add(-2 * time.Minute).UTC().Format(time.RFC3339), "missed_reason": "no_answer"}
	if r := callHook(t, ta, acc.ID, "pbx-secret", missed); r.status != 200 {
		t.Fatalf("missed: %s", r)
	}
	var qc crm.QueueCounts
	must(t, lc, 200, "GET", "/api/v1/queues/counts", nil, &qc)
	if qc.CallBack != 1 {
		t.Fatalf("call back queue: %d, want 1", qc.CallBack)
	}
	// …until the manager calls back from extension 101 and is answered.
	back := map[string]any{"call_id": "pbx-1003", "event": "ended", "direction": "out", "to": "8 913 777 00 11", "extension": "101",
		"started_at": time.Now().Add(-time.Minute).UTC().Format(time.RFC3339), "answered_at": time.Now().Add(-50 * time.Second).UTC().Format(time.RFC3339), "ended_at": time.Now().UTC().Format(time.RFC3339)}
	r = callHook(t, ta, acc.ID, "pbx-secret", back)
	if r.status != 200 || json.Unmarshal(r.body, &hr) != nil || !hr.Stored {
		t.Fatalf("call back: %s", r)
	}
	must(t, lc, 200, "GET", "/api/v1/queues/counts", nil, &qc)
	if qc.CallBack != 0 {
		t.Errorf("call back queue after the manager called: %d, want 0", qc.CallBack)
	}
	if out := touchOf(t, lc, hr.TouchID); out.Direction != crm.Outbound || out.AuthorID == nil || *out.AuthorID != anna.ID {
		t.Errorf("the call back: %+v", out)
	}
}

// recordingWAVForTest is a tiny valid WAV file.
func recordingWAVForTest() []byte {
	data := make([]byte, 800)
	for i := range data {
		data[i] = byte(128 + (i%16)*4)
	}
	h := []byte("RIFF\x00\x00\x00\x00WAVEfmt \x10\x00\x00\x00\x01\x00\x01\x00\x40\x1f\x00\x00\x40\x1f\x00\x00\x01\x00\x08\x00data")
	n := len(data)
	h = append(h, byte(n), byte(n>>8), 0, 0)
	size := 36 + n
	h[4], h[5] = byte(size), byte(size>>8)
	return append(h, data...)
}
