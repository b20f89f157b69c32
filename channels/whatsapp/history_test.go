package whatsapp_test

import (
	"context"
	"testing"
	"time"

	"go.mau.fi/whatsmeow/proto/waHistorySync"
	"go.mau.fi/whatsmeow/types"
	"go.mau.fi/whatsmeow/types/events"
	"google.golang.org/protobuf/proto"

	"github.com/switchboard/switchboard/channels"
	"github.com/switchboard/switchboard/channels/whatsapp"
	"github.com/switchboard/switchboard/channels/whatsapp/whatsapptest"
	"github.com/switchboard/switchboard/crm"
	"github.com/switchboard/switchboard/crm/crmtest"
)

// HistorySync imports the last history_days of private chats, marked
// History, through whatsmeow's own reading of the phone's messages, with
// progress reported; older messages and groups are left out, and a chat
// known only from history may be answered (it wrote first).
func TestHistorySyncImportsTheRecentPast(t *testing.T) {
	now := time.Now()
	cli := whatsapptest.New(ownJID, true)
	s := &sink{}
	r := start(t, newAdapter(t, cli, `{"history_days": 7}`), s)
	r.waitState("live", phase(channels.Live))

	const oleg = "79135550001@s.whatsapp.net"
	cli.Emit(&events.HistorySync{Data: &waHistorySync.HistorySync{
		SyncType: waHistorySync.HistorySync_INITIAL_BOOTSTRAP.Enum(),
		Conversations: []*waHistorySync.Conversation{
			{ID: proto.String(oleg), Messages: []*waHistorySync.HistorySyncMsg{
				whatsapptest.HistoryMsg(oleg, "OLD", false, now.AddDate(0, 0, -9), "прошлогодний вопрос"),
				whatsapptest.HistoryMsg(oleg, "H1", false, now.AddDate(0, 0, -3), "Сколько стоит доставка?"),
				whatsapptest.HistoryMsg(oleg, "H2", true, now.AddDate(0, 0, -3).Add(time.Hour), "500 ₽ по городу"),
			}},
			{ID: proto.String("120363000000000001@g.us"), Messages: []*waHistorySync.HistorySyncMsg{
				whatsapptest.HistoryMsg("120363000000000001@g.us", "G1", false, now.AddDate(0, 0, -1), "group chatter"),
			}},
		},
	}})
	got := s.all()
	if len(got) != 2 {
		t.Fatalf("imported %d messages, want 2 (the 9-day-old one and the group left out): %+v", len(got), got)
	}
	for _, in := range got {
		if !in.History {
			t.Errorf("%s is not marked history", in.ExternalID)
		}
	}
	if got[0].ExternalID != oleg+":H1" || got[0].Outgoing || got[0].Text != "Сколько стоит доставка?" || got[0].From[0].Value != oleg {
		t.Errorf("the client's message: %+v", got[0])
	}
	if !got[1].Outgoing || got[1].From[0].Value != oleg {
		t.Errorf("our answer from the phone: %+v", got[1])
	}
	r.waitState("syncing with progress", func(st channels.State) bool { return st.Phase == channels.Syncing && st.Total == 2 })

	// The chat wrote (in history): a reply is not a first message.
	to, _ := types.ParseJID(oleg)
	if _, err := r.a.Send(context.Background(), channels.Outbound{AccountID: 7, To: channels.Handle{Kind: "whatsapp", Value: to.String()}, Text: "Добрый день!"}); err != nil {
		t.Errorf("a reply to a chat known from history was refused: %v", err)
	}
}

// history_days 0 imports nothing; a value out of range is refused.
func TestHistoryDaysSetting(t *testing.T) {
	cli := whatsapptest.New(ownJID, true)
	s := &sink{}
	r := start(t, newAdapter(t, cli, `{"history_days": 0}`), s)
	r.waitState("live", phase(channels.Live))
	const chat = "79135550002@s.whatsapp.net"
	cli.Emit(&events.HistorySync{Data: &waHistorySync.HistorySync{Conversations: []*waHistorySync.Conversation{
		{ID: proto.String(chat), Messages: []*waHistorySync.HistorySyncMsg{whatsapptest.HistoryMsg(chat, "X", false, time.Now().Add(-time.Hour), "привет")}}}}})
	if n := len(s.all()); n != 0 {
		t.Errorf("history_days 0 imported %d messages", n)
	}
	if err := whatsapp.Channel(nil, "sqlite").Check([]byte(`{"history_days": 400}`)); err == nil {
		t.Error("history_days 400 accepted")
	}
}

// A phone not seen for days makes the live account warn; a sign of life
// from the phone (its receipt of a message we sent) ends the warning, and
// the sighting survives a restart.
func TestPhoneOfflineForDaysWarns(t *testing.T) {
	ctx := context.Background()
	db := crmtest.Open(t)
	sqlDB, err := db.DB()
	if err != nil {
		t.Fatal(err)
	}
	st := whatsapp.NewStore(sqlDB, crm.Dialect(db))
	lastSeen := time.Now().Add(-5 * 24 * time.Hour).Truncate(time.Second)
	if err := st.SetPhoneSeen(ctx, 7, lastSeen); err != nil {
		t.Fatal(err)
	}
	cli := whatsapptest.New(ownJID, true)
	a := newAdapter(t, cli, "")
	a.SetSeenLog(st)
	r := start(t, a, &sink{})
	warn := r.waitState("live with the phone-offline warning", func(s channels.State) bool {
		return s.Phase == channels.Live && s.Warning == channels.WarnPhoneOffline
	})
	if !warn.WarningSince.Equal(lastSeen) {
		t.Errorf("warning since %v, want the last sighting %v", warn.WarningSince, lastSeen)
	}

	// Another linked device's receipt is not the phone.
	other := ownJID
	other.Device = 3
	chat := types.NewJID("79135550003", types.DefaultUserServer)
	cli.Emit(&events.Receipt{MessageSource: types.MessageSource{Chat: chat, Sender: other, IsFromMe: true}, MessageIDs: []types.MessageID{"A"}, Type: types.ReceiptTypeSender, Timestamp: time.Now()})
	if seen, _ := st.PhoneSeen(ctx, 7); !seen.Equal(lastSeen) {
		t.Errorf("another device's receipt counted as the phone: %v", seen)
	}
	n := len(r.statesNow())
	cli.Emit(&events.Receipt{MessageSource: types.MessageSource{Chat: chat, Sender: ownJID, IsFromMe: true}, MessageIDs: []types.MessageID{"A"}, Type: types.ReceiptTypeSender, Timestamp: time.Now()})
	cleared := r.statesNow()[n:]
	if len(cleared) != 1 || cleared[0].Phase != channels.Live || cleared[0].Warning != "" {
		t.Fatalf("after the phone's receipt: %+v, want one Live state without the warning", cleared)
	}
	if err := r.stop(); err != nil {
		t.Fatal(err)
	}
	if seen, _ := st.PhoneSeen(ctx, 7); time.Since(seen) > time.Minute {
		t.Errorf("the sighting was not recorded: %v", seen)
	}

	a2 := newAdapter(t, cli, "")
	a2.SetSeenLog(st)
	r2 := start(t, a2, &sink{})
	if live := r2.waitState("live", phase(channels.Live)); live.Warning != "" {
		t.Errorf("after a restart the warning is back: %+v", live)
	}
}
