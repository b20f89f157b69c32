package server

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchboard/switchboard/channels"
	"github.com/switchboard/switchboard/crm"
	"github.com/switchboard/switchboard/inbox"
)

// call is a call from a phone number at a time, answered or missed.
func call(acc int64, ext, phone string, at time.Time, answered bool) channels.Inbound {
	return channels.Inbound{AccountID: acc, ExternalID: ext, Kind: channels.Call, At: at, From: []channels.Handle{{Kind: "phone", Value: phone}},
		Call: &channels.CallInfo{Answered: answered, Duration: 30 * time.Second}}
}

// counts fetches the client's queue counters.
func (c *client) counts() crm.QueueCounts {
	c.ta.t.Helper()
	var out crm.QueueCounts
	if st := c.do("GET", "/api/v1/queues/counts", nil, &out); st != 200 {
		c.ta.t.Fatalf("counts as %s: %d", c.User.Email, st)
	}
	return out
}

// list fetches a conversation list (query without the leading ?).
func (c *client) list(query string) inbox.ConversationList {
	c.ta.t.Helper()
	var out inbox.ConversationList
	if st, raw := c.raw("GET", "/api/v1/conversations?limit=200&"+query, nil); st != 200 {
		c.ta.t.Fatalf("list %s as %s: %d %s", query, c.User.Email, st, raw)
	} else if err := json.Unmarshal(raw, &out); err != nil {
		c.ta.t.Fatal(err)
	}
	return out
}

func ids(l inbox.ConversationList) []int64 {
	out := []int64{}
	for _, c := range l.Conversations {
		out = append(out, c.ID)
	}
	return out
}

func TestQueueCountsAreExactAndAgreeWithTheLists(t *testing.T) {
	ta := newTestApp(t)
	lead := ta.user("lena@example.ru", crm.Lead)
	maria := ta.user("maria@example.ru", crm.Manager)
	oleg := ta.user("oleg@example.ru", crm.Manager)
	tg := ta.account("telegram", "bot")
	pbx := ta.account("phone", "pbx")
	now := time.Now().UTC()
	msg := func(ext, from string, ago time.Duration) channels.Inbound {
		m := in(tg.ID, ext, "telegram", from, "Клиент "+from, "Здравствуйте")
		m.At = now.Add(-ago)
		return m
	}
	_, mine := ta.touchConv(msg("1", "1001", 5*time.Minute))
	ta.assignTo(mine, lead, &maria)
	_, queued := ta.touchConv(msg("2", "1002", 2*time.Hour)) // overdue
	_, olegs := ta.touchConv(msg("3", "1003", 3*time.Hour))  // overdue, but Oleg's
	ta.assignTo(olegs, lead, &oleg)
	_, missed := ta.touchConv(call(pbx.ID, "c-1", "+79130000001", now.Add(-10*time.Minute), false))
	_, closed := ta.touchConv(msg("4", "1004", time.Hour))
	ta.assignTo(closed, lead, &maria)
	_, snoozed := ta.touchConv(msg("5", "1005", time.Hour))
	ta.assignTo(snoozed, lead, &maria)
	unlinked := ta.twoOpenDeals(tg.ID, "1006") // its next touch cannot pick a deal: unlinked
	ta.touchConv(msg("6", "1006", time.Minute))
	mc, lc, oc := ta.login("maria@example.ru"), ta.login("lena@example.ru"), ta.login("oleg@example.ru")
	if st := mc.do("POST", fmt.Sprintf("/api/v1/conversations/%d/status", closed), map[string]any{"status": "closed"}, nil); st != 200 {
		t.Fatalf("close: %d", st)
	}
	if st := mc.do("POST", fmt.Sprintf("/api/v1/conversations/%d/status", snoozed), map[string]any{"status": "snoozed", "until": now.Add(time.Hour)}, nil); st != 200 {
		t.Fatalf("snooze: %d", st)
	}

	n := func(v int64) *int64 { return &v }
	for _, tc := range []struct {
		name string
		c    *client
		want crm.QueueCounts
	}{
		{"a manager counts their own and the unassigned", mc, crm.QueueCounts{Mine: 1, Unassigned: 3, Unlinked: 1, CallBack: 1, Waiting: 4, Overdue: 1, Snoozed: 1, Closed: 1}},
		{"another manager counts none of Maria's", oc, crm.QueueCounts{Mine: 1, Unassigned: 3, Unlinked: 1, CallBack: 1, Waiting: 4, Overdue: 2, Snoozed: 0, Closed: 0}},
		{"a lead counts everyone's, All included", lc, crm.QueueCounts{Mine: 0, Unassigned: 3, Unlinked: 1, CallBack: 1, Waiting: 5, Overdue: 2, Snoozed: 1, All: n(5), Closed: 1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := tc.c.counts()
			gj, _ := json.Marshal(got)
			wj, _ := json.Marshal(tc.want)
			if string(gj) != string(wj) {
				t.Errorf("counts = %s\nwant     %s", gj, wj)
			}
			// Each counter is its list's length.
			lists := map[string]int64{
				"filter=mine&status=open":       got.Mine,
				"filter=unassigned&status=open": got.Unassigned,
				"filter=unlinked":               got.Unlinked,
				"filter=callback":               got.CallBack,
				"filter=waiting":                got.Waiting,
				"status=snoozed":                got.Snoozed,
				"status=closed":                 got.Closed,
			}
			if got.All != nil {
				lists["filter=all&status=open"] = *got.All
			}
			for q, want := range lists {
				if l := tc.c.list(q); int64(len(l.Conversations)) != want {
					t.Errorf("%s lists %v, its counter says %d", q, ids(l), want)
				}
			}
		})
	}
	if l := mc.list("filter=callback"); len(l.Conversations) != 1 || l.Conversations[0].ID != missed || l.Conversations[0].MissedCallAt == nil {
		t.Errorf("call-back list = %+v, want conversation %d with missed_call_at", l.Conversations, missed)
	}
	if l := lc.list("filter=unlinked"); len(l.Conversations) != 1 || l.Conversations[0].ID != unlinked {
		t.Errorf("the lead's unlinked list = %v, want [%d]", ids(l), unlinked)
	}
	if l := mc.list("filter=waiting"); len(l.Conversations) != 4 || l.Conversations[0].ID != queued {
		t.Errorf("waiting = %v, want the longest wait (%d) first", ids(l), queued)
	}
	if raw, _ := json.Marshal(mc.counts()); strings.Contains(string(raw), `"all"`) {
		t.Errorf("a manager's counts carry all: %s", raw)
	}
	for _, q := range []string{"filter=later", "status=sleeping"} {
		if st, raw := mc.raw("GET", "/api/v1/conversations?"+q, nil); st != 422 || !strings.Contains(string(raw), "must be") {
			t.Errorf("%s: %d %s, want 422 saying what it must be", q, st, raw)
		}
	}
	if st := ta.anon().do("GET", "/api/v1/queues/counts", nil, nil); st != 401 {
		t.Errorf("counts without a session: %d", st)
	}
}

func TestWaitingQueueIsLongestFirstAndPages(t *testing.T) {
	ta := newTestApp(t)
	lead := ta.user("lena@example.ru", crm.Lead)
	tg := ta.account("telegram", "bot")
	now := time.Now().UTC()
	var convs []int64
	for i, ago := range []time.Duration{time.Minute, 3 * time.Hour, 20 * time.Minute, 2 * time.Hour} {
		m := in(tg.ID, fmt.Sprint("m", i), "telegram", fmt.Sprint(2000+i), "", "Алло")
		m.At = now.Add(-ago)
		_, c := ta.touchConv(m)
		convs = append(convs, c)
	}
	lc := ta.login("lena@example.ru")
	var page1, page2 inbox.ConversationList
	lc.do("GET", "/api/v1/conversations?filter=waiting&limit=2", nil, &page1)
	lc.do("GET", "/api/v1/conversations?filter=waiting&limit=2&cursor="+page1.NextCursor, nil, &page2)
	got := append(ids(page1), ids(page2)...)
	want := []int64{convs[1], convs[3], convs[2], convs[0]}
	if fmt.Sprint(got) != fmt.Sprint(want) || page2.NextCursor != "" {
		t.Errorf("waiting pages = %v (next %q), want %v", got, page2.NextCursor, want)
	}
	// Our reply ends the wait.
	if _, err := ta.Reply(context.Background(), lead, convs[1], inbox.ReplyRequest{Text: "Добрый день!"}); err != nil {
		t.Fatal(err)
	}
	if c := lc.counts(); c.Waiting != 3 || c.Overdue != 1 {
		t.Errorf("after a reply: waiting %d, overdue %d; want 3, 1", c.Waiting, c.Overdue)
	}
	// An answered call is a conversation held, not a wait; a missed one waits.
	pbx := ta.account("phone", "pbx")
	_, phoned := ta.touchConv(call(pbx.ID, "c-1", "+79130000009", now.Add(-time.Hour), true))
	if c, _ := crm.GetConversation(ta.db, phoned); c.WaitingSince != nil {
		t.Errorf("an answered call waits since %v", c.WaitingSince)
	}
	ta.ingest(call(pbx.ID, "c-2", "+79130000009", now.Add(-50*time.Minute), false))
	if c, _ := crm.GetConversation(ta.db, phoned); c.WaitingSince == nil || !c.WaitingSince.Equal(now.Add(-50*time.Minute).Truncate(time.Microsecond)) {
		t.Errorf("after a missed call: waiting since %v", c.WaitingSince)
	}
	ta.ingest(call(pbx.ID, "c-3", "+79130000009", now.Add(-40*time.Minute), true))
	if c, _ := crm.GetConversation(ta.db, phoned); c.WaitingSince != nil {
		t.Errorf("after the client got through: waiting since %v", c.WaitingSince)
	}
}

func TestCallBackQueue(t *testing.T) {
	ta := newTestApp(t)
	lead := ta.user("lena@example.ru", crm.Lead)
	pbx := ta.account("phone", "pbx")
	tg := ta.account("telegram", "bot")
	lc := ta.login("lena@example.ru")
	now := time.Now().UTC()
	at := func(ago time.Duration) time.Time { return now.Add(-ago) }
	callback := func() []int64 { return ids(lc.list("filter=callback")) }

	// Two missed calls from one number: one entry, since the older call.
	_, a := ta.touchConv(call(pbx.ID, "a-1", "+79130000001", at(50*time.Minute), false))
	ta.ingest(call(pbx.ID, "a-2", "+79130000001", at(40*time.Minute), false))
	l := lc.list("filter=callback")
	if len(l.Conversations) != 1 || l.Conversations[0].ID != a || !l.Conversations[0].MissedCallAt.Equal(at(50*time.Minute).Truncate(time.Microsecond)) {
		t.Fatalf("call-back after two missed calls: %+v", l.Conversations)
	}

	// The client gets through later: no longer to call back.
	_, b := ta.touchConv(call(pbx.ID, "b-1", "+79130000002", at(30*time.Minute), false))
	if got := callback(); fmt.Sprint(got) != fmt.Sprint([]int64{b, a}) {
		t.Fatalf("call-back = %v, want [%d %d]", got, b, a)
	}
	ta.ingest(call(pbx.ID, "b-2", "+79130000002", at(20*time.Minute), true))
	if got := callback(); fmt.Sprint(got) != fmt.Sprint([]int64{a}) {
		t.Errorf("after an answered call: %v, want [%d]", got, a)
	}

	// A reply on another channel to the same contact counts as the call
	// back; a reply before the missed call does not.
	ta.ingest(channels.Inbound{AccountID: tg.ID, ExternalID: "t-1", At: at(35 * time.Minute), Text: "Мой номер",
		From: []channels.Handle{{Kind: "telegram", Value: "3001"}, {Kind: "phone", Value: "+79130000003"}}})
	_, c := ta.touchConv(call(pbx.ID, "c-1", "+79130000003", at(15*time.Minute), false))
	cc, _ := crm.GetConversation(ta.db, c)
	var tgConv int64
	ta.db.Model(&crm.Conversation{}).Select("id").Where("contact_id = ? AND account_id = ?", cc.ContactID, tg.ID).Scan(&tgConv)
	if _, err := ta.Reply(context.Background(), lead, tgConv, inbox.ReplyRequest{Text: "Перезвоню через час"}); err != nil {
		t.Fatal(err)
	}
	ta.ingest(call(pbx.ID, "c-2", "+79130000003", time.Now().UTC(), false)) // after our reply: to call back again
	if got := callback(); fmt.Sprint(got) != fmt.Sprint([]int64{c, a}) {
		t.Fatalf("call-back = %v, want [%d %d]", got, c, a)
	}
	time.Sleep(5 * time.Millisecond) // the reply is later than the call
	if _, err := ta.Reply(context.Background(), lead, c, inbox.ReplyRequest{Text: "Вы звонили?", AccountID: tg.ID}); err != nil {
		t.Fatal(err)
	}
	if got := callback(); fmt.Sprint(got) != fmt.Sprint([]int64{a}) {
		t.Errorf("after a Telegram reply to the caller: %v, want [%d]", got, a)
	}

	// Our mailbox's automatic reply (a vacation notice) calls nobody back.
	mail := ta.account("email", "sales")
	ta.ingest(channels.Inbound{AccountID: mail.ID, ExternalID: "auto-1", Kind: channels.Mail, At: time.Now().UTC(), Outgoing: true, Automated: true,
		From: []channels.Handle{{Kind: "email", Value: "a@client.ru"}, {Kind: "phone", Value: "+79130000001"}}, Text: "Я в отпуске до понедельника."})
	if got := callback(); fmt.Sprint(got) != fmt.Sprint([]int64{a}) {
		t.Errorf("after our automatic reply: %v, want [%d]", got, a)
	}

	// Any later touch with the contact ends the wait (issue 11): the client
	// writing again, or our call back even when nobody picks up.
	_, d := ta.touchConv(call(pbx.ID, "d-1", "+79130000004", time.Now().UTC(), false))
	_, e := ta.touchConv(call(pbx.ID, "e-1", "+79130000005", time.Now().UTC(), false))
	if got := callback(); len(got) != 3 {
		t.Fatalf("call-back = %v, want d, e and a", got)
	}
	time.Sleep(5 * time.Millisecond)
	ta.ingest(channels.Inbound{AccountID: tg.ID, ExternalID: "t-d", Text: "Это я звонил, напишите",
		From: []channels.Handle{{Kind: "telegram", Value: "3004"}, {Kind: "phone", Value: "+79130000004"}}})
	back := call(pbx.ID, "e-2", "+79130000005", time.Now().UTC(), false)
	back.Outgoing = true
	ta.ingest(back)
	if got := callback(); fmt.Sprint(got) != fmt.Sprint([]int64{a}) {
		t.Errorf("after the client wrote and our unanswered call back: %v, want [%d] (not %d, %d)", got, a, d, e)
	}

	// Closing or snoozing takes it off the queue; the counter agrees.
	if st := lc.do("POST", fmt.Sprintf("/api/v1/conversations/%d/status", a), map[string]any{"status": "snoozed", "until": now.Add(time.Hour)}, nil); st != 200 {
		t.Fatalf("snooze: %d", st)
	}
	if got, n := callback(), lc.counts().CallBack; len(got) != 0 || n != 0 {
		t.Errorf("after snoozing: %v, counter %d", got, n)
	}
	// An answered call is not flagged.
	var answered crm.Touch
	ta.db.Where("external_id = ?", "b-2").Take(&answered)
	if answered.CallStatus != crm.CallAnswered {
		t.Errorf("answered call has call_status %q", answered.CallStatus)
	}
}

func TestSnooze(t *testing.T) {
	ta := newTestApp(t)
	lead := ta.user("lena@example.ru", crm.Lead)
	maria := ta.user("maria@example.ru", crm.Manager)
	ta.user("oleg@example.ru", crm.Manager)
	tg := ta.account("telegram", "bot")
	_, conv := ta.touchConv(in(tg.ID, "1", "telegram", "1001", "Анна", "Здравствуйте"))
	ta.assignTo(conv, lead, &maria)
	mc, oc := ta.login("maria@example.ru"), ta.login("oleg@example.ru")
	path := fmt.Sprintf("/api/v1/conversations/%d/status", conv)
	now := time.Now().UTC()

	for _, tc := range []struct {
		name   string
		c      *client
		body   string
		status int
		says   string
	}{
		{"a time in the past is refused", mc, `{"status":"snoozed","until":"2020-01-01T09:00:00Z"}`, 422, "future"},
		{"no time is refused", mc, `{"status":"snoozed"}`, 422, "future"},
		{"more than a year ahead is refused", mc, `{"status":"snoozed","until":"` + now.AddDate(2, 0, 0).Format(time.RFC3339) + `"}`, 422, "a year"},
		{"a time that is not RFC 3339 is a bad request", mc, `{"status":"snoozed","until":"tomorrow 9:00"}`, 400, "bad request"},
		{"an unknown status is refused", mc, `{"status":"sleeping"}`, 422, "not one of"},
		{"another manager cannot see it", oc, `{"status":"snoozed","until":"` + now.Add(time.Hour).Format(time.RFC3339) + `"}`, 404, "not found"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st, raw := tc.c.raw("POST", path, tc.body)
			if st != tc.status || !strings.Contains(string(raw), tc.says) {
				t.Errorf("%d %s, want %d saying %q", st, raw, tc.status, tc.says)
			}
		})
	}
	if c, _ := crm.GetConversation(ta.db, conv); c.Status != crm.ConvOpen {
		t.Fatalf("refused snoozes changed the conversation: %s", c.Status)
	}

	// Snoozed for an hour: out of Mine and Waiting, with an event.
	conn, _ := mc.dial(t, 0, "")
	var got crm.Conversation
	if st := mc.do("POST", path, map[string]any{"status": "snoozed", "until": now.Add(time.Hour)}, &got); st != 200 || got.Status != crm.ConvSnoozed || got.SnoozedUntil == nil {
		t.Fatalf("snooze: %d %+v", st, got)
	}
	if e := next(t, conn, crm.EventConversationChanged); !strings.Contains(string(e.Data), `"status":"snoozed"`) || !strings.Contains(string(e.Data), `"snoozed_until"`) {
		t.Errorf("snooze event data %s", e.Data)
	}
	if c := mc.counts(); c.Mine != 0 || c.Waiting != 0 || c.Snoozed != 1 {
		t.Errorf("snoozed: mine %d waiting %d snoozed %d; want 0 0 1", c.Mine, c.Waiting, c.Snoozed)
	}

	// Its time comes: back by itself, once, with an event.
	if woke, _, err := ta.RunTimers(context.Background(), now.Add(59*time.Minute)); err != nil || woke != 0 {
		t.Fatalf("before its time: woke %d, %v", woke, err)
	}
	if woke, _, err := ta.RunTimers(context.Background(), now.Add(61*time.Minute)); err != nil || woke != 1 {
		t.Fatalf("after its time: woke %d, %v", woke, err)
	}
	if woke, _, _ := ta.RunTimers(context.Background(), now.Add(62*time.Minute)); woke != 0 {
		t.Errorf("woke again: %d", woke)
	}
	if e := next(t, conn, crm.EventConversationChanged); !strings.Contains(string(e.Data), `"woke":true`) || *e.ConversationID != conv {
		t.Errorf("wake event %s", e.Data)
	}
	if c := mc.counts(); c.Mine != 1 || c.Waiting != 1 || c.Snoozed != 0 {
		t.Errorf("woken: mine %d waiting %d snoozed %d; want 1 1 0", c.Mine, c.Waiting, c.Snoozed)
	}

	// Snoozed again, the client writes: back at once.
	mc.do("POST", path, map[string]any{"status": "snoozed", "until": now.Add(24 * time.Hour)}, nil)
	ta.ingest(in(tg.ID, "2", "telegram", "1001", "", "Вы тут?"))
	if c, _ := crm.GetConversation(ta.db, conv); c.Status != crm.ConvOpen || c.SnoozedUntil != nil {
		t.Errorf("after a new message: %s until %v", c.Status, c.SnoozedUntil)
	}
	if c := mc.counts(); c.Mine != 1 || c.Waiting != 1 {
		t.Errorf("after a new message: mine %d waiting %d", c.Mine, c.Waiting)
	}
}

// twoOpenDeals opens a contact with two open deals, so that its next
// touches cannot be tied to a deal by themselves; it returns the
// conversation.
func (ta *testApp) twoOpenDeals(acc int64, tgID string) int64 {
	ta.t.Helper()
	touch, _ := ta.touchConv(in(acc, "first-"+tgID, "telegram", tgID, "Клиент "+tgID, "Первое сообщение"))
	tch, _ := crm.GetTouch(ta.db, touch)
	d := crm.Deal{ContactID: tch.ContactID, Title: "Второй заказ", Currency: "RUB"}
	if err := crm.OpenDeal(ta.db, &d); err != nil {
		ta.t.Fatal(err)
	}
	return tch.ConversationID
}

func TestRemindersOfUnlinkedTouches(t *testing.T) {
	ta := newTestApp(t)
	lead := ta.user("lena@example.ru", crm.Lead)
	maria := ta.user("maria@example.ru", crm.Manager)
	oleg := ta.user("oleg@example.ru", crm.Manager)
	tg := ta.account("telegram", "bot")
	now := time.Now().UTC()
	msg := func(ext, from string, ago time.Duration) channels.Inbound {
		m := in(tg.ID, ext, "telegram", from, "", "Ещё вопрос "+ext)
		m.At = now.Add(-ago)
		return m
	}
	mariaConv := ta.twoOpenDeals(tg.ID, "1001")
	ta.assignTo(mariaConv, lead, &maria)
	olegConv := ta.twoOpenDeals(tg.ID, "1003")
	ta.assignTo(olegConv, lead, &oleg)
	ta.twoOpenDeals(tg.ID, "1002") // nobody's
	due, _ := ta.touchConv(msg("m-due", "1001", 40*time.Minute))
	soon, _ := ta.touchConv(msg("m-soon", "1001", 10*time.Minute))
	ta.touchConv(msg("m-ancient", "1001", inbox.RemindHorizon+time.Hour))
	auto := msg("m-auto", "1001", time.Hour)
	auto.Automated = true
	ta.touchConv(auto)
	olegs, _ := ta.touchConv(msg("o-due", "1003", 45*time.Minute))
	nobodys, _ := ta.touchConv(msg("n-due", "1002", 35*time.Minute))
	mc, oc, lc := ta.login("maria@example.ru"), ta.login("oleg@example.ru"), ta.login("lena@example.ru")
	mconn, _ := mc.dial(t, 0, "")

	_, n, err := ta.RunTimers(context.Background(), now)
	if err != nil || n != 3 {
		t.Fatalf("reminders sent: %d, %v; want 3 (the due ones, not the recent, ancient or automated)", n, err)
	}
	if _, n, _ := ta.RunTimers(context.Background(), now.Add(time.Second)); n != 0 {
		t.Errorf("a second run sent %d more", n)
	}
	e := next(t, mconn, crm.EventTouchReminder)
	if *e.TouchID != due || !strings.Contains(string(e.Data), fmt.Sprintf(`"user_id":%d`, maria.ID)) {
		t.Errorf("Maria's socket got reminder %+v %s", e, e.Data)
	}

	// Each reminder is seen by its manager only; leads by the others too.
	var evs []crm.Event
	ta.db.Where("type = ?", crm.EventTouchReminder).Order("id").Find(&evs)
	if len(evs) != 3 {
		t.Fatalf("%d reminder events recorded", len(evs))
	}
	for _, ev := range evs {
		for _, u := range []crm.User{maria, oleg, lead} {
			want := u.Role == crm.Lead || (u.ID == maria.ID && *ev.TouchID == due) || (u.ID == oleg.ID && *ev.TouchID == olegs)
			if got := u.SeesEvent(ev); got != want {
				t.Errorf("reminder of touch %d visible to %s: %v, want %v", *ev.TouchID, u.Email, got, want)
			}
		}
	}
	touchesOf := func(c *client) []int64 {
		var l crm.ReminderList
		if st := c.do("GET", "/api/v1/reminders", nil, &l); st != 200 {
			t.Fatalf("reminders: %d", st)
		}
		out := []int64{}
		for _, r := range l.Reminders {
			out = append(out, r.TouchID)
		}
		if int(l.Total) != len(out) {
			t.Errorf("total %d, listed %d", l.Total, len(out))
		}
		return out
	}
	for _, tc := range []struct {
		c    *client
		want []int64
	}{{mc, []int64{due}}, {oc, []int64{olegs}}, {lc, []int64{nobodys}}} {
		if got := touchesOf(tc.c); fmt.Sprint(got) != fmt.Sprint(tc.want) {
			t.Errorf("%s's reminders = %v, want %v", tc.c.User.Email, got, tc.want)
		}
	}

	// The lead's Unlinked queue holds every manager's unlinked touches; a
	// manager's only their own and the unassigned.
	if got := ids(lc.list("filter=unlinked")); len(got) != 3 {
		t.Errorf("the lead's Unlinked queue = %v, want Maria's, Oleg's and the unassigned one", got)
	}
	if got := ids(mc.list("filter=unlinked")); len(got) != 2 || slices.Contains(got, olegConv) {
		t.Errorf("Maria's Unlinked queue = %v, want hers and the unassigned one", got)
	}

	// Later the recent one falls due; linking a touch resolves its reminder.
	if _, n, _ := ta.RunTimers(context.Background(), now.Add(25*time.Minute)); n != 1 {
		t.Errorf("25 minutes on: %d reminders, want 1", n)
	}
	var deals []crm.Deal
	ta.db.Where("contact_id = (SELECT contact_id FROM touches WHERE id = ?)", due).Find(&deals)
	if st := mc.do("POST", fmt.Sprintf("/api/v1/touches/%d/deal", due), map[string]any{"deal_id": deals[0].ID}, nil); st != 200 {
		t.Fatalf("link: %d", st)
	}
	if got := touchesOf(mc); fmt.Sprint(got) != fmt.Sprint([]int64{soon}) {
		t.Errorf("after linking: %v, want [%d]", got, soon)
	}
	// Handed to Oleg, the reminder goes with the conversation.
	ta.assignTo(mariaConv, lead, &oleg)
	if got := touchesOf(mc); len(got) != 0 {
		t.Errorf("Maria still has %v after the transfer", got)
	}
	if got := touchesOf(oc); len(got) != 2 {
		t.Errorf("Oleg has %v after the transfer, want 2", got)
	}
}

func TestAReminderGoesOutOnceWhenTimersRace(t *testing.T) {
	ta := newTestApp(t)
	tg := ta.account("telegram", "bot")
	ta.twoOpenDeals(tg.ID, "1001")
	now := time.Now().UTC()
	for i := range 20 {
		m := in(tg.ID, fmt.Sprint("m", i), "telegram", "1001", "", "Вопрос")
		m.At = now.Add(-time.Hour - time.Duration(i)*time.Second)
		ta.ingest(m)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	total := 0
	for range 4 { // four replicas' timers at once
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, n, err := ta.RunTimers(context.Background(), now)
			if err != nil {
				t.Error(err)
			}
			mu.Lock()
			total += n
			mu.Unlock()
		}()
	}
	wg.Wait()
	if ev := ta.count("events", "type = ?", crm.EventTouchReminder); total != 20 || ev != 20 {
		t.Errorf("reminders counted %d, events %d; want 20 each", total, ev)
	}
}

// An idle timer tick writes nothing: with another transaction holding
// SQLite's write lock it still completes (a write transaction would wait
// for the lock). On PostgreSQL the held transaction locks only its row.
func TestAnIdleTimerTickTakesNoWriteLock(t *testing.T) {
	ta := newTestApp(t)
	u := ta.user("kate@example.ru", crm.Manager)
	held := ta.db.Begin()
	if err := held.Exec("UPDATE users SET name = name WHERE id = ?", u.ID).Error; err != nil {
		t.Fatal(err)
	}
	defer held.Rollback()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	if woke, reminded, err := ta.RunTimers(ctx, time.Now()); err != nil || woke != 0 || reminded != 0 {
		t.Fatalf("idle tick under a held write lock: woke %d, reminded %d, %v", woke, reminded, err)
	}
}
