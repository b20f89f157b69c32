package server

import (
	"fmt"
	"testing"
	"time"

	"github.com/switchboard/switchboard/crm"
)

// A contact marked no client (a supplier): its touches without a deal
// leave the No deal queue, now and later, and its next message opens no
// deal; the mark is audited and undone, and the touches count again. A
// blocked sender's messages are kept but make no one wait and reopen
// nothing (issue 16, item 7).
func TestAContactIsNoClientOrBlocked(t *testing.T) {
	ta := newTestApp(t)
	ta.user("lena@x.ru", crm.Lead)
	tg := ta.account("telegram", "bot")
	msg := func(ext, from, text string) int64 {
		m := in(tg.ID, ext, "telegram", from, "Поставщик "+from, text)
		m.At = time.Now().UTC()
		id, _ := ta.touchConv(m)
		return id
	}
	first := msg("s1", "6001", "Прайс на фасады")
	t1, _ := crm.GetTouch(ta.db, first)
	// The automatic deal is lost: the next message stays without one.
	if _, err := crm.LoseDeal(ta.db, *t1.DealID, "поставщик"); err != nil {
		t.Fatal(err)
	}
	second := msg("s2", "6001", "Обновили прайс")
	lena := ta.login("lena@x.ru")
	unlinked := func() []int64 { return listIDs(t, lena, "filter=unlinked") }
	if got := unlinked(); len(got) != 1 || got[0] != t1.ConversationID {
		t.Fatalf("before: No deal holds %v", got)
	}
	var c crm.Contact
	must(t, lena, 200, "PATCH", fmt.Sprintf("/api/v1/contacts/%d", t1.ContactID), map[string]any{"not_client": "supplier"}, &c)
	if c.NotClient != "supplier" || len(unlinked()) != 0 {
		t.Errorf("after marking a supplier: %q, No deal %v", c.NotClient, unlinked())
	}
	third := msg("s3", "6001", "Скидка 5% до пятницы")
	if tc, _ := crm.GetTouch(ta.db, third); tc.DealID != nil || tc.NotASale != "contact:supplier" || len(unlinked()) != 0 {
		t.Errorf("a supplier's new message: deal %v, not_a_sale %q, No deal %v", tc.DealID, tc.NotASale, unlinked())
	}
	if n := ta.count("audit_log", "action = ? AND object_id = ?", "contact.not_client", t1.ContactID); n != 1 {
		t.Errorf("%d audit entries", n)
	}
	must(t, lena, 200, "PATCH", fmt.Sprintf("/api/v1/contacts/%d", t1.ContactID), map[string]any{"not_client": ""}, &c)
	if tc, _ := crm.GetTouch(ta.db, second); tc.NotASale != "" || len(unlinked()) != 1 {
		t.Errorf("after undoing: the touch %q, No deal %v", tc.NotASale, unlinked())
	}
	must(t, lena, 422, "PATCH", fmt.Sprintf("/api/v1/contacts/%d", t1.ContactID), map[string]any{"not_client": "enemy"}, nil)

	// A blocked sender.
	spam := msg("x1", "6666", "Купите базу клиентов")
	ts, _ := crm.GetTouch(ta.db, spam)
	if _, err := crm.LoseDeal(ta.db, *ts.DealID, "спам"); err != nil {
		t.Fatal(err)
	}
	must(t, lena, 200, "PATCH", fmt.Sprintf("/api/v1/contacts/%d", ts.ContactID), map[string]any{"blocked": true}, nil)
	if err := ta.db.Model(&crm.Conversation{}).Where("id = ?", ts.ConversationID).Updates(map[string]any{"status": crm.ConvClosed, "waiting_since": nil}).Error; err != nil {
		t.Fatal(err)
	}
	again := msg("x2", "6666", "Последний шанс!")
	ta2, _ := crm.GetTouch(ta.db, again)
	conv, _ := crm.GetConversation(ta.db, ts.ConversationID)
	if ta2.ConversationID != ts.ConversationID || conv.Status != crm.ConvClosed || conv.WaitingSince != nil || ta2.NotASale != "contact:blocked" {
		t.Errorf("a blocked sender's message: conversation %+v, touch %q; want it kept, closed, nobody waiting", conv, ta2.NotASale)
	}
}
