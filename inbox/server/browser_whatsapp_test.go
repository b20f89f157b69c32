package server

import (
	"fmt"
	"log/slog"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"go.mau.fi/whatsmeow"
	"go.mau.fi/whatsmeow/proto/waE2E"
	"go.mau.fi/whatsmeow/proto/waHistorySync"
	"go.mau.fi/whatsmeow/types"
	"go.mau.fi/whatsmeow/types/events"
	"google.golang.org/protobuf/proto"

	"github.com/switchboard/switchboard/channels"
	"github.com/switchboard/switchboard/channels/whatsapp"
	"github.com/switchboard/switchboard/channels/whatsapp/whatsapptest"
	"github.com/switchboard/switchboard/crm"
)

// The owner links a stand-in WhatsApp device from the Accounts page: its
// QR code shows, the device pairs, the account goes live; a client writes,
// a manager answers from the inbox, and the reply's status moves to
// delivered and read on the manager's screen as the receipts arrive
// (issue 13).
func TestBrowserAWhatsAppNumberIsLinkedAndAReplyIsRead(t *testing.T) {
	ta := newTestApp(t)
	own := types.NewJID("79130000001", types.DefaultUserServer)
	cli := whatsapptest.New(types.JID{}, false)
	cli.QR = make(chan whatsmeow.QRChannelItem, 4)
	ta.useAdapters(map[channels.Kind]channels.Factory{channels.WhatsApp: func(acc channels.Account, log *slog.Logger) (channels.Adapter, error) {
		return whatsapp.NewAdapter(acc, log, cli.Opener())
	}})
	ta.user("owner@x.ru", crm.Owner)
	m := ta.user("maria@x.ru", crm.Manager)
	acc := ta.account("whatsapp", "WhatsApp +7 913 000-00-01")
	ta.startApp()
	b := newBrowser(t, ta)

	o := b.tab("owner", "ru-RU")
	o.login("owner@x.ru")
	o.open("/owner/accounts")
	cli.QR <- whatsmeow.QRChannelItem{Event: whatsmeow.QRChannelEventCode, Code: "2@stand-in-device", Timeout: 60 * time.Second}
	o.wait("the QR code", fmt.Sprintf(`document.querySelector('[data-pairing="%d"] img.pairing-qr')`, acc.ID))
	o.screenshot("whatsapp-pairing-ru")
	cli.Emit(&events.PairSuccess{ID: own})
	cli.QR <- whatsmeow.QRChannelSuccess
	cli.SetLinked(own)
	cli.Emit(&events.Connected{})
	o.waitText(fmt.Sprintf(`[data-account="%d"]`, acc.ID), "работает")
	o.wait("the QR gone", fmt.Sprintf(`!document.querySelector('[data-pairing="%d"]')`, acc.ID))

	// A client writes; Maria takes it and answers.
	chat, _ := types.ParseJID("79131234567@s.whatsapp.net")
	cli.Emit(&events.Message{Info: types.MessageInfo{MessageSource: types.MessageSource{Chat: chat, Sender: chat}, ID: "3EB0B1", PushName: "Анна Смирнова",
		Timestamp: time.Now()}, Message: &waE2E.Message{Conversation: proto.String("Диван ещё продаётся?")}})
	var in crm.Touch
	eventually(t, "the client's message", func() bool {
		return ta.db.Where("account_id = ? AND direction = 'in'", acc.ID).Take(&in).Error == nil
	})
	if _, err := ta.AssignConversation(t.Context(), m, in.ConversationID, &m.ID); err != nil {
		t.Fatal(err)
	}
	p := b.tab("maria", "en-US")
	p.login("maria@x.ru")
	p.open(fmt.Sprintf("/inbox/mine/%d", in.ConversationID))
	p.waitText("#timeline", "Диван ещё продаётся?")
	p.do(chromedp.SendKeys(chromedp.CSS("#reply-text"), "Да, 45 000 ₽"))
	p.click("#reply-send")
	out := `.touch.out:last-of-type .delivery`
	p.wait("the reply sent", "document.querySelector("+js(out)+")?.dataset.status === 'sent'")
	sent := cli.Sent()
	if len(sent) != 1 {
		t.Fatalf("sent %+v", sent)
	}
	for _, step := range []struct {
		typ  types.ReceiptType
		want string
	}{{types.ReceiptTypeDelivered, "delivered"}, {types.ReceiptTypeRead, "read"}} {
		cli.Emit(&events.Receipt{MessageSource: types.MessageSource{Chat: chat, Sender: chat}, MessageIDs: []types.MessageID{sent[0].ID}, Type: step.typ, Timestamp: time.Now()})
		p.wait("the reply "+step.want, "document.querySelector("+js(out)+")?.dataset.status === "+js(step.want))
	}
	p.waitText(out, "read")
	p.screenshot("whatsapp-reply-read")
	p.noScriptErrors()
	o.noScriptErrors()
}

// A linked number whose phone has not been online for five days warns on
// the owner's Accounts page, in the owner's language; the chats' past
// imported on linking shows on the timeline marked as history, with no
// "No deal" flag to resolve (issue 13).
func TestBrowserWhatsAppHistoryAndAnOfflinePhone(t *testing.T) {
	ta := newTestApp(t)
	sqlDB, err := ta.db.DB()
	if err != nil {
		t.Fatal(err)
	}
	seen := whatsapp.NewStore(sqlDB, crm.Dialect(ta.db))
	cli := whatsapptest.New(types.NewJID("79130000001", types.DefaultUserServer), true)
	ta.useAdapters(map[channels.Kind]channels.Factory{channels.WhatsApp: func(acc channels.Account, log *slog.Logger) (channels.Adapter, error) {
		a, err := whatsapp.NewAdapter(acc, log, cli.Opener())
		if err == nil {
			a.SetSeenLog(seen)
		}
		return a, err
	}})
	ta.user("owner@x.ru", crm.Owner)
	acc := ta.account("whatsapp", "WhatsApp +7 913 000-00-01")
	if err := seen.SetPhoneSeen(t.Context(), acc.ID, time.Now().Add(-5*24*time.Hour-time.Hour)); err != nil {
		t.Fatal(err)
	}
	ta.startApp()
	b := newBrowser(t, ta)

	o := b.tab("owner", "ru-RU")
	o.login("owner@x.ru")
	o.open("/owner/accounts")
	o.waitText(fmt.Sprintf(`[data-account="%d"] .account-warning`, acc.ID), "Телефон не выходил в сеть 5 дней")
	o.screenshot("whatsapp-phone-offline-ru")

	const oleg = "79132222222@s.whatsapp.net"
	cli.Emit(&events.HistorySync{Data: &waHistorySync.HistorySync{Conversations: []*waHistorySync.Conversation{{ID: proto.String(oleg),
		Messages: []*waHistorySync.HistorySyncMsg{
			whatsapptest.HistoryMsg(oleg, "H1", false, time.Now().Add(-50*time.Hour), "Сколько стоит доставка?"),
			whatsapptest.HistoryMsg(oleg, "H2", true, time.Now().Add(-49*time.Hour), "500 ₽ по городу"),
		}}}}})
	var in crm.Touch
	eventually(t, "the history", func() bool {
		return ta.db.Where("account_id = ? AND direction = 'in'", acc.ID).Take(&in).Error == nil
	})
	o.open(fmt.Sprintf("/inbox/all/%d", in.ConversationID))
	o.waitText("#timeline", "Сколько стоит доставка?")
	o.waitText(fmt.Sprintf(`[data-touch="%d"] .flag.history`, in.ID), "история")
	if n := o.eval(`document.querySelectorAll('#timeline .flag.unlinked, .warnbox').length`); n != float64(0) {
		t.Errorf("%v No deal flags or warnings for history touches", n)
	}
	o.screenshot("whatsapp-history-ru")

	// The phone shows up (its receipt of a message): the warning goes.
	o.open("/owner/accounts")
	own := types.NewJID("79130000001", types.DefaultUserServer)
	chat, _ := types.ParseJID(oleg)
	cli.Emit(&events.Receipt{MessageSource: types.MessageSource{Chat: chat, Sender: own, IsFromMe: true}, MessageIDs: []types.MessageID{"X"}, Type: types.ReceiptTypeSender, Timestamp: time.Now()})
	o.wait("the warning gone", fmt.Sprintf(`!document.querySelector('[data-account="%d"] .account-warning')`, acc.ID))
	o.noScriptErrors()
}
