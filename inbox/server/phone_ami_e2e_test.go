package server

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/switchboard/switchboard/channels"
	"github.com/switchboard/switchboard/channels/phone"
	"github.com/switchboard/switchboard/channels/phone/amitest"
	"github.com/switchboard/switchboard/crm"
	"github.com/switchboard/switchboard/inbox"
)

// amiApp is a running app whose phone account is connected to an
// in-test Asterisk, with a manager on extension 101 and a tracking number
// bound to an ad source.
type amiApp struct {
	*testApp
	pbx  *amitest.Server
	acc  crm.Account
	src  crm.AdSource
	anna crm.User
	rec  *httptest.Server
}

const (
	amiTracking = "+73832349096"
	amiCaller   = "+79131234567"
)

func newAMIApp(t *testing.T) *amiApp {
	t.Helper()
	a := &amiApp{testApp: newTestApp(t), pbx: amitest.New(t, amitest.Options{})}
	a.rec = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasPrefix(r.URL.Path, "/monitor/") {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "audio/wav")
		w.Write(recordingWAVForTest())
	}))
	t.Cleanup(a.rec.Close)
	a.useAdapters(map[channels.Kind]channels.Factory{channels.Phone: phone.New})
	owner := a.user("owner@x.ru", crm.Owner)
	a.anna = a.user("anna@x.ru", crm.Manager)
	if _, err := a.UpdateUser(t.Context(), owner, a.anna.ID, inbox.UserPatch{Extension: ptr("101")}); err != nil {
		t.Fatal(err)
	}
	settings := fmt.Sprintf(`{"provider":"asterisk","host":%q,"port":%d,"user":%q,"recording_base_url":%q}`, a.pbx.Host(), a.pbx.Port(), a.pbx.User(), a.rec.URL+"/monitor/")
	a.acc = a.phoneAccount("Office Asterisk", settings, a.pbx.Secret())
	a.src, _ = crm.CreateAdSource(a.db, "Yandex Direct")
	if _, err := a.CreateEntryPoint(t.Context(), owner, inbox.NewEntryPoint{AccountID: a.acc.ID, Address: "8 (383) 234-90-96", AdSourceID: &a.src.ID}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(func() { cancel(); a.Wait() })
	if err := a.Start(ctx); err != nil {
		t.Fatal(err)
	}
	waitState(t, a.testApp, a.acc.ID, channels.Live)
	return a
}

// answeredCall plays an inbound call from amiCaller to the tracking
// number, rung and answered on extension 101 after 8 s, talked for 95 s,
// recorded, and returns its touch once stored.
func (a *amiApp) answeredCall(t *testing.T) crm.Touch {
	t.Helper()
	s := amitest.NewScriptAt(amitest.T0.Add(-time.Hour))
	in := s.TrunkIn("8"+amiCaller[2:], "Ivan Petrov", "73832349096")
	s.VarSet(in, "MIXMONITOR_FILENAME", "/var/spool/asterisk/monitor/2026/12/03/in-call.wav")
	x := s.At(time.Second).Ext(in, "101")
	s.At(7*time.Second).Answer(in, x, "b1")
	s.At(95*time.Second).Leave("b1", x, in)
	s.Hangup(x, in)
	a.pbx.Emit(s.Take()...)
	return a.callTouch(t, fmt.Sprintf("ami:%d.1", amitest.T0.Add(-time.Hour).Unix()))
}

// callTouch waits for the call touch with the external id.
func (a *amiApp) callTouch(t *testing.T, ext string) crm.Touch {
	t.Helper()
	var tc crm.Touch
	eventually(t, "the call "+ext, func() bool {
		return a.db.Where("account_id = ? AND external_id = ?", a.acc.ID, ext).Take(&tc).Error == nil
	})
	return tc
}

// A call to a tracking number on the company's Asterisk, through the
// running app: one touch on the caller's contact with the number's ad
// source, answered by the manager on the extension, its recording fetched;
// then the manager clicks to call the contact back: the PBX rings the
// extension, then the contact, and the outbound call lands in the same
// conversation while the manager's screen hears ringing and connected.
func TestPhoneAsteriskCallsAndClickToCallEndToEnd(t *testing.T) {
	a := newAMIApp(t)
	tc := a.answeredCall(t)
	var m map[string]string
	json.Unmarshal(tc.Meta, &m)
	if tc.AdSourceID == nil || *tc.AdSourceID != a.src.ID || tc.AuthorID == nil || *tc.AuthorID != a.anna.ID || tc.Handle != "phone:"+amiCaller ||
		tc.CallStatus != crm.CallAnswered || m["call_ring_s"] != "8" || m["call_duration_s"] != "95" {
		t.Fatalf("the call: %+v meta %v", tc, m)
	}
	eventually(t, "the recording", func() bool {
		_, m := touchMetaOf(t, a.testApp, tc.ID)
		return m[crm.MetaRecordingStatus] == crm.RecordingStored
	})

	// Anna takes the conversation and calls the client back from the card.
	if _, err := a.AssignConversation(t.Context(), a.anna, tc.ConversationID, &a.anna.ID); err != nil {
		t.Fatal(err)
	}
	a.pbx.OnOriginate(func(act amitest.Action) amitest.Originate {
		return amitest.Originate{Later: amitest.Originated(act, "101", amiCaller, true)}
	})
	c := a.login("anna@x.ru")
	var me struct {
		CanDial bool `json:"can_dial"`
	}
	must(t, c, 200, "GET", "/api/v1/me", nil, &me)
	if !me.CanDial {
		t.Fatal("a manager with an extension and a connected PBX cannot dial")
	}
	conn, _ := c.dial(t, 0, "")
	var started inbox.DialStarted
	must(t, c, 200, "POST", fmt.Sprintf("/api/v1/contacts/%d/call", tc.ContactID), inbox.DialRequest{Phone: "8 913 123-45-67"}, &started)
	if o := a.pbx.Actions("Originate"); len(o) != 1 || o[0].Get("Channel") != "Local/101@from-internal" || o[0].Get("Exten") != amiCaller || o[0].Get("ActionID") != started.ID {
		t.Fatalf("Originate sent: %+v (dial %+v)", o, started)
	}
	// Ringing (unless the PBX's report of the answer came first), then
	// connected, and nothing after it.
	for final := false; !final; {
		e := next(t, conn, crm.EventCallDial)
		var d channels.DialProgress
		json.Unmarshal(e.Data, &d)
		if d.ID != started.ID || (d.State != channels.DialRinging && d.State != channels.DialConnected) {
			t.Fatalf("dial event %s, want ringing or connected of %s", e.Data, started.ID)
		}
		final = d.State == channels.DialConnected
	}
	out := a.callTouch(t, fmt.Sprintf("ami:%d.1", amitest.T0.Unix()))
	if out.Direction != crm.Outbound || out.ContactID != tc.ContactID || out.ConversationID != tc.ConversationID || out.AuthorID == nil || *out.AuthorID != a.anna.ID {
		t.Errorf("the outbound call: %+v", out)
	}

	// Refusals: a phone that is not the contact's, a user without an
	// extension, another manager's contact.
	if st := c.do("POST", fmt.Sprintf("/api/v1/contacts/%d/call", tc.ContactID), inbox.DialRequest{Phone: "+79990000000"}, nil); st != http.StatusNotFound {
		t.Errorf("a phone not the contact's: %d, want 404", st)
	}
	a.user("boris@x.ru", crm.Manager)
	b := a.login("boris@x.ru")
	if st := b.do("POST", fmt.Sprintf("/api/v1/contacts/%d/call", tc.ContactID), inbox.DialRequest{Phone: amiCaller}, nil); st != http.StatusNotFound {
		t.Errorf("another manager's contact: %d, want 404", st)
	}
	if n := len(a.pbx.Actions("Originate")); n != 1 {
		t.Errorf("%d Originate actions, want the one", n)
	}
}
