package server

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/switchboard/switchboard/channels"
	"github.com/switchboard/switchboard/crm"
)

// Robot mail (bounces, delivery reports, auto-replies, list mail) is
// recorded, but it makes nobody wait, needs no deal, reminds nobody and
// opens no deal (issue 15, item 7).
func TestRobotMailFillsNoQueue(t *testing.T) {
	ta := newTestApp(t)
	ta.user("lena@example.ru", crm.Lead)
	mail := ta.account("email", "sales")
	now := time.Now().UTC()
	msg := func(ext, from, subject string, ago time.Duration, automated bool) channels.Inbound {
		return channels.Inbound{AccountID: mail.ID, ExternalID: ext, Kind: channels.Mail, ThreadKey: ext, At: now.Add(-ago), Automated: automated,
			From: []channels.Handle{{Kind: "email", Value: from}}, Subject: subject, Text: subject}
	}
	lc := ta.login("lena@example.ru")
	before := lc.counts()

	// Robots writing on their own, long enough ago to be overdue and due a
	// reminder were they people.
	var robots []int64
	for i, r := range []struct{ from, subject string }{
		{"mailer-daemon@mx.client.ru", "Undelivered Mail Returned to Sender"},
		{"noreply@bank.ru", "Выписка по счёту"},
		{"news@list.example.com", "Weekly digest"},
		{"anna@client.ru", "Автоответ: в отпуске до 10 января"},
	} {
		tid, cid := ta.touchConv(msg(fmt.Sprint("robot-", i), r.from, r.subject, 3*time.Hour, true))
		tch, _ := crm.GetTouch(ta.db, tid)
		if tch.DealID != nil || ta.count("deals", "contact_id = ?", tch.ContactID) != 0 {
			t.Errorf("%s: opened a deal", r.from)
		}
		robots = append(robots, cid)
	}
	c := lc.counts()
	if c.Waiting != before.Waiting || c.Overdue != before.Overdue || c.Unlinked != before.Unlinked {
		t.Errorf("robot mail moved the queues: waiting %d overdue %d unlinked %d, want %d %d %d",
			c.Waiting, c.Overdue, c.Unlinked, before.Waiting, before.Overdue, before.Unlinked)
	}
	for _, q := range []string{"filter=waiting", "filter=unlinked"} {
		if l := lc.list(q); len(l.Conversations) != 0 {
			t.Errorf("%s lists robot conversations %v", q, ids(l))
		}
	}
	if _, n, err := ta.RunTimers(context.Background(), now); err != nil || n != 0 {
		t.Errorf("reminders about robot mail: %d, %v", n, err)
	}

	// A client waiting for us: a bounce or an auto-reply in the thread
	// neither ends the wait nor starts a new one.
	_, conv := ta.touchConv(msg("client-1", "ivan@client.ru", "Нужен счёт", 2*time.Hour, false))
	waitingSince := func() *time.Time {
		cv, err := crm.GetConversation(ta.db, conv)
		if err != nil {
			t.Fatal(err)
		}
		return cv.WaitingSince
	}
	w0 := waitingSince()
	if w0 == nil {
		t.Fatal("the client's message does not wait")
	}
	auto := msg("auto-1", "ivan@client.ru", "Auto reply: Нужен счёт", time.Hour, true)
	auto.ThreadKey = "client-1"
	ta.ingest(auto)
	if w := waitingSince(); w == nil || !w.Equal(*w0) {
		t.Errorf("after an auto-reply the client waits since %v, want %v", w, w0)
	}
	if l := lc.list("filter=waiting"); len(l.Conversations) != 1 || l.Conversations[0].ID != conv {
		t.Errorf("waiting = %v, want [%d]", ids(l), conv)
	}

	// A closed conversation stays closed when a robot writes into it.
	if st := lc.do("POST", fmt.Sprintf("/api/v1/conversations/%d/status", robots[0]), map[string]any{"status": "closed"}, nil); st != 200 {
		t.Fatalf("close: %d", st)
	}
	again := msg("robot-again", "mailer-daemon@mx.client.ru", "Delivery Status Notification (Failure)", time.Minute, true)
	again.ThreadKey = "robot-0"
	ta.ingest(again)
	if cv, _ := crm.GetConversation(ta.db, robots[0]); cv.Status != crm.ConvClosed || cv.WaitingSince != nil {
		t.Errorf("a second bounce: status %s, waiting since %v; want closed, not waiting", cv.Status, cv.WaitingSince)
	}
	if c := lc.counts(); c.Unlinked != 0 || c.Waiting != 1 {
		t.Errorf("counts: unlinked %d, waiting %d; want 0 and 1 (the client only, with a deal)", c.Unlinked, c.Waiting)
	}
}
