package server

import (
	"context"
	"fmt"
	"log/slog"
	"testing"
	"time"

	"go.mau.fi/whatsmeow"
	"go.mau.fi/whatsmeow/proto/waE2E"
	"go.mau.fi/whatsmeow/types"
	"go.mau.fi/whatsmeow/types/events"
	"google.golang.org/protobuf/proto"

	"github.com/switchboard/switchboard/channels"
	"github.com/switchboard/switchboard/channels/whatsapp"
	"github.com/switchboard/switchboard/channels/whatsapp/whatsapptest"
	"github.com/switchboard/switchboard/crm"
	"github.com/switchboard/switchboard/inbox"
)

// waMessage is a private message as whatsmeow hands it over.
func waMessage(chat, alt, id string, m *waE2E.Message) *events.Message {
	c, _ := types.ParseJID(chat)
	evt := &events.Message{Info: types.MessageInfo{MessageSource: types.MessageSource{Chat: c, Sender: c}, ID: id, PushName: "Анна Смирнова"}, Message: m}
	if alt != "" {
		evt.Info.SenderAlt, _ = types.ParseJID(alt)
	}
	return evt
}

// TestWhatsAppEndToEnd: a linked WhatsApp number runs under the
// supervisor with a double of WhatsApp's servers behind the adapter's
// client; its messages become touches of one contact with whatsapp and
// phone identities, a repeat is one touch, and a manager's reply goes out
// through the outbox quoting the client's message.
func TestWhatsAppEndToEnd(t *testing.T) {
	ta := newTestApp(t)
	own := types.NewJID("79130000001", types.DefaultUserServer)
	cli := whatsapptest.New(own, true)
	cli.Media["/photo"] = []byte("JPEG-bytes")
	ta.useAdapters(map[channels.Kind]channels.Factory{channels.WhatsApp: func(acc channels.Account, log *slog.Logger) (channels.Adapter, error) {
		return whatsapp.NewAdapter(acc, log, cli.Opener())
	}})
	acc := ta.account("whatsapp", "Мебель НСК WhatsApp")
	m := ta.user("m@example.ru", crm.Manager)
	ta.startApp()
	eventually(t, "the account to go live", func() bool {
		st, _ := ta.Supervisor().State(acc.ID)
		return st.Phase == channels.Live
	})

	// A client whose chat WhatsApp addresses by LID, the number known.
	const lid = "123456789012345@lid"
	first := waMessage(lid, "79131234567@s.whatsapp.net", "3EB0A1", &waE2E.Message{Conversation: proto.String("Здравствуйте, диван ещё есть?")})
	cli.Emit(first)
	cli.Emit(first) // redelivered after a reconnect
	cli.Emit(waMessage(lid, "79131234567@s.whatsapp.net", "3EB0A2", &waE2E.Message{ImageMessage: &waE2E.ImageMessage{
		DirectPath: proto.String("/photo"), Mimetype: proto.String("image/jpeg"), Caption: proto.String("вот этот"), FileLength: proto.Uint64(10)}}))

	if n := ta.count("touches", "account_id = ? AND direction = 'in'", acc.ID); n != 2 {
		t.Fatalf("%d inbound touches, want 2", n)
	}
	ids, err := crm.FindIdentities(ta.db, []crm.Key{{Kind: crm.WhatsAppID, Value: lid}, {Kind: crm.PhoneID, Value: "+79131234567"}})
	if err != nil || len(ids) != 2 || ids[0].ContactID != ids[1].ContactID {
		t.Fatalf("identities = %+v, %v; want the LID and the phone on one contact", ids, err)
	}
	var in crm.Touch
	if err := ta.db.Where("account_id = ? AND external_id = ?", acc.ID, lid+":3EB0A2").Take(&in).Error; err != nil {
		t.Fatal(err)
	}
	atts, err := crm.TouchAttachments(ta.db, in.ID)
	if err != nil || len(atts) != 1 || in.Body != "вот этот" {
		t.Errorf("photo touch %+v, attachments %+v, %v", in, atts, err)
	}
	if n := ta.count("entry_points", "account_id = ? AND address = ?", acc.ID, "+79130000001"); n != 1 {
		t.Errorf("the account's number is no entry point (%d)", n)
	}

	// A message the manager wrote on the phone itself is an outbound touch
	// of the same conversation.
	mine := waMessage(lid, "", "3EB0F1", &waE2E.Message{Conversation: proto.String("Фото отправлю вечером")})
	mine.Info.IsFromMe, mine.Info.Sender, mine.Info.SenderAlt = true, own, own
	mine.Info.RecipientAlt, _ = types.ParseJID("79131234567@s.whatsapp.net")
	cli.Emit(mine)
	var fromPhone crm.Touch
	if err := ta.db.Where("account_id = ? AND external_id = ?", acc.ID, lid+":3EB0F1").Take(&fromPhone).Error; err != nil || fromPhone.Direction != crm.Outbound || fromPhone.ContactID != ids[0].ContactID {
		t.Errorf("the phone's own message: %+v, %v", fromPhone, err)
	}

	// A caller of the same number lands on the same contact.
	pbx := ta.account("phone", "АТС")
	res, err := ta.Ingest(context.Background(), []channels.Inbound{{AccountID: pbx.ID, ExternalID: "call-1", Kind: channels.Call,
		From: []channels.Handle{{Kind: "phone", Value: "8 913 123-45-67"}}, Call: &channels.CallInfo{Answered: true}}})
	if err != nil || res[0].Err != nil {
		t.Fatalf("call: %v %+v", err, res)
	}
	if n := ta.count("contacts", ""); n != 1 {
		t.Errorf("%d contacts, want 1", n)
	}

	c := ta.login("m@example.ru")
	c.do("POST", fmt.Sprintf("/api/v1/conversations/%d/assign", in.ConversationID), map[string]any{"user_id": m.ID}, nil)
	var reply crm.Touch
	if st := c.do("POST", fmt.Sprintf("/api/v1/conversations/%d/reply", in.ConversationID), inbox.ReplyRequest{Text: "Есть, 45 000 ₽"}, &reply); st != 200 {
		t.Fatalf("reply: %d", st)
	}
	eventually(t, "the reply to be sent", func() bool {
		got, err := crm.GetTouch(ta.db, reply.ID)
		return err == nil && got.DeliveryStatus == crm.Sent
	})
	sent := cli.Sent()
	if len(sent) != 1 || sent[0].To.String() != lid || sent[0].Msg.GetExtendedTextMessage().GetContextInfo().GetStanzaID() != "3EB0A2" {
		t.Fatalf("sent %+v", sent)
	}
	got, _ := crm.GetTouch(ta.db, reply.ID)
	if got.ExternalID == nil || *got.ExternalID != lid+":"+sent[0].ID {
		t.Errorf("the reply's native id = %v", got.ExternalID)
	}

	// Receipts move it to delivered, then read, live; a late delivery
	// receipt never moves it back.
	sub := ta.Hub().Subscribe(64)
	defer sub.Close()
	chat, _ := types.ParseJID(lid)
	pn, _ := types.ParseJID("79131234567@s.whatsapp.net")
	receipt := func(typ types.ReceiptType) *events.Receipt {
		return &events.Receipt{MessageSource: types.MessageSource{Chat: chat, Sender: chat, SenderAlt: pn}, MessageIDs: []types.MessageID{sent[0].ID}, Type: typ}
	}
	for _, step := range []struct {
		evt  *events.Receipt
		want string
	}{{receipt(types.ReceiptTypeDelivered), crm.Delivered}, {receipt(types.ReceiptTypeRead), crm.Read}, {receipt(types.ReceiptTypeDelivered), crm.Read}} {
		cli.Emit(step.evt)
		if got, _ := crm.GetTouch(ta.db, reply.ID); got.DeliveryStatus != step.want {
			t.Errorf("after a %q receipt: %q, want %q", step.evt.Type, got.DeliveryStatus, step.want)
		}
	}
	statuses := 0
	eventually(t, "two touch.status events for the receipts", func() bool {
		for len(sub.C) > 0 {
			if ev := <-sub.C; ev.Type == crm.EventTouchStatus && ev.TouchID != nil && *ev.TouchID == reply.ID {
				statuses++
			}
		}
		return statuses >= 2
	})
	if statuses != 2 {
		t.Errorf("%d touch.status events for the receipts, want 2", statuses)
	}
}

// TestWhatsAppPairingByPhoneCode: with pair_phone set, the adapter asks
// the double for a phone code once the login connection is up, and the
// owner alone reads it as text to type on the phone; then the account
// goes live.
func TestWhatsAppPairingByPhoneCode(t *testing.T) {
	tm := newTeam(t)
	cli := whatsapptest.New(types.JID{}, false)
	cli.PairCode = "KX7P-29QD"
	cli.QR = make(chan whatsmeow.QRChannelItem, 4)
	tm.useAdapters(map[channels.Kind]channels.Factory{channels.WhatsApp: func(acc channels.Account, log *slog.Logger) (channels.Adapter, error) {
		return whatsapp.NewAdapter(acc, log, cli.Opener())
	}})
	name := "WhatsApp +7 913 000-00-01"
	wa, err := crm.SaveAccount(tm.db, tm.box, 0, crm.AccountInput{Channel: "whatsapp", Name: &name, Settings: []byte(`{"pair_phone":"+7 913 000-00-01"}`)})
	if err != nil {
		t.Fatal(err)
	}
	tm.startApp()
	cli.QR <- whatsmeow.QRChannelItem{Event: whatsmeow.QRChannelEventCode, Code: "2@qr-not-shown", Timeout: time.Minute}
	eventually(t, "the account to wait for the phone code", func() bool {
		st, _ := tm.Supervisor().State(wa.ID)
		return st.Phase == channels.Pairing && st.PairingCode == "KX7P-29QD"
	})
	path := fmt.Sprintf("/api/v1/accounts/%d/pairing-code", wa.ID)
	runScenarios(t, []scenario{
		{name: "the owner reads the code to type", as: tm.owner, method: "GET", path: path, status: 200, want: []string{`"code":"KX7P-29QD"`}},
		{name: "a manager may not read it", as: tm.a, method: "GET", path: path, status: 403, code: "forbidden"},
		{name: "no session, no code", as: tm.anon(), method: "GET", path: path, status: 401},
		{name: "the states never carry it", as: tm.owner, method: "GET", path: "/api/v1/accounts/states", status: 200, want: []string{`"phase":"pairing"`}, absent: []string{"KX7P-29QD"}},
	})
	cli.Emit(&events.PairSuccess{ID: types.NewJID("79130000001", types.DefaultUserServer)})
	cli.QR <- whatsmeow.QRChannelSuccess
	cli.SetLinked(types.NewJID("79130000001", types.DefaultUserServer))
	cli.Emit(&events.Connected{})
	eventually(t, "the account to go live", func() bool {
		st, _ := tm.Supervisor().State(wa.ID)
		return st.Phase == channels.Live
	})
	if r := send(t, tm.owner, "GET", path, nil); r.status != 404 {
		t.Errorf("a live account's code: %d, want 404", r.status)
	}
}

// TestTheOwnerUnlinksAWhatsAppAccount: the owner alone unlinks a live
// account from the page; the device logs out and the account shows a new
// QR code to be linked again.
func TestTheOwnerUnlinksAWhatsAppAccount(t *testing.T) {
	tm := newTeam(t)
	cli := whatsapptest.New(types.NewJID("79130000001", types.DefaultUserServer), true)
	cli.QR = make(chan whatsmeow.QRChannelItem, 4)
	tm.useAdapters(map[channels.Kind]channels.Factory{channels.WhatsApp: func(acc channels.Account, log *slog.Logger) (channels.Adapter, error) {
		return whatsapp.NewAdapter(acc, log, cli.Opener())
	}})
	wa := tm.account("whatsapp", "WhatsApp +7 913 000-00-01")
	tm.startApp()
	eventually(t, "the account to go live", func() bool {
		st, _ := tm.Supervisor().State(wa.ID)
		return st.Phase == channels.Live
	})
	path := fmt.Sprintf("/api/v1/accounts/%d/unlink", wa.ID)
	runScenarios(t, []scenario{
		{name: "a lead may not unlink", as: tm.lead, method: "POST", path: path, status: 403, code: "forbidden"},
		{name: "a manager may not unlink", as: tm.a, method: "POST", path: path, status: 403, code: "forbidden"},
		{name: "a web account has nothing to unlink", as: tm.owner, method: "POST", path: fmt.Sprintf("/api/v1/accounts/%d/unlink", tm.site.ID), status: 404, code: "not_found"},
		{name: "the owner unlinks", as: tm.owner, method: "POST", path: path, status: 200},
	})
	if cli.IsLoggedIn() {
		t.Error("the device is still linked")
	}
	runScenarios(t, []scenario{{name: "the unlink is audited", as: tm.owner, method: "GET", path: fmt.Sprintf("/api/v1/audit?action=account.unlink&object_id=%d", wa.ID), status: 200,
		want: []string{`"account.unlink"`, `"channel":"whatsapp"`}}})
	cli.QR <- whatsmeow.QRChannelItem{Event: whatsmeow.QRChannelEventCode, Code: "2@again", Timeout: time.Minute}
	eventually(t, "a new QR code", func() bool {
		st, _ := tm.Supervisor().State(wa.ID)
		return st.Phase == channels.Pairing && st.PairingCode == "2@again"
	})
}
