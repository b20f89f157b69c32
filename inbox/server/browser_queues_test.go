package server

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/switchboard/switchboard/channels"
	"github.com/switchboard/switchboard/crm"
)

// count is the JavaScript for a queue's counter as a number.
func queueCount(id string) string {
	return "Number((document.querySelector('#queue-" + id + " .count') || {}).dataset?.count)"
}

func (tb *tab) waitCount(id string, n int) {
	tb.t.Helper()
	tb.wait(fmt.Sprintf("the %s counter at %d", id, n), fmt.Sprintf("%s === %d", queueCount(id), n))
}

func TestBrowserQueuesCallBackRemindersAndSnooze(t *testing.T) {
	ta := newTestApp(t)
	lead := ta.user("lena@example.ru", crm.Lead)
	maria := ta.user("maria@example.ru", crm.Manager)
	tg := ta.account("telegram", "Sales bot")
	pbx := ta.account("phone", "Tracking numbers")
	now := time.Now().UTC()
	first := in(tg.ID, "tg-1", "telegram", "5001", "Анна Петрова", "Добрый день! Есть ли стулья в цвете «орех»?")
	first.At = now.Add(-50 * time.Minute)
	_, anna := ta.touchConv(first)
	ta.assignTo(anna, lead, &maria)
	b := newBrowser(t, ta)

	p := b.tab("maria", "en-US")
	p.login("maria@example.ru")
	p.waitCount("mine", 1)
	p.waitCount("waiting", 1)
	p.waitCount("callback", 0)
	// Anna has waited 50 minutes: overdue (30 by default), red in the list and the counter.
	p.wait("Anna overdue in the list", "document.querySelector("+js(convItem(anna)+".overdue")+")")
	p.wait("the waiting counter late", "document.querySelector('#queue-waiting .count.late')")

	// A missed call: the counters move without a reload.
	_, missed := ta.touchConv(channels.Inbound{AccountID: pbx.ID, ExternalID: "call-1", Kind: channels.Call, At: now.Add(-2 * time.Minute),
		From: []channels.Handle{{Kind: "phone", Value: "+79135550177"}}, EntryPoint: "+73832001122", Call: &channels.CallInfo{}})
	p.waitCount("callback", 1)
	p.waitCount("unassigned", 1)
	p.waitCount("waiting", 2)
	p.click("#queue-callback")
	p.waitText(convItem(missed)+" .flag.callback", "missed call")
	p.waitText(convItem(missed), "+7 913 555-01-77")
	p.screenshot("queues-callback")

	// A touch Maria's client sent 40 minutes ago has no deal: a reminder.
	ivanConv := ta.twoOpenDeals(tg.ID, "5002")
	ta.assignTo(ivanConv, lead, &maria)
	late := in(tg.ID, "tg-2", "telegram", "5002", "", "И ещё: нужен ли замер?")
	late.At = now.Add(-40 * time.Minute)
	lateTouch, _ := ta.touchConv(late)
	p.waitCount("mine", 2)
	if p.eval("!!document.querySelector('#bell .badge')") == true {
		t.Fatal("a reminder badge before any reminder")
	}
	// Before the reminder the bell does not claim every touch has a deal:
	// it says when reminders come and leads to the No deal queue.
	p.click("#bell")
	p.waitText("#reminders", "A reminder comes when a client's message has had no deal for 30 min")
	p.waitText("#bell-queue", "in No deal")
	p.click("#bell")
	if _, n, err := ta.RunTimers(context.Background(), time.Now()); err != nil || n != 1 {
		t.Fatalf("reminders: %d, %v", n, err)
	}
	p.waitText("#bell .badge", "1")
	p.waitText(".toast", "Reminder: Клиент 5002")
	p.click("#bell")
	p.waitText(fmt.Sprintf(`#reminders [data-reminder="%d"]`, lateTouch), "нужен ли замер")
	p.waitText(fmt.Sprintf(`#reminders [data-reminder="%d"] .why`, lateTouch), "no deal was chosen within 30 min")
	p.screenshot("reminders")
	p.click(fmt.Sprintf(`#reminders [data-reminder="%d"]`, lateTouch))
	p.waitText("#conv-contact", "Клиент 5002")
	p.wait("the bell closed", "!document.querySelector('#reminders')")

	// Snooze Anna for an hour: she leaves Mine and Waiting, live.
	p.click("#queue-mine")
	p.click(convItem(anna))
	p.waitText("#conv-contact", "Анна Петрова")
	p.click("#snooze-btn")
	p.wait("the snooze menu", "document.querySelector('#snooze-menu')")
	p.screenshot("snooze-menu")
	p.click("#snooze-hour")
	p.waitText("#snoozed-note", "Snoozed until")
	p.waitCount("mine", 1)
	p.waitCount("waiting", 2) // the missed call and Ivan
	p.waitCount("snoozed", 1)
	p.wait("Anna gone from Mine", "!document.querySelector("+js(convItem(anna))+")")
	p.screenshot("snoozed")
	if c, _ := crm.GetConversation(ta.db, anna); c.Status != crm.ConvSnoozed || c.SnoozedUntil == nil || c.SnoozedUntil.Sub(now) < 59*time.Minute {
		t.Errorf("after snoozing for an hour: %s until %v", c.Status, c.SnoozedUntil)
	}

	// The hour is up: she comes back by herself.
	if woke, _, err := ta.RunTimers(context.Background(), time.Now().Add(61*time.Minute)); err != nil || woke != 1 {
		t.Fatalf("wake: %d, %v", woke, err)
	}
	p.waitCount("mine", 2)
	p.waitCount("snoozed", 0)
	p.wait("Anna back in Mine", "document.querySelector("+js(convItem(anna))+")")
	p.wait("the snooze note gone", "!document.querySelector('#snoozed-note') && document.querySelector('#snooze-btn')")

	// Linking the touch resolves its reminder; the bell empties.
	p.click(convItem(ivanConv))
	p.wait("the unlinked touch's choices", fmt.Sprintf(`document.querySelector('[data-resolve="%d"] .new-deal')`, lateTouch))
	p.click(fmt.Sprintf(`[data-resolve="%d"] .new-deal`, lateTouch))
	p.click(fmt.Sprintf(`[data-resolve="%d"] .new-deal-form button[type=submit]`, lateTouch))
	p.wait("the badge gone", "!document.querySelector('#bell .badge')")

	// Russian.
	p.click(`.topbar .lang button:nth-child(1)`)
	p.waitText(".queues", "Перезвонить")
	p.click("#queue-callback")
	p.waitText(convItem(missed)+" .flag.callback", "пропущенный")
	p.click("#bell")
	p.waitText("#reminders", "Напоминаний нет")
	p.screenshot("queues-ru")
	p.noScriptErrors()
}
