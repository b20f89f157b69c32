package server

import (
	"fmt"
	"testing"
	"time"

	"github.com/switchboard/switchboard/channels"
	"github.com/switchboard/switchboard/crm"
	"github.com/switchboard/switchboard/inbox"
)

// teamDesk: Maria answered a first message in 10 minutes and a second
// wait (two messages) in 25; Oleg has a client waiting 40 minutes
// (overdue at 30); a third client waits 5 minutes in the unassigned
// queue. Maria won one deal.
type teamDesk struct {
	lena, maria         crm.User
	mariaID, olegID     int64
	convA, convB, convC int64
	lenaC, mariaC       *client
}

func newTeamDesk(t *testing.T, ta *testApp) *teamDesk {
	t.Helper()
	lena := ta.user("lena@x.ru", crm.Lead)
	maria := ta.user("maria@x.ru", crm.Manager)
	oleg := ta.user("oleg@x.ru", crm.Manager)
	tg := ta.account("telegram", "bot")
	now := time.Now().UTC().Truncate(time.Second)
	msg := func(ext, from string, ago time.Duration) channels.Inbound {
		m := in(tg.ID, ext, "telegram", from, "Клиент "+from, "Вопрос "+ext)
		m.At = now.Add(-ago)
		return m
	}
	d := &teamDesk{lena: lena, maria: maria, mariaID: maria.ID, olegID: oleg.ID}
	_, d.convA = ta.touchConv(msg("a1", "7001", 50*time.Minute))
	ta.assignTo(d.convA, lena, &maria)
	ta.touchConv(msg("a2", "7001", 30*time.Minute))
	ta.touchConv(msg("a3", "7001", 25*time.Minute))
	_, d.convB = ta.touchConv(msg("b1", "7002", 40*time.Minute))
	ta.assignTo(d.convB, lena, &oleg)
	_, d.convC = ta.touchConv(msg("c1", "7003", 5*time.Minute))

	var a crm.Conversation
	if err := ta.db.First(&a, d.convA).Error; err != nil {
		t.Fatal(err)
	}
	reply := func(ago time.Duration) *crm.Touch {
		return &crm.Touch{AccountID: tg.ID, Channel: "telegram", Kind: "message", Direction: crm.Outbound, DeliveryStatus: crm.Sent, ContactID: a.ContactID,
			ConversationID: a.ID, AuthorID: &maria.ID, Body: "Ответ", Meta: []byte("{}"), OccurredAt: now.Add(-ago), CreatedAt: now}
	}
	if err := crm.InsertTouches(ta.db, []*crm.Touch{reply(40 * time.Minute), reply(5 * time.Minute)}); err != nil {
		t.Fatal(err)
	}
	if err := ta.db.Model(&crm.Conversation{}).Where("id = ?", d.convA).Update("waiting_since", nil).Error; err != nil {
		t.Fatal(err) // the replies answered it, as App.Reply does
	}
	if a.DealID == nil {
		t.Fatal("Maria's client has no deal")
	}
	if err := ta.db.Model(&crm.Deal{}).Where("id = ?", *a.DealID).Update("responsible_id", maria.ID).Error; err != nil {
		t.Fatal(err)
	}
	if _, err := crm.WinDeal(ta.db, *a.DealID, 120_000_00); err != nil {
		t.Fatal(err)
	}
	d.lenaC, d.mariaC = ta.login("lena@x.ru"), ta.login("maria@x.ru")
	return d
}

func rowFor(t *testing.T, team inbox.Team, id int64) inbox.TeamRow {
	t.Helper()
	for _, r := range team.Rows {
		if r.UserID == id {
			return r
		}
	}
	t.Fatalf("no row for user %d in %+v", id, team.Rows)
	return inbox.TeamRow{}
}

func secs(p *int64) string {
	if p == nil {
		return "none"
	}
	return fmt.Sprint(*p)
}

// TestTeamView: per manager the load now (open, waiting, overdue,
// unlinked), answer times in the period (first response and every reply,
// median and 90th percentile) and deals won; the unassigned queue has its
// row; the conversations behind each figure open from it; managers may
// not see it.
func TestTeamView(t *testing.T) {
	ta := newTestApp(t)
	d := newTeamDesk(t, ta)
	var team inbox.Team
	must(t, d.lenaC, 200, "GET", "/api/v1/team?period=week", nil, &team)
	m := rowFor(t, team, d.mariaID)
	if m.Open != 1 || m.Waiting != 0 || m.Overdue != 0 {
		t.Errorf("Maria's load %+v, want 1 open, none waiting", m.TeamLoad)
	}
	if fr := m.FirstResponse; fr.N != 1 || secs(fr.Median) != "600" {
		t.Errorf("Maria's first response %+v (median %s), want one of 600 s", fr, secs(fr.Median))
	}
	if rp := m.Reply; rp.N != 2 || secs(rp.Median) != "600" || secs(rp.P90) != "1500" {
		t.Errorf("Maria's replies %+v (median %s, p90 %s), want 2: 600 and 1500 s", rp, secs(rp.Median), secs(rp.P90))
	}
	if len(m.Won) != 1 || m.Won[0].Count != 1 || m.Won[0].Amount != 120_000_00 {
		t.Errorf("Maria's wins %+v", m.Won)
	}
	o := rowFor(t, team, d.olegID)
	if o.Open != 1 || o.Waiting != 1 || o.Overdue != 1 || o.Reply.N != 0 || o.Reply.Median != nil {
		t.Errorf("Oleg's row %+v", o)
	}
	if u := rowFor(t, team, 0); u.Open != 1 || u.Waiting != 1 || u.Overdue != 0 {
		t.Errorf("the unassigned row %+v", u.TeamLoad)
	}

	ids := func(q string) []int64 {
		var l inbox.ConversationList
		must(t, d.lenaC, 200, "GET", "/api/v1/team/conversations?"+q, nil, &l)
		out := []int64{}
		for _, c := range l.Conversations {
			out = append(out, c.ID)
		}
		return out
	}
	for q, want := range map[string][]int64{
		fmt.Sprintf("user_id=%d&metric=overdue", d.olegID):  {d.convB},
		fmt.Sprintf("user_id=%d&metric=overdue", d.mariaID): {},
		fmt.Sprintf("user_id=%d&metric=open", d.mariaID):    {d.convA},
		"metric=waiting": {d.convC},
	} {
		if got := ids(q); fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("%s: %v, want %v", q, got, want)
		}
	}
	must(t, d.lenaC, 422, "GET", "/api/v1/team?period=month", nil, nil)
	must(t, d.lenaC, 422, "GET", "/api/v1/team/conversations?metric=all", nil, nil)
	must(t, d.mariaC, 403, "GET", "/api/v1/team", nil, nil)
	must(t, d.mariaC, 403, "GET", fmt.Sprintf("/api/v1/team/conversations?user_id=%d&metric=open", d.olegID), nil, nil)
}
