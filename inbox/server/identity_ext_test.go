package server

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"testing"

	"github.com/switchboard/switchboard/channels"
	"github.com/switchboard/switchboard/crm"
	"github.com/switchboard/switchboard/inbox"
	"github.com/switchboard/switchboard/inbox/api"
)

// phoneExt returns the extension of the contact's phone identity value as
// the API shows the contact, and whether the contact has that phone.
func phoneExt(t *testing.T, c *client, contactID int64, value string) (string, bool) {
	t.Helper()
	var d inbox.ContactDetail
	if st := c.do("GET", fmt.Sprintf("/api/v1/contacts/%d", contactID), nil, &d); st != 200 {
		t.Fatalf("GET contact %d: status %d", contactID, st)
	}
	for _, id := range d.Contact.Identities {
		if id.Kind == crm.PhoneID && id.Value == value {
			return id.Ext, true
		}
	}
	return "", false
}

// TestPhoneIdentityKeepsTheLatestExtension: the office number a client
// writes with "доб. 123" is the contact's identity, and the identity
// remembers the extension, so a manager calling back knows what to ask
// for. A later touch naming another extension ("вн. 45") updates it; one
// without an extension keeps it; the number without an extension, from
// someone new, is still the same contact.
func TestPhoneIdentityKeepsTheLatestExtension(t *testing.T) {
	ta := newTestApp(t)
	ta.user("owner@x.ru", crm.Owner)
	owner := ta.login("owner@x.ru")
	web := ta.account("web", "site")
	pbx := ta.account("phone", "pbx")
	const office = "+73832349096"

	step := func(name string, in channels.Inbound, want string) int64 {
		t.Helper()
		res := ta.ingest(in)
		if res[0].Err != nil {
			t.Fatalf("%s: %v", name, res[0].Err)
		}
		tch, err := crm.GetTouch(ta.db, res[0].TouchID)
		if err != nil {
			t.Fatal(err)
		}
		got, ok := phoneExt(t, owner, tch.ContactID, office)
		if !ok || got != want {
			t.Errorf("%s: contact %d's %s has ext %q (found %v), want %q", name, tch.ContactID, office, got, ok, want)
		}
		return tch.ContactID
	}
	first := step("a web form with доб. 123", channels.Inbound{AccountID: web.ID, ExternalID: "form-1",
		From: []channels.Handle{{Kind: "phone", Value: "+7 383 234-90-96 доб. 123"}}, Name: "Игорь", Text: "перезвоните"}, "123")
	if c := step("a call from the office with вн. 45", channels.Inbound{AccountID: pbx.ID, ExternalID: "call-1", Kind: channels.Call,
		From: []channels.Handle{{Kind: "phone", Value: "8 (383) 234-90-96 вн. 45"}}}, "45"); c != first {
		t.Errorf("the call went to contact %d, want %d", c, first)
	}
	if c := step("a form without an extension", channels.Inbound{AccountID: web.ID, ExternalID: "form-2",
		From: []channels.Handle{{Kind: "phone", Value: "+7 383 234 90 96"}}, Text: "ещё раз"}, "45"); c != first {
		t.Errorf("the second form went to contact %d, want %d", c, first)
	}
	if c := step("someone new writes the bare number next to a new email", channels.Inbound{AccountID: web.ID, ExternalID: "form-3",
		From: []channels.Handle{{Kind: "email", Value: "new@client.ru"}, {Kind: "phone", Value: "73832349096"}}, Text: "я из того же офиса"}, "45"); c != first {
		t.Errorf("the bare number went to contact %d, want the office's %d", c, first)
	}
	if n := ta.count("identities", "kind = 'phone' AND value = ?", office); n != 1 {
		t.Errorf("identities of %s = %d, want 1", office, n)
	}

	// Within one batch the latest said wins, on a new identity too.
	res := ta.ingest(
		channels.Inbound{AccountID: web.ID, ExternalID: "form-4", From: []channels.Handle{{Kind: "phone", Value: "+7 913 555-11-22 доб. 7"}}, Text: "а"},
		channels.Inbound{AccountID: web.ID, ExternalID: "form-5", From: []channels.Handle{{Kind: "phone", Value: "+7 913 555-11-22 ext. 8"}}, Text: "б"},
		channels.Inbound{AccountID: web.ID, ExternalID: "form-6", From: []channels.Handle{{Kind: "phone", Value: "+7 913 555-11-22"}}, Text: "в"},
		channels.Inbound{AccountID: web.ID, ExternalID: "form-7", From: []channels.Handle{{Kind: "phone", Value: "+7 383 234-90-96;ext=46"}}, Text: "г"},
	)
	for i, r := range res {
		if r.Err != nil {
			t.Fatalf("batch item %d: %v", i, r.Err)
		}
	}
	tch, _ := crm.GetTouch(ta.db, res[0].TouchID)
	if got, _ := phoneExt(t, owner, tch.ContactID, "+79135551122"); got != "8" {
		t.Errorf("a batch saying доб. 7, ext. 8, then none: ext %q, want 8", got)
	}
	if got, _ := phoneExt(t, owner, first, office); got != "46" {
		t.Errorf("a batch saying ;ext=46 of a stored number: ext %q, want 46", got)
	}

	// The contact card's "add a phone" keeps the extension typed, and the
	// list of identities shows it.
	var ids api.IdentityList
	if st := owner.do("POST", fmt.Sprintf("/api/v1/contacts/%d/identities", first), crm.RawHandle{Kind: "phone", Value: "8 913 700-00-01 доб. 31"}, &ids); st != 200 {
		t.Fatalf("add a phone: status %d", st)
	}
	added := false
	for _, id := range ids.Identities {
		added = added || (id.Value == "+79137000001" && id.Ext == "31")
	}
	if !added {
		t.Errorf("after adding 8 913 700-00-01 доб. 31: %+v, want +79137000001 with ext 31", ids.Identities)
	}

	// The export writes a phone with its extension the way it reads back.
	r := send(t, owner, "GET", "/api/v1/contacts/export.csv", nil)
	rows, err := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(r.body, []byte("\uFEFF")))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, row := range rows[1:] {
		if row[0] == fmt.Sprint(first) {
			found = true
			if row[3] != "+73832349096;ext=46 +79137000001;ext=31" {
				t.Errorf("exported phones %q, want +73832349096;ext=46 +79137000001;ext=31", row[3])
			}
		}
	}
	if !found {
		t.Errorf("contact %d not exported: %q", first, rows)
	}

	// A merge moves the identity with its extension, and so does its undo.
	other := tch.ContactID
	var m api.MergeResponse
	if st := owner.do("POST", fmt.Sprintf("/api/v1/contacts/%d/merge", first), api.MergeRequest{ContactID: other}, &m); st != 200 {
		t.Fatalf("merge: status %d", st)
	}
	if got, ok := phoneExt(t, owner, first, "+79135551122"); !ok || got != "8" {
		t.Errorf("after the merge: +79135551122 on contact %d: %v, ext %q, want 8", first, ok, got)
	}
	if st := owner.do("POST", m.UndoEndpoint, nil, nil); st != 200 {
		t.Fatalf("undo merge: status %d", st)
	}
	if got, ok := phoneExt(t, owner, other, "+79135551122"); !ok || got != "8" {
		t.Errorf("after the undo: +79135551122 on contact %d: %v, ext %q, want 8", other, ok, got)
	}
}
