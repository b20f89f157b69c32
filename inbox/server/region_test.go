package server

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/switchboard/switchboard/channels"
	"github.com/switchboard/switchboard/channels/web"
	"github.com/switchboard/switchboard/crm"
)

// A foreign client's number written the national way is read with the most
// specific region there is: the form's own country, else the entry
// point's, else the account's, else the server's (RU here). Everything
// goes through the running server: the owner's API sets the regions, the
// site posts signed forms to the hook.
func TestPhoneRegionPrecedenceThroughTheWebHook(t *testing.T) {
	ta := newTestApp(t)
	ta.user("owner@example.ru", crm.Owner)
	owner := ta.login("owner@example.ru")

	var by, plain crm.Account
	must(t, owner, 200, "POST", "/api/v1/accounts", map[string]any{"channel": "web", "name": "okna.example.by", "secret": "s3cret", "region": "by"}, &by)
	if by.Region != "BY" {
		t.Fatalf("account region stored as %q, want BY", by.Region)
	}
	must(t, owner, 200, "POST", "/api/v1/accounts", map[string]any{"channel": "web", "name": "okna.example.ru", "secret": "s3cret"}, &plain)
	var de crm.EntryPoint
	must(t, owner, 200, "POST", "/api/v1/entry-points", map[string]any{"account_id": by.ID, "address": "google_de", "region": "de"}, &de)
	if de.Region != "DE" {
		t.Fatalf("entry point region stored as %q, want DE", de.Region)
	}

	post := func(acc crm.Account, body string) (reply, web.HookResponse) {
		t.Helper()
		r := hook(t, ta, p("/hooks/web/%d", acc.ID), []byte(body), "s3cret")
		var hr web.HookResponse
		if r.status == 200 {
			if err := json.Unmarshal(r.body, &hr); err != nil {
				t.Fatal(err)
			}
		}
		return r, hr
	}
	for _, c := range []struct {
		name   string
		acc    crm.Account
		body   string
		handle string
	}{
		{"the account's region reads a Belarusian national number", by,
			`{"submission_id":"r-1","phone":"8 029 123-45-67"}`, "phone:+375291234567"},
		{"the entry point's region beats the account's", by,
			`{"submission_id":"r-2","phone":"030 1234567","utm_source":"google_de"}`, "phone:+49301234567"},
		{"the form's country beats the entry point's", by,
			`{"submission_id":"r-3","phone":"0 67 123 45 67","utm_source":"google_de","country":"UA"}`, "phone:+380671234567"},
		{"a country by name", plain,
			`{"submission_id":"r-4","phone":"90 123 45 67","country":"Узбекистан"}`, "phone:+998901234567"},
		{"Kazakhstan shares +7 with Russia", plain,
			`{"submission_id":"r-5","phone":"8 701 123 45 67","country":"kz"}`, "phone:+77011234567"},
		{"a US number with the US", plain,
			`{"submission_id":"r-6","phone":"(201) 555-0123","country":"US"}`, "phone:+12015550123"},
		{"00 is international whatever the region", by,
			`{"submission_id":"r-7","phone":"00 49 30 7654321"}`, "phone:+49307654321"},
		{"8 10 is international in Russia", plain,
			`{"submission_id":"r-8","phone":"8 10 375 29 765-43-21"}`, "phone:+375297654321"},
		{"an account with no region reads as the server does", plain,
			`{"submission_id":"r-9","phone":"8 (383) 234-90-96"}`, "phone:+73832349096"},
	} {
		t.Run(c.name, func(t *testing.T) {
			r, hr := post(c.acc, c.body)
			if r.status != 200 {
				t.Fatalf("hook: %s", r)
			}
			if tc := touchOf(t, owner, hr.TouchID); tc.Handle != c.handle {
				t.Errorf("touch handle %q, want %q", tc.Handle, c.handle)
			}
		})
	}

	t.Run("a national number the region cannot read is refused naming the region", func(t *testing.T) {
		r, _ := post(plain, `{"submission_id":"r-10","phone":"8 029 123-45-67"}`)
		if r.status != 422 || !strings.Contains(string(r.body), "8 029 123-45-67") || !strings.Contains(string(r.body), "phone region RU") {
			t.Fatalf("hook: %s, want 422 naming the number and region RU", r)
		}
	})
	t.Run("next to a usable email it is kept as written on the touch", func(t *testing.T) {
		r, hr := post(plain, `{"submission_id":"r-11","phone":"8 029 123-45-67","email":"ales@example.by"}`)
		if r.status != 200 {
			t.Fatalf("hook: %s", r)
		}
		tc := touchOf(t, owner, hr.TouchID)
		var meta map[string]string
		_ = json.Unmarshal(tc.Meta, &meta)
		if tc.Handle != "email:ales@example.by" || meta[crm.MetaPhoneUnread] != "8 029 123-45-67" {
			t.Errorf("touch handle %q meta %s, want the email and phone_unread", tc.Handle, tc.Meta)
		}
	})
	t.Run("a country that is none is a 422 naming the field and stores nothing", func(t *testing.T) {
		r, _ := post(by, `{"submission_id":"r-12","phone":"8 029 123-45-67","country":"Narnia"}`)
		var n int64
		ta.db.Model(&crm.Touch{}).Where("external_id = ?", "r-12").Count(&n)
		if r.status != 422 || !strings.Contains(string(r.body), `country \"Narnia\"`) || n != 0 {
			t.Fatalf("hook: %s (%d touches), want 422 naming the country", r, n)
		}
	})
}

// The owner's API checks a region and lets it be changed and cleared.
func TestPhoneRegionOfAccountsAndEntryPoints(t *testing.T) {
	ta := newTestApp(t)
	ta.user("owner@example.ru", crm.Owner)
	owner := ta.login("owner@example.ru")
	site := ta.account("web", "site")

	if r := send(t, owner, "PATCH", p("/api/v1/accounts/%d", site.ID), map[string]any{"region": "Belarus"}); r.status != 422 || !strings.Contains(string(r.body), "region") {
		t.Fatalf("an account region that is no code: %s, want 422", r)
	}
	var acc crm.Account
	must(t, owner, 200, "PATCH", p("/api/v1/accounts/%d", site.ID), map[string]any{"region": "kz"}, &acc)
	must(t, owner, 200, "GET", p("/api/v1/accounts/%d", site.ID), nil, &acc)
	if acc.Region != "KZ" {
		t.Fatalf("account region %q after PATCH, want KZ", acc.Region)
	}
	must(t, owner, 200, "PATCH", p("/api/v1/accounts/%d", site.ID), map[string]any{"name": "site 2"}, &acc)
	if acc.Region != "KZ" {
		t.Fatalf("an edit without region changed it to %q", acc.Region)
	}
	must(t, owner, 200, "PATCH", p("/api/v1/accounts/%d", site.ID), map[string]any{"region": ""}, &acc)
	if acc.Region != "" {
		t.Fatalf("account region %q after clearing", acc.Region)
	}

	if r := send(t, owner, "POST", "/api/v1/entry-points", map[string]any{"account_id": site.ID, "address": "x", "region": "XX"}); r.status != 422 {
		t.Fatalf("an entry point with region XX: %s, want 422", r)
	}
	var n int64
	ta.db.Model(&crm.EntryPoint{}).Where("address = ?", "x").Count(&n)
	if n != 0 {
		t.Fatalf("a refused entry point was stored")
	}
	var ep crm.EntryPoint
	must(t, owner, 200, "POST", "/api/v1/entry-points", map[string]any{"account_id": site.ID, "address": "insta_by"}, &ep)
	must(t, owner, 200, "PATCH", p("/api/v1/entry-points/%d", ep.ID), map[string]any{"region": "BY"}, &ep)
	if ep.Region != "BY" || ep.AutoDeal != true {
		t.Fatalf("entry point after PATCH region: %+v", ep)
	}
	if r := send(t, owner, "PATCH", p("/api/v1/entry-points/%d", ep.ID), map[string]any{"region": "B"}); r.status != 422 {
		t.Fatalf("PATCH region B: %s, want 422", r)
	}
	var list struct {
		EntryPoints []crm.EntryPoint `json:"entry_points"`
	}
	must(t, owner, 200, "GET", p("/api/v1/entry-points?account_id=%d", site.ID), nil, &list)
	if len(list.EntryPoints) != 1 || list.EntryPoints[0].Region != "BY" {
		t.Fatalf("entry points %+v", list.EntryPoints)
	}
	var audit int64
	ta.db.Model(&crm.AuditEntry{}).Where("action = ? AND object_id = ?", "entry_point.edit", ep.ID).Count(&audit)
	if audit != 1 {
		t.Fatalf("%d audit rows for the region change, want 1", audit)
	}
}

// A PBX account's region reads both its tracking numbers and its callers:
// a Minsk office's "8 017 …" is the entry point the owner entered, and the
// caller's "8 029 …" a Belarusian mobile.
func TestPhoneRegionOfAPBXAccount(t *testing.T) {
	ta := newTestApp(t)
	ta.user("owner@example.ru", crm.Owner)
	owner := ta.login("owner@example.ru")
	pbx := ta.account("phone", "minsk pbx")
	must(t, owner, 200, "PATCH", p("/api/v1/accounts/%d", pbx.ID), map[string]any{"region": "BY"}, &pbx)
	var ep crm.EntryPoint
	must(t, owner, 200, "POST", "/api/v1/entry-points", map[string]any{"account_id": pbx.ID, "address": "8 017 123-45-67"}, &ep)
	if ep.Address != "+375171234567" {
		t.Fatalf("tracking number stored as %q, want +375171234567", ep.Address)
	}
	res, err := ta.Ingest(context.Background(), []channels.Inbound{{
		AccountID: pbx.ID, ExternalID: "call-1", Kind: channels.Call, At: time.Now(),
		From: []channels.Handle{{Kind: "phone", Value: "80291234567"}}, EntryPoint: "8 017 123 45 67",
		Call: &channels.CallInfo{Answered: true, Duration: time.Minute},
	}})
	if err != nil || res[0].Err != nil {
		t.Fatalf("ingest: %v %v", err, res[0].Err)
	}
	tc := touchOf(t, owner, res[0].TouchID)
	if tc.Handle != "phone:+375291234567" || tc.EntryPointID == nil || *tc.EntryPointID != ep.ID {
		t.Fatalf("call touch handle %q entry point %v, want +375291234567 at %d", tc.Handle, tc.EntryPointID, ep.ID)
	}

	// A region an adapter passes that has no numbering plan is ignored
	// (and logged): the account's reads the number, nothing is lost.
	res, err = ta.Ingest(context.Background(), []channels.Inbound{{
		AccountID: pbx.ID, ExternalID: "call-2", Kind: channels.Call, At: time.Now(), Region: "ZZ",
		From: []channels.Handle{{Kind: "phone", Value: "8 033 765-43-21"}}, EntryPoint: "+375171234567",
		Call: &channels.CallInfo{Missed: channels.MissedNoAnswer},
	}})
	if err != nil || res[0].Err != nil {
		t.Fatalf("ingest with region ZZ: %v %v", err, res[0].Err)
	}
	if tc := touchOf(t, owner, res[0].TouchID); tc.Handle != "phone:+375337654321" {
		t.Fatalf("call with region ZZ: handle %q, want +375337654321", tc.Handle)
	}
}
