package server

import (
	"net/url"
	"slices"
	"testing"
	"time"

	"github.com/switchboard/switchboard/channels"
)

// A search over "all" finds, by the text of any message (not only the
// last), every conversation the user may see, closed ones included: a
// manager their own and the unassigned ones, never another manager's; a
// lead every one (issue 16, item 2).
func TestSearchFindsAnyMessageInEveryQueueTheUserMaySee(t *testing.T) {
	tm := newTeam(t)
	at := time.Now().Add(-time.Hour)
	conv := func(ext, phone, text string, when time.Time) int64 {
		return touchOf(t, tm.owner, ingest(t, tm.testApp, channels.Inbound{AccountID: tm.site.ID, ExternalID: ext, At: when,
			From: []channels.Handle{{Kind: "phone", Value: phone}}, Text: text})).ConversationID
	}
	mine := conv("s-1", "+79135550201", "Нужны 40 стульев", at)
	conv("s-1b", "+79135550201", "Спасибо, жду", at.Add(10*time.Minute)) // the last text says nothing of chairs
	tm.assign(t, tm.lead, mine, tm.a)
	closed := conv("s-2", "+79135550202", "Стульев больше не надо", at.Add(time.Minute))
	must(t, tm.lead, 200, "POST", p("/api/v1/conversations/%d/status", closed), map[string]string{"status": "closed"}, nil)
	unassigned := conv("s-3", "+79135550203", "Сколько стоят 12 стульев?", at.Add(2*time.Minute))
	others := conv("s-4", "+79135550204", "Счёт на 100 стульев", at.Add(3*time.Minute))
	tm.assign(t, tm.lead, others, tm.b)

	q := "filter=all&q=" + url.QueryEscape("стульев")
	got := ids(tm.a.list(q))
	slices.Sort(got)
	want := []int64{mine, closed, unassigned}
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("manager A's search finds %v, want %v (own, closed, unassigned; not B's %d)", got, want, others)
	}
	if got := tm.lead.list(q); len(got.Conversations) != 4 {
		t.Errorf("the lead's search finds %v, want all four", ids(got))
	}
	if got := ids(tm.a.list("filter=all&q=" + url.QueryEscape("8 (913) 555-02-04"))); len(got) != 0 {
		t.Errorf("manager A finds B's client by number: %v", got)
	}
}
