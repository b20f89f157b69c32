package server

import (
	"bytes"
	"image"
	"image/png"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/switchboard/switchboard/channels"
	"github.com/switchboard/switchboard/crm"
	"github.com/switchboard/switchboard/inbox"
	"github.com/switchboard/switchboard/inbox/api"
	"github.com/switchboard/switchboard/migrations"
	"github.com/switchboard/switchboard/ui"
)

// API tests of what the contact panel and the owner pages need beyond the
// core: merge suggestions, removing a handle, contact pages, the audit
// trail by user, attachment previews.

// form is a web form touch from the given handles.
func form(acc int64, ext, name string, from ...channels.Handle) channels.Inbound {
	return channels.Inbound{AccountID: acc, ExternalID: ext, From: from, Name: name, Text: "Перезвоните", At: time.Now()}
}

func TestAPIDuplicates(t *testing.T) {
	tm := newTeam(t)
	phone := channels.Handle{Kind: "phone", Value: "+7 913 555-01-02"}
	mail := channels.Handle{Kind: "email", Value: "Anna@Petrova.ru"}
	byPhone := touchOf(t, tm.owner, ingest(t, tm.testApp, form(tm.site.ID, "d-1", "Анна", phone)))
	byMail := touchOf(t, tm.owner, ingest(t, tm.testApp, form(tm.site.ID, "d-2", "Anna Petrova", mail)))
	loner := touchOf(t, tm.owner, ingest(t, tm.testApp, form(tm.site.ID, "d-3", "Олег", channels.Handle{Kind: "phone", Value: "+7 913 555-01-09"})))
	// One form names both: the phone of one contact, the email of the other.
	both := ingest(t, tm.testApp, form(tm.site.ID, "d-4", "Анна Петрова", phone, channels.Handle{Kind: "email", Value: "anna@petrova.ru"}))
	if tc := touchOf(t, tm.owner, both); tc.ContactID != byPhone.ContactID {
		t.Fatalf("the form went to contact %d, want the phone's %d", tc.ContactID, byPhone.ContactID)
	}
	dups := func(id int64) string { return p("/api/v1/contacts/%d/duplicates", id) }
	a, b, lead, owner := tm.a, tm.b, tm.lead, tm.owner
	runScenarios(t, []scenario{
		{name: "the phone's contact is offered the email's contact, with the touch that named both", as: a, method: "GET", path: dups(byPhone.ContactID), status: 200,
			want: []string{`"name":"Anna Petrova"`, `"value":"anna@petrova.ru"`, p(`"touch_id":%d`, both)}, absent: []string{"+79135550109"}},
		{name: "and the other way round", as: a, method: "GET", path: dups(byMail.ContactID), status: 200,
			want: []string{p(`"id":%d`, byPhone.ContactID), `"value":"+79135550102"`}},
		{name: "a contact no message tied to another has none", as: owner, method: "GET", path: dups(loner.ContactID), status: 200, want: []string{`{"duplicates":[]}`}},
		{name: "a missing contact is 404", as: owner, method: "GET", path: dups(999999), status: 404, code: "not_found"},
		{name: "an id that is not a number is 404", as: owner, method: "GET", path: "/api/v1/contacts/abc/duplicates", status: 404, code: "not_found"},
		{name: "no session is 401", as: tm.anon(), method: "GET", path: dups(byPhone.ContactID), status: 401, code: "unauthorized"},
	})

	// The email's contact becomes manager B's: A no longer sees it offered.
	tm.assign(t, lead, byMail.ConversationID, b)
	runScenarios(t, []scenario{
		{name: "a manager is not offered another manager's contact", as: a, method: "GET", path: dups(byPhone.ContactID), status: 200,
			want: []string{`{"duplicates":[]}`}, absent: []string{"Anna Petrova", "anna@petrova.ru"}},
		{name: "a manager gets 404 for the suggestions of another manager's contact", as: a, method: "GET", path: dups(byMail.ContactID), status: 404, code: "not_found", absent: []string{"Анна"}},
		{name: "that manager is offered the unassigned one", as: b, method: "GET", path: dups(byMail.ContactID), status: 200, want: []string{p(`"id":%d`, byPhone.ContactID)}},
	})

	// Merged, the suggestion is gone from both ends; undone, it is back.
	var mr api.MergeResponse
	must(t, lead, 200, "POST", p("/api/v1/contacts/%d/merge", byPhone.ContactID), api.MergeRequest{ContactID: byMail.ContactID}, &mr)
	runScenarios(t, []scenario{
		{name: "after the merge the survivor has no suggestion", as: owner, method: "GET", path: dups(byPhone.ContactID), status: 200, want: []string{`{"duplicates":[]}`}},
		{name: "the merged-away id resolves to the survivor, with none", as: owner, method: "GET", path: dups(byMail.ContactID), status: 200, want: []string{`{"duplicates":[]}`}},
	})
	must(t, lead, 200, "POST", p("/api/v1/merges/%d/undo", mr.AuditID), nil, nil)
	runScenarios(t, []scenario{
		{name: "after the undo the suggestion is back", as: owner, method: "GET", path: dups(byPhone.ContactID), status: 200, want: []string{p(`"id":%d`, byMail.ContactID)}},
	})

	// Hints stored before version 4 are read back from the events.
	if err := tm.db.Exec("DELETE FROM merge_hints").Error; err != nil {
		t.Fatal(err)
	}
	steps, err := migrations.Steps(crm.Dialect(tm.db))
	if err != nil {
		t.Fatal(err)
	}
	var backfill string
	for _, s := range steps {
		if s.Version == 4 {
			_, backfill, _ = strings.Cut(s.SQL, "-- Hints recorded before this version live in the touch.added events.")
		}
	}
	if backfill == "" {
		t.Fatal("migration 4 has no backfill")
	}
	must(t, owner, 200, "GET", dups(byPhone.ContactID), nil, nil)
	if r := send(t, owner, "GET", dups(byPhone.ContactID), nil); !strings.Contains(string(r.body), `{"duplicates":[]}`) {
		t.Fatalf("with no hints there should be no suggestion: %s", r)
	}
	if err := tm.db.Exec(backfill).Error; err != nil {
		t.Fatalf("backfill: %v", err)
	}
	runScenarios(t, []scenario{
		{name: "the backfill restores the suggestion from the touch's event", as: owner, method: "GET", path: dups(byPhone.ContactID), status: 200,
			want: []string{p(`"id":%d`, byMail.ContactID), p(`"touch_id":%d`, both)}},
	})
}

func TestAPIDismissDuplicate(t *testing.T) {
	tm := newTeam(t)
	phone := channels.Handle{Kind: "phone", Value: "+7 913 555-03-01"}
	mail := channels.Handle{Kind: "email", Value: "gleb@orlov.ru"}
	byPhone := touchOf(t, tm.owner, ingest(t, tm.testApp, form(tm.site.ID, "n-1", "Глеб", phone)))
	byMail := touchOf(t, tm.owner, ingest(t, tm.testApp, form(tm.site.ID, "n-2", "Gleb Orlov", mail)))
	loner := touchOf(t, tm.owner, ingest(t, tm.testApp, form(tm.site.ID, "n-3", "Олег", channels.Handle{Kind: "phone", Value: "+7 913 555-03-09"})))
	ingest(t, tm.testApp, form(tm.site.ID, "n-4", "Глеб Орлов", phone, mail)) // names both
	// The email's contact is manager B's; the phone's stays unassigned.
	tm.assign(t, tm.lead, byMail.ConversationID, tm.b)

	P, M := byPhone.ContactID, byMail.ContactID
	dups := func(id int64) string { return p("/api/v1/contacts/%d/duplicates", id) }
	dismiss := func(id, other int64) string { return p("/api/v1/contacts/%d/duplicates/%d/dismiss", id, other) }
	notDuplicateEvents := func() int64 {
		var n int64
		if err := tm.db.Model(&crm.Event{}).Where("type = ? AND data LIKE ?", crm.EventContactChanged, "%not_duplicate%").Count(&n).Error; err != nil {
			t.Fatal(err)
		}
		return n
	}
	a, b, lead, owner := tm.a, tm.b, tm.lead, tm.owner
	secret := []string{"Gleb Orlov", "gleb@orlov.ru"}
	runScenarios(t, []scenario{
		{name: "a manager who cannot see the other contact gets 404", as: a, method: "POST", path: dismiss(P, M), status: 404, code: "not_found", absent: secret},
		{name: "nor from the other end", as: a, method: "POST", path: dismiss(M, P), status: 404, code: "not_found", absent: secret},
		{name: "and the suggestion is still there", as: owner, method: "GET", path: dups(P), status: 200, want: []string{p(`"id":%d`, M)}},
		{name: "a pair no message named is 404", as: owner, method: "POST", path: dismiss(P, loner.ContactID), status: 404, code: "not_found"},
		{name: "a contact is not its own duplicate: 422", as: owner, method: "POST", path: dismiss(P, P), status: 422, code: "invalid"},
		{name: "a missing contact is 404", as: owner, method: "POST", path: dismiss(P, 999999), status: 404, code: "not_found"},
		{name: "an other id that is not a number is 404", as: owner, method: "POST", path: p("/api/v1/contacts/%d/duplicates/abc/dismiss", P), status: 404, code: "not_found"},
		{name: "GET does not dismiss: no such endpoint", as: owner, method: "GET", path: dismiss(P, M), status: 404, code: "not_found"},
		{name: "no session is 401", as: tm.anon(), method: "POST", path: dismiss(P, M), status: 401, code: "unauthorized"},
		{name: "no CSRF token is 403", as: withCSRF(lead, ""), method: "POST", path: dismiss(P, M), status: 403, code: "csrf"},
		{name: "the failures changed nothing", as: owner, method: "GET", path: dups(M), status: 200, want: []string{p(`"id":%d`, P)}},
	})
	if n := notDuplicateEvents(); n != 0 {
		t.Fatalf("%d events from refused dismissals", n)
	}

	runScenarios(t, []scenario{
		{name: "the manager who sees both dismisses the suggestion", as: b, method: "POST", path: dismiss(M, P), status: 204},
		{name: "the phone's contact is no longer offered the email's", as: owner, method: "GET", path: dups(P), status: 200, want: []string{`{"duplicates":[]}`}},
		{name: "nor the other way round", as: b, method: "GET", path: dups(M), status: 200, want: []string{`{"duplicates":[]}`}},
		{name: "dismissing it again is 404", as: b, method: "POST", path: dismiss(P, M), status: 404, code: "not_found"},
		{name: "the dismissal is audited as the manager's, naming the other contact", as: owner, method: "GET", path: p("/api/v1/audit?action=contact.not_duplicate&actor_id=%d", b.User.ID), status: 200,
			want: []string{p(`"object_id":%d`, M), p(`"other_id":%d`, P), `"object_type":"contact"`}},
	})
	if n := notDuplicateEvents(); n != 1 {
		t.Errorf("%d contact.changed events for the dismissal, want 1", n)
	}

	// New evidence: a message names both again. A lead, then the owner, dismiss.
	again := ingest(t, tm.testApp, form(tm.site.ID, "n-5", "Глеб", phone, mail))
	runScenarios(t, []scenario{
		{name: "a new message naming both suggests them again", as: owner, method: "GET", path: dups(P), status: 200, want: []string{p(`"id":%d`, M), p(`"touch_id":%d`, again)}},
		{name: "a lead dismisses it", as: lead, method: "POST", path: dismiss(P, M), status: 204},
		{name: "and it is gone", as: owner, method: "GET", path: dups(P), status: 200, want: []string{`{"duplicates":[]}`}},
	})
	ingest(t, tm.testApp, form(tm.site.ID, "n-6", "Gleb", mail, phone))
	runScenarios(t, []scenario{
		{name: "suggested once more", as: owner, method: "GET", path: dups(M), status: 200, want: []string{p(`"id":%d`, P)}},
		{name: "the owner dismisses it", as: owner, method: "POST", path: dismiss(M, P), status: 204},
		{name: "gone for the owner too", as: owner, method: "GET", path: dups(M), status: 200, want: []string{`{"duplicates":[]}`}},
	})
}

func TestAPIAManagerUndoesTheirOwnMerge(t *testing.T) {
	tm := newTeam(t)
	x := touchOf(t, tm.owner, ingest(t, tm.testApp, form(tm.site.ID, "u-1", "Вера", channels.Handle{Kind: "phone", Value: "+7 913 555-02-01"})))
	y := touchOf(t, tm.owner, ingest(t, tm.testApp, form(tm.site.ID, "u-2", "Вера Н.", channels.Handle{Kind: "email", Value: "vera@example.ru"})))
	var mr api.MergeResponse
	must(t, tm.a, 200, "POST", p("/api/v1/contacts/%d/merge", x.ContactID), api.MergeRequest{ContactID: y.ContactID}, &mr)
	undo := p("/api/v1/merges/%d/undo", mr.AuditID)
	runScenarios(t, []scenario{
		{name: "another manager cannot undo it", as: tm.b, method: "POST", path: undo, status: 403, code: "forbidden"},
		{name: "the manager who merged undoes it", as: tm.a, method: "POST", path: undo, status: 200, want: []string{`"name":"Вера Н."`, "vera@example.ru"}},
		{name: "the undo is audited as theirs", as: tm.owner, method: "GET", path: p("/api/v1/audit?action=contact.unmerge&actor_id=%d", tm.a.User.ID), status: 200,
			want: []string{p(`"undo_of":%d`, mr.AuditID)}},
	})
}

func TestAPIRemoveIdentity(t *testing.T) {
	tm := newTeam(t)
	anna := touchOf(t, tm.owner, ingest(t, tm.testApp, form(tm.site.ID, "r-1", "Анна", channels.Handle{Kind: "phone", Value: "+7 913 555-03-01"})))
	taken := touchOf(t, tm.owner, ingest(t, tm.testApp, form(tm.site.ID, "r-2", "Чужой", channels.Handle{Kind: "phone", Value: "+7 913 555-03-02"})))
	tm.assign(t, tm.lead, taken.ConversationID, tm.b)
	var ids api.IdentityList
	must(t, tm.a, 200, "POST", p("/api/v1/contacts/%d/identities", anna.ContactID), crm.RawHandle{Kind: "email", Value: "wrong@typo.ru"}, &ids)
	var wrong, other crm.Identity
	for _, i := range ids.Identities {
		if i.Value == "wrong@typo.ru" {
			wrong = i
		}
	}
	var tc inbox.ContactDetail
	must(t, tm.owner, 200, "GET", p("/api/v1/contacts/%d", taken.ContactID), nil, &tc)
	other = tc.Contact.Identities[0]
	path := func(c, i int64) string { return p("/api/v1/contacts/%d/identities/%d", c, i) }
	runScenarios(t, []scenario{
		{name: "removing another contact's identity through this one is 404", as: tm.owner, method: "DELETE", path: path(anna.ContactID, other.ID), status: 404, code: "not_found"},
		{name: "a manager gets 404 removing an identity of another manager's contact", as: tm.a, method: "DELETE", path: path(taken.ContactID, other.ID), status: 404, code: "not_found", absent: []string{"555-03-02", "5550302"}},
		{name: "an identity id that is not a number is 404", as: tm.a, method: "DELETE", path: p("/api/v1/contacts/%d/identities/x", anna.ContactID), status: 404, code: "not_found"},
		{name: "without the CSRF token it is 403", as: withCSRF(tm.a, ""), method: "DELETE", path: path(anna.ContactID, wrong.ID), status: 403, code: "csrf"},
		{name: "a manager removes a mistyped email", as: tm.a, method: "DELETE", path: path(anna.ContactID, wrong.ID), status: 200,
			want: []string{"+79135550301"}, absent: []string{"wrong@typo.ru"}},
		{name: "removing it twice is 404", as: tm.a, method: "DELETE", path: path(anna.ContactID, wrong.ID), status: 404, code: "not_found"},
		{name: "search no longer finds the contact by it", as: tm.owner, method: "GET", path: "/api/v1/contacts?q=typo.ru", status: 200, want: []string{`{"contacts":[]}`}},
		{name: "the other contact keeps its phone", as: tm.owner, method: "GET", path: p("/api/v1/contacts/%d/identities", taken.ContactID), status: 200, want: []string{"+79135550302"}},
		{name: "the removal is audited", as: tm.owner, method: "GET", path: p("/api/v1/audit?action=contact.identity&object_id=%d", anna.ContactID), status: 200,
			want: []string{`"removed":["email:wrong@typo.ru"]`, `"added":["email:wrong@typo.ru"]`}},
	})
	// A message from the removed address starts a contact of its own.
	again := touchOf(t, tm.owner, ingest(t, tm.testApp, form(tm.site.ID, "r-3", "", channels.Handle{Kind: "email", Value: "wrong@typo.ru"})))
	if again.ContactID == anna.ContactID {
		t.Errorf("a message from a removed address still goes to contact %d", anna.ContactID)
	}
}

func TestAPIContactPagesForTheOwner(t *testing.T) {
	tm := newTeam(t)
	var ids, convs []int64
	for i, name := range []string{"Первый", "Второй", "Третий", "Четвёртый", "Пятый"} {
		tc := touchOf(t, tm.owner, ingest(t, tm.testApp, form(tm.site.ID, p("o-%d", i), name, channels.Handle{Kind: "phone", Value: p("+7 913 555-04-0%d", i)})))
		ids, convs = append(ids, tc.ContactID), append(convs, tc.ConversationID)
	}
	tm.assign(t, tm.lead, convs[3], tm.b) // else the unassigned queue shows it to every manager
	must(t, tm.lead, 200, "PATCH", p("/api/v1/contacts/%d", ids[1]), crm.ContactPatch{ResponsibleID: &tm.a.User.ID}, nil)
	must(t, tm.lead, 200, "PATCH", p("/api/v1/contacts/%d", ids[3]), crm.ContactPatch{ResponsibleID: &tm.b.User.ID}, nil)
	runScenarios(t, []scenario{
		{name: "a page of two, newest first", as: tm.owner, method: "GET", path: "/api/v1/contacts?limit=2", status: 200,
			want: []string{"Пятый", "Четвёртый"}, absent: []string{"Третий"}},
		{name: "the next page starts before the last id", as: tm.owner, method: "GET", path: p("/api/v1/contacts?limit=2&before_id=%d", ids[3]), status: 200,
			want: []string{"Третий", "Второй"}, absent: []string{"Пятый", "Четвёртый", "Первый"}},
		{name: "contacts of one responsible manager", as: tm.owner, method: "GET", path: p("/api/v1/contacts?responsible_id=%d", tm.a.User.ID), status: 200,
			want: []string{"Второй"}, absent: []string{"Первый", "Третий", "Четвёртый", "Пятый"}},
		{name: "contacts nobody is responsible for", as: tm.owner, method: "GET", path: "/api/v1/contacts?responsible_id=none", status: 200,
			want: []string{"Первый", "Третий", "Пятый"}, absent: []string{"Второй", "Четвёртый"}},
		{name: "search and the responsible filter together", as: tm.owner, method: "GET", path: "/api/v1/contacts?responsible_id=none&q=" + url.QueryEscape("555-04-02"), status: 200,
			want: []string{"Третий"}, absent: []string{"Первый", "Пятый"}},
		{name: "a manager filtering by another manager gets none of theirs", as: tm.a, method: "GET", path: p("/api/v1/contacts?responsible_id=%d", tm.b.User.ID), status: 200,
			want: []string{`{"contacts":[]}`}},
		{name: "a responsible_id that is not an id is 400", as: tm.owner, method: "GET", path: "/api/v1/contacts?responsible_id=maria", status: 400, code: "bad_request"},
		{name: "a before_id that is not an id is 400", as: tm.owner, method: "GET", path: "/api/v1/contacts?before_id=-3", status: 400, code: "bad_request"},
	})
}

func TestAPIAuditByUser(t *testing.T) {
	tm := newTeam(t)
	tc := touchOf(t, tm.owner, ingest(t, tm.testApp, form(tm.site.ID, "a-1", "Анна", channels.Handle{Kind: "phone", Value: "+7 913 555-05-01"})))
	tm.assign(t, tm.lead, tc.ConversationID, tm.a)
	must(t, tm.a, 200, "PATCH", p("/api/v1/contacts/%d", tc.ContactID), crm.ContactPatch{Name: ptr("Анна Петрова")}, nil)
	must(t, tm.a, 200, "POST", p("/api/v1/contacts/%d/identities", tc.ContactID), crm.RawHandle{Kind: "email", Value: "anna@example.ru"}, nil)
	runScenarios(t, []scenario{
		{name: "the owner sees only what the lead did", as: tm.owner, method: "GET", path: p("/api/v1/audit?actor_id=%d", tm.lead.User.ID), status: 200,
			want: []string{`"action":"conversation.assign"`, p(`"actor_id":%d`, tm.lead.User.ID)}, absent: []string{"contact.identity", p(`"actor_id":%d`, tm.a.User.ID)}},
		{name: "by user and action together", as: tm.owner, method: "GET", path: p("/api/v1/audit?actor_id=%d&action=contact.identity", tm.a.User.ID), status: 200,
			want: []string{"email:anna@example.ru"}, absent: []string{"conversation.assign"}},
		{name: "by user and contact together", as: tm.owner, method: "GET", path: p("/api/v1/audit?actor_id=%d&object_type=contact&object_id=%d", tm.a.User.ID, tc.ContactID), status: 200,
			want: []string{"contact.identity"}},
		{name: "a user who did nothing has an empty trail", as: tm.owner, method: "GET", path: p("/api/v1/audit?actor_id=%d", tm.b.User.ID), status: 200, want: []string{`{"entries":[],`}},
		{name: "an actor_id that is not an id is 400", as: tm.owner, method: "GET", path: "/api/v1/audit?actor_id=lena", status: 400, code: "bad_request"},
		{name: "an object_id that is not an id is 400", as: tm.owner, method: "GET", path: "/api/v1/audit?object_id=1x", status: 400, code: "bad_request"},
		{name: "a lead may not read the audit trail", as: tm.lead, method: "GET", path: p("/api/v1/audit?actor_id=%d", tm.a.User.ID), status: 403, code: "forbidden"},
	})
}

func TestAPIAttachmentPreviews(t *testing.T) {
	ta := newTestApp(t)
	ta.user("owner@example.ru", crm.Owner)
	owner := ta.login("owner@example.ru")
	tg := ta.account("telegram", "bot")
	var pic bytes.Buffer
	png.Encode(&pic, image.NewRGBA(image.Rect(0, 0, 4, 3)))
	ogg := append([]byte("OggS\x00\x02"), make([]byte, 40)...)
	files := []channels.Attachment{
		{Name: "chair.png", ContentType: "image/png", Data: pic.Bytes()},
		{Name: "fake.png", ContentType: "image/png", Data: []byte("<html><script>alert(1)</script></html>")},
		{Name: "logo.svg", ContentType: "image/svg+xml", Data: []byte(`<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>`)},
		{Name: "voice.ogg", ContentType: "audio/ogg", Data: ogg},
		{Name: "price.pdf", ContentType: "application/pdf", Data: []byte("%PDF-1.4 price list")},
	}
	id := ingest(t, ta, channels.Inbound{AccountID: tg.ID, ExternalID: "m-1", From: []channels.Handle{{Kind: "telegram", Value: "777"}}, Text: "Вот фото", Attachments: files})
	var list struct {
		Attachments []crm.Attachment `json:"attachments"`
	}
	must(t, owner, 200, "GET", p("/api/v1/touches/%d/attachments", id), nil, &list)
	if len(list.Attachments) != len(files) {
		t.Fatalf("attachments %+v", list.Attachments)
	}
	for i, c := range []struct{ ctype, disposition string }{
		{"image/png", "inline"},
		{"application/octet-stream", "attachment"}, // HTML that says it is a PNG
		{"application/octet-stream", "attachment"}, // SVG can carry script
		{"audio/ogg", "inline"},
		{"application/octet-stream", "attachment"},
	} {
		at := list.Attachments[i]
		r := send(t, owner, "GET", p("/api/v1/attachments/%d?inline=1", at.ID), nil)
		if r.status != 200 || r.header.Get("Content-Type") != c.ctype || !strings.HasPrefix(r.header.Get("Content-Disposition"), c.disposition) ||
			r.header.Get("Content-Security-Policy") != "sandbox" || !bytes.Equal(r.body, files[i].Data) {
			t.Errorf("%s previewed: %d %q %q %q, %d bytes; want %s %s, sandboxed, the bytes as stored", at.Name, r.status,
				r.header.Get("Content-Type"), r.header.Get("Content-Disposition"), r.header.Get("Content-Security-Policy"), len(r.body), c.ctype, c.disposition)
		}
		if r := send(t, owner, "GET", p("/api/v1/attachments/%d", at.ID), nil); r.header.Get("Content-Type") != "application/octet-stream" || !strings.HasPrefix(r.header.Get("Content-Disposition"), "attachment") {
			t.Errorf("%s downloaded as %q %q", at.Name, r.header.Get("Content-Type"), r.header.Get("Content-Disposition"))
		}
	}
}

func TestUIContentSecurityPolicyLoadsMediaOnlyFromOurOrigin(t *testing.T) {
	ta := newTestApp(t)
	srv := httptest.NewServer(ta.Handler(ui.FS()))
	t.Cleanup(srv.Close)
	c := ta.anon()
	r, err := c.http.Get(srv.URL + "/inbox")
	if err != nil {
		t.Fatal(err)
	}
	r.Body.Close()
	csp := r.Header.Get("Content-Security-Policy")
	dirs := map[string]string{}
	for _, d := range strings.Split(csp, ";") {
		name, value, _ := strings.Cut(strings.TrimSpace(d), " ")
		dirs[name] = value
	}
	for name, want := range map[string]string{"default-src": "'self'", "img-src": "'self' data:", "media-src": "'self'", "object-src": "'none'"} {
		if dirs[name] != want {
			t.Errorf("CSP %s is %q, want %q (policy %q)", name, dirs[name], want, csp)
		}
	}
	if strings.Contains(csp, "*") || strings.Contains(csp, "http") || strings.Contains(csp, "blob:") {
		t.Errorf("CSP %q allows more than our origin", csp)
	}
}
