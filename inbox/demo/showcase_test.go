package demo

import (
	"bytes"
	"context"
	"image/png"
	"io"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/switchboard/switchboard/crm"
)

// The showcase stories are there as a user finds them (issue 15, items
// 6, 10, 11, 18): conversations where a client's colleague answered in
// the thread (a participant, on the client's deal), the owner's
// unreadable mail saying why, a supplier's mail whose HTML shows its logo
// by cid:, a newsletter with a remote banner, and Belarusian clients whose
// national numbers were read as +375.
func TestDemoShowsTheShowcase(t *testing.T) {
	ctx := context.Background()
	ta := newTestApp(t)
	end := time.Date(2026, 3, 15, 22, 40, 0, 0, time.UTC)
	sum, err := ta.Demo(ctx, Options{Now: end, Days: 30, Seed: 7})
	if err != nil {
		t.Fatal(err)
	}
	sc := demoTexts().Showcase
	if sum.Participants != len(sc.Colleagues) || sum.Unreadable != len(sc.Unreadable) || sum.Foreign != len(sc.Foreign.Leads) || sum.Skipped != 0 {
		t.Errorf("summary: %d conversations with participants, %d unreadable, %d foreign contacts, %d skipped", sum.Participants, sum.Unreadable, sum.Foreign, sum.Skipped)
	}
	var owner crm.User
	if err := ta.db.Where("role = ?", crm.Owner).Take(&owner).Error; err != nil {
		t.Fatal(err)
	}
	contactOf := func(handle string) int64 {
		t.Helper()
		var id crm.Identity
		kind, value, _ := strings.Cut(handle, ":")
		if err := ta.db.Where("kind = ? AND value = ?", kind, value).Take(&id).Error; err != nil {
			t.Fatalf("no contact with %s: %v", handle, err)
		}
		return id.ContactID
	}
	lastTouch := func(contact int64) crm.Touch {
		t.Helper()
		var x crm.Touch
		if err := ta.db.Where("contact_id = ? AND direction = ?", contact, crm.Inbound).Order("occurred_at DESC").Take(&x).Error; err != nil {
			t.Fatalf("no touch of contact %d: %v", contact, err)
		}
		return x
	}

	// Colleagues answering in the client's thread.
	for _, c := range sc.Colleagues {
		client, col := contactOf("email:"+c.Client.Email), contactOf("email:"+c.Colleague.Email)
		x := lastTouch(col)
		d, err := ta.Conversation(ctx, owner, x.ConversationID, 0)
		if err != nil {
			t.Fatal(err)
		}
		if d.Conversation.ContactID != client || col == client {
			t.Errorf("%s's answer is in contact %d's conversation, want the client %d's", c.Colleague.Email, d.Conversation.ContactID, client)
		}
		if len(d.Participants) != 1 || d.Participants[0].ContactID != col || d.Participants[0].Handle != "email:"+c.Colleague.Email {
			t.Errorf("participants of %s's conversation: %+v, want %s", c.Client.Email, d.Participants, c.Colleague.Email)
		}
		if x.DealID == nil || d.Conversation.DealID == nil || *x.DealID != *d.Conversation.DealID {
			t.Errorf("%s's answer: deal %v, conversation's %v", c.Colleague.Email, x.DealID, d.Conversation.DealID)
		}
		var replies int64
		ta.db.Model(&crm.Touch{}).Where("conversation_id = ? AND direction = ? AND occurred_at > ?", x.ConversationID, crm.Outbound, x.OccurredAt).Count(&replies)
		if replies == 0 {
			t.Errorf("nobody answered %s", c.Colleague.Email)
		}
	}

	// The owner's unreadable mail.
	list, err := ta.Unreadable(ctx, owner)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != len(sc.Unreadable) {
		t.Errorf("%d unreadable mails, want %d", len(list), len(sc.Unreadable))
	}
	for _, m := range list {
		if m.Problem != "no_sender" || m.Detail == "" || m.RawSize == 0 {
			t.Errorf("unreadable %q: problem %q (%q), %d bytes kept", m.Subject, m.Problem, m.Detail, m.RawSize)
		}
		_, r, err := ta.OpenUnreadable(ctx, owner, m.ID)
		if err != nil {
			t.Fatal(err)
		}
		raw, _ := io.ReadAll(r)
		r.Close()
		if !bytes.Contains(raw, []byte("Subject:")) {
			t.Errorf("unreadable %q: the original is not kept", m.Subject)
		}
	}

	// The supplier's logo, inline.
	logo := lastTouch(contactOf("email:" + sc.LogoMail.Sender.Email))
	d, err := ta.Conversation(ctx, owner, logo.ConversationID, 0)
	if err != nil {
		t.Fatal(err)
	}
	i := slices.IndexFunc(d.Attachments, func(a crm.Attachment) bool { return a.TouchID == logo.ID && a.Inline })
	if i < 0 {
		t.Fatalf("the supplier's mail has no inline picture: %+v", d.Attachments)
	}
	a := d.Attachments[i]
	if a.ContentType != "image/png" || a.ContentID == "" || !a.Stored || !strings.Contains(logo.HTML, "cid:"+a.ContentID) {
		t.Errorf("inline picture %+v; its HTML %q", a, logo.HTML)
	}
	rc, err := ta.set.Blobs.Open(ctx, a.SHA256)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := png.DecodeConfig(rc); err != nil {
		t.Errorf("the logo is no PNG: %v", err)
	}
	rc.Close()
	if logo.NotASale == "" {
		t.Error("the supplier's mail is not marked not a sale")
	}

	// The newsletter's remote banner.
	news := lastTouch(contactOf("email:" + sc.RemoteMail.Sender.Email))
	if !strings.Contains(news.HTML, sc.RemoteMail.Banner) || !news.Automated {
		t.Errorf("the newsletter: automated %v, HTML %q", news.Automated, news.HTML)
	}

	// Belarusian clients.
	for i, want := range []string{"phone:+375296123457", "phone:+375447582019"} {
		x := lastTouch(contactOf(want))
		var deal crm.Deal
		if x.DealID != nil {
			ta.db.Take(&deal, *x.DealID)
		}
		if x.Channel != "web" || deal.Title != sc.Foreign.Leads[i].Title {
			t.Errorf("%s: touch on %s, deal %q", want, x.Channel, deal.Title)
		}
	}
	var ep crm.EntryPoint
	if err := ta.db.Where("address = ?", sc.Foreign.Entry).Take(&ep).Error; err != nil || ep.Region != "BY" {
		t.Errorf("the Belarusian page's entry point: %+v, %v", ep, err)
	}
}
