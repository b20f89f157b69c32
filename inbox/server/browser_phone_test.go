package server

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/switchboard/switchboard/channels"
	"github.com/switchboard/switchboard/channels/phone"
	"github.com/switchboard/switchboard/channels/phone/amitest"
	"github.com/switchboard/switchboard/crm"
)

// A manager opens a call from a tracking number: the timeline shows who
// answered, the talk and ring time, the tracking number's source and the
// recording's player; the call button beside the client's phone rings the
// manager's extension, says so live, and the outbound call appears.
func TestBrowserACallShowsItsSourceAndTheCallButtonCallsBack(t *testing.T) {
	a := newAMIApp(t)
	tc := a.answeredCall(t)
	if _, err := a.AssignConversation(t.Context(), a.anna, tc.ConversationID, &a.anna.ID); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the recording", func() bool {
		_, m := touchMetaOf(t, a.testApp, tc.ID)
		return m["call_recording_status"] == "stored"
	})
	// The client once wrote the number with an extension: the button says
	// to ask for it, and dials the number alone.
	if err := crm.SetIdentityExts(a.db, []crm.Identity{{Kind: crm.PhoneID, Value: amiCaller, Ext: "45"}}); err != nil {
		t.Fatal(err)
	}
	a.pbx.OnOriginate(func(act amitest.Action) amitest.Originate {
		return amitest.Originate{Later: amitest.Originated(act, "101", amiCaller, true)}
	})

	b := newBrowser(t, a.testApp)
	p := b.tab("anna", "en-US")
	p.login("anna@x.ru")
	p.open(fmt.Sprintf("/inbox/mine/%d", tc.ConversationID))
	p.waitText("#timeline", "Incoming call")
	p.waitText(`[data-call="who"]`, "anna")
	p.waitText(`[data-call="talk"]`, "1:35")
	p.waitText(`[data-call="ring"]`, "0:08")
	p.waitText("#timeline", "Yandex Direct")
	p.waitText("#timeline", "via +7 383 234-90-96")
	p.wait("the recording's player", `document.querySelector("#timeline audio[src]")`)
	p.screenshot("call-timeline")

	dial := fmt.Sprintf(`[data-dial=%q]`, amiCaller)
	p.waitText("#contact-panel .identities [data-phone-ext]", "ext. 45")
	if title := p.eval(`document.querySelector(` + js(dial) + `).title`); title != "Call; once answered, ask for ext. 45" {
		t.Errorf("the call button's title is %q, want it to say the extension", title)
	}
	p.click(dial)
	p.waitText("[data-dial-state]", "Connected, calling the client")
	p.waitText("#timeline", "Outgoing call")
	if got := p.text("#timeline"); strings.Contains(got, "sent") {
		t.Errorf("a call shows a delivery status: %q", got)
	}
	p.screenshot("call-back")
	if o := a.pbx.Actions("Originate"); len(o) != 1 || o[0].Get("Exten") != amiCaller {
		t.Errorf("Originate actions %v, want one dialling %s alone", o, amiCaller)
	}

	// In Russian too.
	r := b.tab("anna-ru", "ru-RU")
	r.login("anna@x.ru")
	r.open(fmt.Sprintf("/inbox/mine/%d", tc.ConversationID))
	r.waitText("#timeline", "Входящий звонок")
	r.waitText(`[data-call="who"]`, "Ответил(а)")
	r.waitText("#contact-panel .identities [data-phone-ext]", "доб. 45")
	if title := r.eval(`document.querySelector(` + js(dial) + `).title`); title != "Позвонить; когда ответят, попросите доб. 45" {
		t.Errorf("the call button's title in Russian is %q", title)
	}
	r.screenshot("call-timeline-ru")
	p.noScriptErrors()
}

// The owner adds a tracking number on the Sources page, typed as people
// type it; it is kept in E.164, and a call to it carries its source
// (issue 16, item 10, the numbers).
func TestBrowserTheOwnerAddsATrackingNumber(t *testing.T) {
	ta := newTestApp(t)
	ta.useAdapters(map[channels.Kind]channels.Factory{channels.Phone: phone.New})
	ta.user("owner@x.ru", crm.Owner)
	acc := ta.phoneAccount("Cloud PBX", `{"provider":"generic"}`, "pbx-secret")
	src, _ := crm.CreateAdSource(ta.db, "Avito")
	waName := "WhatsApp"
	if _, err := crm.SaveAccount(ta.db, ta.box, 0, crm.AccountInput{Channel: "whatsapp", Name: &waName, Settings: json.RawMessage(`{"number":"+7 913 000-00-01"}`)}); err != nil {
		t.Fatal(err)
	}
	b := newBrowser(t, ta)
	p := b.tab("owner", "ru-RU")
	p.login("owner@x.ru")
	p.open("/owner/sources")
	p.wait("the new entry point form", `document.querySelector("#new-entry")`)
	p.choose(`#new-entry select[name=account]`, fmt.Sprint(acc.ID))
	p.do(chromedp.SendKeys(chromedp.CSS(`#new-entry input[name=address]`), "8 (383) 209-15-47"))
	p.choose(`#new-entry select[name=source]`, fmt.Sprint(src.ID))
	p.click(`#new-entry button[type=submit]`)
	p.waitText("#entries-table", "+73832091547")
	p.screenshot("sources-new-entry-ru")

	// A WhatsApp link for an ad: the prefilled text ends in the ad's code.
	p.do(chromedp.SendKeys(chromedp.CSS(`#wa-link input[aria-label]:not(.wide)`), "ya1"))
	p.waitText("#wa-link-url", "https://wa.me/79130000001?text=")
	if link := fmt.Sprint(p.eval(`document.querySelector("#wa-link-url").href`)); !strings.HasSuffix(link, "%23ya1") {
		t.Errorf("wa.me link %s does not end in the code", link)
	}
	// This number is for existing clients: it opens no deals.
	p.click(`#entries-table .auto-deal`)
	p.waitText(".toast", "не открывают сделок")
	r := callHook(t, ta, acc.ID, "pbx-secret", map[string]any{"call_id": "c-1", "event": "ended", "direction": "in", "from": "+79131112233", "to": "73832091547",
		"started_at": time.Now().Add(-time.Minute).UTC().Format(time.RFC3339), "ended_at": time.Now().UTC().Format(time.RFC3339)})
	var hr phone.HookResponse
	if r.status != 200 || json.Unmarshal(r.body, &hr) != nil {
		t.Fatalf("call: %s", r)
	}
	if tc, _ := crm.GetTouch(ta.db, hr.TouchID); tc.AdSourceID == nil || *tc.AdSourceID != src.ID || tc.DealID != nil {
		t.Errorf("the call to the new number has source %v, deal %v; want source %d and no deal", tc.AdSourceID, tc.DealID, src.ID)
	}
	if n := ta.count("audit_log", "action = ?", "entry_point.edit"); n != 1 {
		t.Errorf("%d entry_point.edit audit rows, want 1", n)
	}
	p.noScriptErrors()
}
