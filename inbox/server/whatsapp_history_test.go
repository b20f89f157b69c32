package server

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"go.mau.fi/whatsmeow/proto/waE2E"
	"go.mau.fi/whatsmeow/proto/waHistorySync"
	"go.mau.fi/whatsmeow/types"
	"go.mau.fi/whatsmeow/types/events"
	"google.golang.org/protobuf/proto"

	"github.com/switchboard/switchboard/channels"
	"github.com/switchboard/switchboard/channels/whatsapp"
	"github.com/switchboard/switchboard/channels/whatsapp/whatsapptest"
	"github.com/switchboard/switchboard/crm"
	"github.com/switchboard/switchboard/crm/report"
)

// TestWhatsAppHistoryIsThePast: the chats' past that the phone sends on
// pairing is stored on its contacts and conversations, marked history,
// and changes nothing of today's work: no deal opened, no conversation in
// a queue or waiting, no "no deal" touch, no reminder, no new lead in the
// report. A message that also came live is stored once. The client's next
// live message reopens the conversation as any message does.
func TestWhatsAppHistoryIsThePast(t *testing.T) {
	ta := newTestApp(t)
	cli := whatsapptest.New(types.NewJID("79130000001", types.DefaultUserServer), true)
	ta.useAdapters(map[channels.Kind]channels.Factory{channels.WhatsApp: func(acc channels.Account, log *slog.Logger) (channels.Adapter, error) {
		return whatsapp.NewAdapter(acc, log, cli.Opener())
	}})
	acc := ta.account("whatsapp", "WhatsApp салона")
	ta.user("owner@example.ru", crm.Owner)
	ta.startApp()
	eventually(t, "the account to go live", func() bool {
		st, _ := ta.Supervisor().State(acc.ID)
		return st.Phase == channels.Live
	})

	// Anna writes live; then the phone's history arrives: Oleg's chat of
	// three days ago (his question and our answer) and Anna's message
	// again.
	now := time.Now()
	const anna, oleg = "79131111111@s.whatsapp.net", "79132222222@s.whatsapp.net"
	cli.Emit(waMessage(anna, "", "LIVE1", &waE2E.Message{Conversation: proto.String("Добрый день, кухня на заказ?")}))
	sync := &events.HistorySync{Data: &waHistorySync.HistorySync{SyncType: waHistorySync.HistorySync_INITIAL_BOOTSTRAP.Enum(), Conversations: []*waHistorySync.Conversation{
		{ID: proto.String(oleg), Messages: []*waHistorySync.HistorySyncMsg{
			whatsapptest.HistoryMsg(oleg, "H1", false, now.Add(-72*time.Hour), "Сколько стоит доставка?"),
			whatsapptest.HistoryMsg(oleg, "H2", true, now.Add(-71*time.Hour), "500 ₽ по городу"),
		}},
		{ID: proto.String(anna), Messages: []*waHistorySync.HistorySyncMsg{whatsapptest.HistoryMsg(anna, "LIVE1", false, now, "Добрый день, кухня на заказ?")}},
	}}}
	cli.Emit(sync)
	cli.Emit(sync) // a part sent again after a reconnect

	if n := ta.count("touches", "account_id = ?", acc.ID); n != 3 {
		t.Fatalf("%d touches, want 3 (Anna's once, Oleg's two)", n)
	}
	ids, err := crm.FindIdentities(ta.db, []crm.Key{{Kind: crm.WhatsAppID, Value: oleg}})
	if err != nil || len(ids) != 1 {
		t.Fatalf("Oleg's identity: %+v, %v", ids, err)
	}
	olegID := ids[0].ContactID
	if n := ta.count("touches", "contact_id = ? AND history = ?", olegID, true); n != 2 {
		t.Errorf("%d of Oleg's touches are marked history, want 2", n)
	}
	if n := ta.count("touches", "history = ? AND external_id = ?", true, anna+":LIVE1"); n != 0 {
		t.Error("the live message turned into history when the history repeated it")
	}
	if n := ta.count("deals", "contact_id = ?", olegID); n != 0 {
		t.Errorf("history opened %d deals", n)
	}
	var conv crm.Conversation
	if err := ta.db.Where("contact_id = ?", olegID).Take(&conv).Error; err != nil {
		t.Fatal(err)
	}
	if conv.Status != crm.ConvClosed || conv.WaitingSince != nil {
		t.Errorf("Oleg's conversation from history: status %s, waiting since %v; want closed, nobody waiting", conv.Status, conv.WaitingSince)
	}

	owner := ta.login("owner@example.ru")
	for _, q := range []string{"filter=unlinked", "filter=waiting", "filter=unassigned&status=open", "filter=all&status=open"} {
		for _, id := range listIDs(t, owner, q) {
			if id == conv.ID {
				t.Errorf("Oleg's history conversation is in %s", q)
			}
		}
	}
	if _, n, err := ta.RunTimers(context.Background(), now.Add(2*time.Hour)); err != nil || n != 0 {
		t.Errorf("reminders sent: %d, %v; history reminds of nothing", n, err)
	}
	day := func(d time.Time) string { return d.UTC().Format("2006-01-02") }
	var rep report.Report
	must(t, owner, 200, "GET", "/api/v1/reports/sources?from="+day(now.AddDate(0, 0, -7))+"&to="+day(now.AddDate(0, 0, 1)), nil, &rep)
	if rep.Total.Leads != 1 {
		t.Errorf("the report counts %d leads, want 1 (Anna; Oleg was a client before)", rep.Total.Leads)
	}

	// Oleg writes again today: his conversation opens and waits.
	cli.Emit(waMessage(oleg, "", "LIVE2", &waE2E.Message{Conversation: proto.String("Можно доставку на субботу?")}))
	if err := ta.db.First(&conv, conv.ID).Error; err != nil || conv.Status != crm.ConvOpen || conv.WaitingSince == nil {
		t.Errorf("after Oleg's live message: %+v, %v; want open and waiting", conv, err)
	}
}
