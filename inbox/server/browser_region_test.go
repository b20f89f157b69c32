package server

import (
	"encoding/json"
	"fmt"
	"testing"

	"github.com/switchboard/switchboard/channels/web"
	"github.com/switchboard/switchboard/crm"
)

// The owner sets the phone region of the Belarusian site's entry point on
// the Sources page; a client's "8 029 123-45-67" from that site's form
// then reads as +375 29 … in the inbox, while a number no region reads
// shows as written next to the client's email; the account form sets the
// account's region (issue 15, item 18). In Russian and in English.
func TestBrowserAnEntryPointsRegionReadsAForeignFormNumber(t *testing.T) {
	for _, c := range []struct {
		lang, unread, saved string
	}{
		{"ru-RU", "номер не распознан: +375 29 12", "Регион телефонов сохранён."},
		{"en-US", "unrecognized phone: +375 29 12", "Phone region saved."},
	} {
		t.Run(c.lang, func(t *testing.T) {
			ta := newTestApp(t)
			ta.user("owner@x.ru", crm.Owner)
			site := ta.account("web", "okna.example.by")
			ep, err := crm.CreateEntryPoint(ta.db, site.ID, "yandex_by", true, nil, nil)
			if err != nil {
				t.Fatal(err)
			}
			b := newBrowser(t, ta)
			o := b.tab("owner", c.lang)
			o.login("owner@x.ru")
			o.open("/owner/sources")
			sel := "#entries-table select.entry-region"
			o.wait("the region select", "document.querySelector("+js(sel)+")")
			o.choose(sel, "BY")
			o.waitText("body", c.saved)
			eventually(t, "the region stored", func() bool {
				e, _ := crm.GetEntryPoint(ta.db, ep.ID)
				return e.Region == "BY"
			})
			o.eval(`document.querySelector("#entries-table").scrollIntoView()`)
			o.screenshot("entry-region-" + c.lang)

			post := func(body string) int64 {
				t.Helper()
				r := hook(t, ta, fmt.Sprintf("/hooks/web/%d", site.ID), []byte(body), "s3cret")
				var hr web.HookResponse
				if r.status != 200 || json.Unmarshal(r.body, &hr) != nil {
					t.Fatalf("hook: %s", r)
				}
				return hr.TouchID
			}
			read := post(`{"submission_id":"by-1","name":"Алесь","phone":"8 029 123-45-67","utm_source":"yandex_by","message":"Перезвоните"}`)
			unread := post(`{"submission_id":"by-2","name":"Янина","phone":"+375 29 12","email":"yanina@example.by","utm_source":"yandex_by"}`)
			for _, x := range []struct {
				touch int64
				sel   string
				want  string
			}{
				{read, ".handle", "+375 29 123 45 67"}, // as Belarus groups it (libphonenumber-js)
				{unread, ".handle", "yanina@example.by"},
				{unread, "[data-phone-unread]", c.unread},
			} {
				tc, err := crm.GetTouch(ta.db, x.touch)
				if err != nil {
					t.Fatal(err)
				}
				o.open(fmt.Sprintf("/inbox/all/%d", tc.ConversationID))
				o.waitText(fmt.Sprintf(`[data-touch="%d"] %s`, x.touch, x.sel), x.want)
			}
			o.screenshot("unread-phone-" + c.lang)

			o.open("/owner/accounts")
			row := fmt.Sprintf(`[data-account="%d"]`, site.ID)
			o.wait("the account row", "document.querySelector("+js(row+" .edit-account")+")")
			o.click(row + " .edit-account")
			o.wait("the edit form", "document.querySelector('#account-form select.account-region')")
			o.choose("#account-form select.account-region", "KZ")
			o.screenshot("account-region-" + c.lang)
			o.click("#account-save")
			o.wait("the form closed", "!document.querySelector('#account-form')")
			eventually(t, "the account region stored", func() bool {
				a, _ := crm.GetAccount(ta.db, site.ID)
				return a.Region == "KZ"
			})
			o.noScriptErrors()
		})
	}
}
