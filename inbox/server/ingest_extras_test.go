package server

import (
	"context"
	"encoding/json"
	"io"
	"strings"
	"testing"

	"github.com/switchboard/switchboard/channels"
	"github.com/switchboard/switchboard/crm"
	"github.com/switchboard/switchboard/inbox/api"
)

func TestIngestStoresAttachmentsSanitizesHTMLAndKeepsParseErrors(t *testing.T) {
	ta := newTestAppWith(t, func(o *Options) { o.MaxAttachment = 1024 })
	acc := ta.account("email", "mail")
	in := channels.Inbound{AccountID: acc.ID, ExternalID: "<m1@x>", From: []channels.Handle{{Kind: "email", Value: "Client@Example.ru"}}, Subject: "Счёт",
		Text: "см. вложение",
		HTML: `<p onclick="steal()">Hi <b>there</b><script>window.pwned=1</script><img src=x onerror="window.pwned=1"><a href="javascript:alert(1)">x</a><a href="https://example.ru">site</a></p>`,
		Attachments: []channels.Attachment{
			{Name: "счёт.pdf", ContentType: "application/pdf", Data: []byte("%PDF-1.4")},
			{Name: "huge.bin", Data: make([]byte, 2048)},
			{Name: "logo.png", ContentType: "image/png", ContentID: "logo@x", Inline: true, Data: []byte("\x89PNG")},
		}}
	broken := channels.Inbound{AccountID: acc.ID, ExternalID: "imap:INBOX:1:2", From: []channels.Handle{{Kind: "email", Value: "unknown-sender@invalid"}},
		ParseError: "multipart: NextPart: EOF", Attachments: []channels.Attachment{{Name: "message.eml", ContentType: "message/rfc822", Data: []byte("garbage")}}}
	res := ta.ingest(in, broken)

	tch, _ := crm.GetTouch(ta.db, res[0].TouchID)
	for _, bad := range []string{"<script", "onerror", "onclick", "javascript:", "pwned"} {
		if strings.Contains(tch.HTML, bad) {
			t.Errorf("stored HTML keeps %q: %s", bad, tch.HTML)
		}
	}
	if !strings.Contains(tch.HTML, "<b>there</b>") || !strings.Contains(tch.HTML, `href="https://example.ru"`) {
		t.Errorf("sanitizing removed the harmless parts: %s", tch.HTML)
	}
	var files []crm.Attachment
	ta.db.Where("touch_id = ?", tch.ID).Order("id").Find(&files)
	if len(files) != 3 {
		t.Fatalf("attachments = %+v", files)
	}
	if !files[0].Stored || files[0].Name != "счёт.pdf" || files[0].Size != 8 {
		t.Errorf("pdf = %+v", files[0])
	}
	if files[1].Stored || files[1].Size != 2048 {
		t.Errorf("an attachment over the limit must be recorded by name only: %+v", files[1])
	}
	if !files[2].Inline || files[2].ContentID != "logo@x" {
		t.Errorf("inline image = %+v", files[2])
	}
	rc, err := ta.opts.Blobs.Open(context.Background(), files[0].SHA256)
	if err != nil {
		t.Fatal(err)
	}
	data, _ := io.ReadAll(rc)
	rc.Close()
	if string(data) != "%PDF-1.4" {
		t.Errorf("blob = %q", data)
	}

	bt, _ := crm.GetTouch(ta.db, res[1].TouchID)
	if bt.ParseError == "" {
		t.Error("the parse error was not kept")
	}
	ta.user("owner@example.ru", crm.Owner)
	var list api.TouchList
	if st := ta.login("owner@example.ru").do("GET", "/api/v1/parse-errors", nil, &list); st != 200 || len(list.Touches) != 1 || list.Touches[0].ID != bt.ID {
		t.Errorf("owner's parse-error list: %d %+v", st, list)
	}
}

func TestIngestKeepsAMessageWhoseSecondaryHandleIsBad(t *testing.T) {
	ta := newTestApp(t)
	acc := ta.account("telegram", "bot")
	res := ta.ingest(channels.Inbound{AccountID: acc.ID, ExternalID: "1:5", From: []channels.Handle{{Kind: "telegram", Value: "42"}, {Kind: "phone", Value: "12"}}, Text: "hi"})
	if res[0].Err != nil || res[0].TouchID == 0 {
		t.Fatalf("result %+v: a bad shared phone must not cost the message", res[0])
	}
	if n := ta.count("identities", ""); n != 1 {
		t.Errorf("identities = %d, want the telegram one only", n)
	}
}

func TestIngestStoresAnEditAndACursorOnlyPosition(t *testing.T) {
	ta := newTestApp(t)
	acc := ta.account("telegram", "bot")
	from := []channels.Handle{{Kind: "telegram", Value: "42"}}
	res, err := ta.Ingest(context.Background(), []channels.Inbound{
		{AccountID: acc.ID, ExternalID: "42:7", From: from, Text: "цена 100", Cursor: "11"},
		{AccountID: acc.ID, ExternalID: "42:7:edit:1700000000", EditOf: "42:7", From: from, Text: "цена 120", Cursor: "12"},
		{AccountID: acc.ID, Cursor: "15"}, // a group message the adapter skipped
	})
	if err != nil || res[2].Err != nil || res[2].TouchID != 0 {
		t.Fatalf("results %+v, %v", res, err)
	}
	edit, _ := crm.GetTouch(ta.db, res[1].TouchID)
	if edit.EditOf != "42:7" {
		t.Errorf("edit_of = %q", edit.EditOf)
	}
	if got, _ := crm.GetAccount(ta.db, acc.ID); got.Cursor != "15" {
		t.Errorf("cursor = %q, want the skipped update's 15", got.Cursor)
	}
}

// TestIngestKeepsThePhoneExtension: a number written with an extension
// ("доб. 123") is the contact's number, and the extension is on the
// touch, so the manager knows what to dial after it.
func TestIngestKeepsThePhoneExtension(t *testing.T) {
	ta := newTestApp(t)
	acc := ta.account("web", "site")
	res := ta.ingest(
		channels.Inbound{AccountID: acc.ID, ExternalID: "form-1", From: []channels.Handle{{Kind: "phone", Value: "+7 383 234-90-96 доб. 123"}}, Text: "перезвоните"},
		channels.Inbound{AccountID: acc.ID, ExternalID: "form-2", From: []channels.Handle{{Kind: "phone", Value: "8 (383) 234-90-96 вн. 12"}}, Text: "ещё раз"},
		channels.Inbound{AccountID: acc.ID, ExternalID: "form-3", From: []channels.Handle{{Kind: "phone", Value: "+7 383 234-90-96"}}, Text: "без добавочного"},
	)
	for i, want := range []string{"123", "12", ""} {
		if res[i].Err != nil {
			t.Fatalf("form-%d: %v", i+1, res[i].Err)
		}
		tch, err := crm.GetTouch(ta.db, res[i].TouchID)
		if err != nil {
			t.Fatal(err)
		}
		var meta map[string]string
		_ = json.Unmarshal(tch.Meta, &meta)
		if meta[crm.MetaPhoneExt] != want {
			t.Errorf("form-%d: phone_ext = %q, want %q (meta %s)", i+1, meta[crm.MetaPhoneExt], want, tch.Meta)
		}
	}
	if n := ta.count("identities", "kind = 'phone' AND value = '+73832349096'"); n != 1 {
		t.Errorf("identities of +73832349096 = %d, want 1: the extension is not part of the number", n)
	}
	if n := ta.count("contacts", ""); n != 1 {
		t.Errorf("contacts = %d, want 1", n)
	}
}
