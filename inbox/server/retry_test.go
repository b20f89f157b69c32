package server

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/switchboard/switchboard/channels"
	"github.com/switchboard/switchboard/crm"
	"github.com/switchboard/switchboard/inbox"
)

// A failed reply is marked in the list and its timeline with what the
// failure means (a kind the UI translates) besides the raw error; its
// author retries it, and the same touch is queued and sent again. Another
// manager cannot retry it, nor can anyone retry a reply that did not fail
// or one whose account is disabled (issue 16, item 4).
func TestAFailedReplyIsMarkedAndRetried(t *testing.T) {
	ch := &scripted{errs: []error{channels.Permanent(errors.New("whatsapp: this chat never wrote to the account: a first message is refused")), nil}}
	ta, m, conv := newOutboxApp(t, ch)
	ta.user("other@example.ru", crm.Manager)
	mc, other := ta.login("m@example.ru"), ta.login("other@example.ru")
	tch, err := ta.Reply(context.Background(), m, conv.ID, inbox.ReplyRequest{Text: "15 000 ₽"})
	if err != nil {
		t.Fatal(err)
	}
	ta.DispatchDue(context.Background())

	l := mc.list("filter=mine")
	if len(l.Conversations) != 1 || l.Conversations[0].FailedReply == nil {
		t.Fatalf("the list does not mark the failed reply: %+v", l.Conversations)
	}
	if f := l.Conversations[0].FailedReply; f.TouchID != tch.ID || f.Failure != crm.FailFirstMessage || !strings.Contains(f.LastError, "never wrote") {
		t.Errorf("failed reply = %+v, want touch %d, kind %q and the raw error", f, tch.ID, crm.FailFirstMessage)
	}
	var d inbox.ConversationDetail
	must(t, mc, 200, "GET", p("/api/v1/conversations/%d", conv.ID), nil, &d)
	if len(d.Sending) != 1 || d.Sending[0].Failure != crm.FailFirstMessage || d.Sending[0].Status != crm.Failed {
		t.Errorf("the timeline's send states = %+v, want the failure's kind", d.Sending)
	}

	if r := send(t, other, "POST", p("/api/v1/touches/%d/retry", tch.ID), "{}"); r.status != 404 {
		t.Errorf("another manager retried the reply: %s", r)
	}
	in := ta.ingest(channels.Inbound{AccountID: conv.AccountID, ExternalID: "in-2", From: []channels.Handle{{Kind: "whatsapp", Value: "79131234567@s.whatsapp.net"}}, Text: "Ну?"})
	if r := send(t, mc, "POST", p("/api/v1/touches/%d/retry", in[0].TouchID), "{}"); r.status != 422 {
		t.Errorf("retrying an inbound message: %s, want 422", r)
	}

	var again crm.Touch
	must(t, mc, 200, "POST", p("/api/v1/touches/%d/retry", tch.ID), "{}", &again)
	if again.ID != tch.ID || again.DeliveryStatus != crm.Queued {
		t.Errorf("retry answered %+v, want the same touch queued", again)
	}
	if j := ta.job(tch.ID); j.Status != crm.Queued || j.Attempts != 0 || j.LastError != "" {
		t.Errorf("the job after retry: %+v", j)
	}
	ta.DispatchDue(context.Background())
	if got, _ := crm.GetTouch(ta.db, tch.ID); got.DeliveryStatus != crm.Sent || len(ch.sent) != 1 || ch.sent[0].Text != "15 000 ₽" {
		t.Errorf("after the retry: status %q, sent %+v", got.DeliveryStatus, ch.sent)
	}
	if l := mc.list("filter=mine"); l.Conversations[0].FailedReply != nil {
		t.Errorf("the list still marks the reply that went out: %+v", l.Conversations[0].FailedReply)
	}
	if r := send(t, mc, "POST", p("/api/v1/touches/%d/retry", tch.ID), "{}"); r.status != 422 {
		t.Errorf("retrying a sent reply: %s, want 422", r)
	}

	// A reply whose account was disabled since is sent another way.
	ch.errs = []error{channels.Permanent(errors.New("whatsapp: send to x: boom"))}
	tch2, err := ta.Reply(context.Background(), m, conv.ID, inbox.ReplyRequest{Text: "Ещё раз"})
	if err != nil {
		t.Fatal(err)
	}
	ta.DispatchDue(context.Background())
	ta.db.Model(&crm.Account{}).Where("id = ?", conv.AccountID).Update("enabled", false)
	if r := send(t, mc, "POST", p("/api/v1/touches/%d/retry", tch2.ID), "{}"); r.status != 422 || !strings.Contains(string(r.body), "another way") {
		t.Errorf("retrying through a disabled account: %s, want 422 saying to send it another way", r)
	}
}
