package server

import (
	"encoding/json"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/switchboard/switchboard/channels"
	"github.com/switchboard/switchboard/crm"
	"github.com/switchboard/switchboard/inbox"
)

// callIn is an inbound call to a tracking number.
func callIn(acc int64, id, from, to string, c channels.CallInfo) channels.Inbound {
	return channels.Inbound{AccountID: acc, ExternalID: id, Kind: channels.Call, At: time.Now().Add(-time.Minute),
		From: []channels.Handle{{Kind: "phone", Value: from}}, EntryPoint: to, Call: &c}
}

func touchMetaOf(t *testing.T, ta *testApp, id int64) (crm.Touch, map[string]string) {
	t.Helper()
	tc, err := crm.GetTouch(ta.db, id)
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]string{}
	if err := json.Unmarshal(tc.Meta, &m); err != nil {
		t.Fatal(err)
	}
	return tc, m
}

func TestUserExtension(t *testing.T) {
	ta := newTestApp(t)
	ta.user("owner@x.ru", crm.Owner)
	anna := ta.user("anna@x.ru", crm.Manager)
	boris := ta.user("boris@x.ru", crm.Manager)
	owner := ta.login("owner@x.ru")
	var u crm.User
	if st := owner.do("PATCH", "/api/v1/users/"+jsonInt(anna.ID), inbox.UserPatch{Extension: ptr(" 102 ")}, &u); st != 200 || u.Extension != "102" {
		t.Fatalf("set extension: %d %+v", st, u)
	}
	if st := owner.do("PATCH", "/api/v1/users/"+jsonInt(boris.ID), inbox.UserPatch{Extension: ptr("102")}, nil); st != http.StatusConflict {
		t.Errorf("another user's extension: status %d, want 409", st)
	}
	if st := owner.do("PATCH", "/api/v1/users/"+jsonInt(boris.ID), inbox.UserPatch{Extension: ptr("10a")}, nil); st != http.StatusUnprocessableEntity {
		t.Errorf("letters in an extension: status %d, want 422", st)
	}
	if st := ta.login("boris@x.ru").do("PATCH", "/api/v1/users/"+jsonInt(boris.ID), inbox.UserPatch{Extension: ptr("103")}, nil); st != http.StatusForbidden {
		t.Errorf("a manager sets extensions: status %d, want 403", st)
	}
	if st := owner.do("PATCH", "/api/v1/users/"+jsonInt(anna.ID), inbox.UserPatch{Extension: ptr("")}, &u); st != 200 || u.Extension != "" {
		t.Fatalf("clear extension: %d %+v", st, u)
	}
	if st := owner.do("PATCH", "/api/v1/users/"+jsonInt(boris.ID), inbox.UserPatch{Extension: ptr("102")}, &u); st != 200 || u.Extension != "102" {
		t.Fatalf("a freed extension is taken: %d %+v", st, u)
	}
}

func TestCallIngest(t *testing.T) {
	ta := newTestApp(t)
	ta.user("owner@x.ru", crm.Owner)
	anna := ta.user("anna@x.ru", crm.Manager)
	if _, err := ta.UpdateUser(t.Context(), anna, anna.ID, inbox.UserPatch{Extension: ptr("102")}); err != nil {
		t.Fatal(err)
	}
	acc := ta.account("phone", "Office PBX")
	src, err := crm.CreateAdSource(ta.db, "Yandex Direct")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := crm.CreateEntryPoint(ta.db, acc.ID, "+73832091501", true, &src.ID, nil); err != nil {
		t.Fatal(err)
	}

	// Answered by extension 102, recorded.
	res := ta.ingest(callIn(acc.ID, "ami-1", "8 (913) 111-22-33", "+73832091501", channels.CallInfo{
		Answered: true, Ring: 7 * time.Second, Duration: 95 * time.Second, Extension: "102", Queue: "sales", RecordingURL: "https://pbx.example.ru/rec/1.wav"}))
	tc, m := touchMetaOf(t, ta, res[0].TouchID)
	if tc.AuthorID == nil || *tc.AuthorID != anna.ID || tc.CallStatus != crm.CallAnswered || tc.AdSourceID == nil || *tc.AdSourceID != src.ID {
		t.Errorf("answered call: author %v status %q source %v", tc.AuthorID, tc.CallStatus, tc.AdSourceID)
	}
	for k, want := range map[string]string{"call_answered": "true", "call_ring_s": "7", "call_duration_s": "95", "call_extension": "102", "call_queue": "sales",
		crm.MetaRecordingURL: "https://pbx.example.ru/rec/1.wav", crm.MetaRecordingStatus: crm.RecordingPending} {
		if m[k] != want {
			t.Errorf("meta %s = %q, want %q", k, m[k], want)
		}
	}
	if n := ta.count("recordings", "touch_id = ? AND status = ?", tc.ID, crm.RecordingPending); n != 1 {
		t.Errorf("recording jobs: %d, want 1", n)
	}

	// Missed, the recording reported later by the provider (same call id).
	res = ta.ingest(callIn(acc.ID, "ami-2", "+79132223344", "+73832091501", channels.CallInfo{Missed: channels.MissedAbandoned, Ring: 40 * time.Second, Extension: "999"}))
	missed := res[0].TouchID
	tc, m = touchMetaOf(t, ta, missed)
	if tc.AuthorID != nil || tc.CallStatus != crm.CallMissed || m["call_missed"] != channels.MissedAbandoned || m[crm.MetaRecordingURL] != "" {
		t.Errorf("missed call: author %v status %q meta %v", tc.AuthorID, tc.CallStatus, m)
	}
	res = ta.ingest(callIn(acc.ID, "ami-2", "+79132223344", "+73832091501", channels.CallInfo{RecordingURL: "https://pbx.example.ru/rec/2.wav"}))
	if !res[0].Duplicate || res[0].TouchID != missed {
		t.Fatalf("the recording's report: %+v, want a duplicate of %d", res[0], missed)
	}
	if _, m = touchMetaOf(t, ta, missed); m[crm.MetaRecordingURL] != "https://pbx.example.ru/rec/2.wav" || m["call_missed"] != channels.MissedAbandoned {
		t.Errorf("after the late recording: %v", m)
	}
	// Reported again: nothing changes, one job.
	ta.ingest(callIn(acc.ID, "ami-2", "+79132223344", "+73832091501", channels.CallInfo{RecordingURL: "https://other.example.ru/x.wav"}))
	if _, m = touchMetaOf(t, ta, missed); m[crm.MetaRecordingURL] != "https://pbx.example.ru/rec/2.wav" || ta.count("recordings", "touch_id = ?", missed) != 1 {
		t.Errorf("a second recording report changed the call: %v", m)
	}
	// A provider's recording event after a restart: no caller, only the
	// call's id. Added to the stored call; for an unknown call, refused,
	// never a call of its own.
	res = ta.ingest(callIn(acc.ID, "ami-3", "+79133334455", "+73832091501", channels.CallInfo{Answered: true, Duration: time.Minute}))
	late := channels.Inbound{AccountID: acc.ID, ExternalID: "ami-3", Kind: channels.Call, Call: &channels.CallInfo{RecordingURL: "https://pbx.example.ru/rec/3.wav", RecordingOnly: true}}
	if r := ta.ingest(late); r[0].Err != nil || !r[0].Duplicate || r[0].TouchID != res[0].TouchID {
		t.Fatalf("late recording: %+v", r[0])
	}
	if _, m = touchMetaOf(t, ta, res[0].TouchID); m[crm.MetaRecordingURL] != "https://pbx.example.ru/rec/3.wav" {
		t.Errorf("late recording not added: %v", m)
	}
	late.ExternalID = "ami-unknown"
	if r := ta.ingest(late); !errors.Is(r[0].Err, channels.ErrInvalid) {
		t.Errorf("recording of an unknown call: %+v, want invalid", r[0])
	}
	if n := ta.count("touches", "kind = 'call'"); n != 3 {
		t.Errorf("call touches: %d, want 2", n)
	}
}
