package whatsapp_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"go.mau.fi/whatsmeow"
	"go.mau.fi/whatsmeow/types"
	"go.mau.fi/whatsmeow/types/events"

	"github.com/switchboard/switchboard/channels"
	"github.com/switchboard/switchboard/channels/whatsapp"
	"github.com/switchboard/switchboard/channels/whatsapp/whatsapptest"
)

var ownJID = types.NewJID("79130000001", types.DefaultUserServer)

// sink records what Run hands over, as ingest would store it.
type sink struct {
	mu  sync.Mutex
	got []channels.Inbound
	err error // failing Ingest while set
}

func (s *sink) Ingest(_ context.Context, batch []channels.Inbound) ([]channels.Result, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err != nil {
		return nil, s.err
	}
	s.got = append(s.got, batch...)
	return make([]channels.Result, len(batch)), nil
}

func (s *sink) all() []channels.Inbound {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]channels.Inbound(nil), s.got...)
}

// run is an adapter's Run in the background with its reported states.
type run struct {
	t      *testing.T
	a      *whatsapp.Adapter
	cancel context.CancelFunc
	done   chan error
	mu     sync.Mutex
	states []channels.State
}

func newAdapter(t *testing.T, cli *whatsapptest.Client, settings string) *whatsapp.Adapter {
	t.Helper()
	a, err := whatsapp.NewAdapter(channels.Account{ID: 7, Channel: channels.WhatsApp, Settings: json.RawMessage(settings)}, nil, cli.Opener())
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func start(t *testing.T, a *whatsapp.Adapter, s channels.Sink) *run {
	ctx, cancel := context.WithCancel(context.Background())
	r := &run{t: t, a: a, cancel: cancel, done: make(chan error, 1)}
	go func() {
		r.done <- a.Run(ctx, s, func(st channels.State) {
			r.mu.Lock()
			r.states = append(r.states, st)
			r.mu.Unlock()
		})
	}()
	t.Cleanup(cancel)
	return r
}

// waitState waits for a reported state that ok accepts.
func (r *run) waitState(what string, ok func(channels.State) bool) channels.State {
	r.t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		r.mu.Lock()
		for _, st := range r.states {
			if ok(st) {
				r.mu.Unlock()
				return st
			}
		}
		r.mu.Unlock()
		time.Sleep(5 * time.Millisecond)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.t.Fatalf("no %s state; got %+v", what, r.states)
	return channels.State{}
}

func phase(p channels.Phase) func(channels.State) bool {
	return func(st channels.State) bool { return st.Phase == p }
}

// stop cancels Run and returns its error.
func (r *run) stop() error {
	r.t.Helper()
	r.cancel()
	select {
	case err := <-r.done:
		return err
	case <-time.After(5 * time.Second):
		r.t.Fatal("Run did not stop")
		return nil
	}
}

func TestRunPairsByQRCodeThenGoesLive(t *testing.T) {
	cli := whatsapptest.New(types.JID{}, false)
	cli.QR = make(chan whatsmeow.QRChannelItem, 4)
	r := start(t, newAdapter(t, cli, ""), &sink{})

	cli.QR <- whatsmeow.QRChannelItem{Event: whatsmeow.QRChannelEventCode, Code: "2@first", Timeout: 60 * time.Second}
	r.waitState("pairing with the first code", func(st channels.State) bool { return st.Phase == channels.Pairing && st.PairingCode == "2@first" })
	cli.QR <- whatsmeow.QRChannelItem{Event: whatsmeow.QRChannelEventCode, Code: "2@second", Timeout: 20 * time.Second}
	st := r.waitState("pairing with the second code", func(st channels.State) bool { return st.PairingCode == "2@second" })
	if st.RetryAt.IsZero() {
		t.Error("the pairing state says nothing of when the code expires")
	}
	if cli.Connects() != 1 {
		t.Errorf("Connect called %d times, want once after GetQRChannel", cli.Connects())
	}

	cli.Emit(&events.PairSuccess{ID: ownJID})
	cli.QR <- whatsmeow.QRChannelSuccess
	cli.SetLinked(ownJID)
	cli.Emit(&events.Connected{})
	r.waitState("live", phase(channels.Live))
	if err := r.stop(); err != nil {
		t.Fatalf("Run = %v", err)
	}
}

func TestRunQRCodeUnscannedFailsForARetry(t *testing.T) {
	cli := whatsapptest.New(types.JID{}, false)
	cli.QR = make(chan whatsmeow.QRChannelItem, 2)
	r := start(t, newAdapter(t, cli, ""), &sink{})
	cli.QR <- whatsmeow.QRChannelItem{Event: whatsmeow.QRChannelEventCode, Code: "2@only", Timeout: time.Second}
	cli.QR <- whatsmeow.QRChannelTimeout
	select {
	case err := <-r.done:
		if err == nil || !strings.Contains(err.Error(), "scanned") {
			t.Fatalf("Run = %v, want an error about the unscanned code", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Run kept waiting after the QR codes ran out")
	}
	r.waitState("failing", phase(channels.Failing))
}

func TestRunPairsByPhoneCode(t *testing.T) {
	cli := whatsapptest.New(types.JID{}, false)
	cli.PairCode = "ABCD-EFGH"
	cli.QR = make(chan whatsmeow.QRChannelItem, 4)
	r := start(t, newAdapter(t, cli, `{"pair_phone":"+7 913 000-00-01"}`), &sink{})
	if err := cli.WaitConnect(context.Background()); err != nil {
		t.Fatal(err)
	}
	if len(cli.Paired()) != 0 {
		t.Fatal("PairPhone before the login connection was up (no QR event yet)")
	}
	// The first QR code says the connection is up; the next ones are
	// only the clock, never shown.
	cli.QR <- whatsmeow.QRChannelItem{Event: whatsmeow.QRChannelEventCode, Code: "2@first", Timeout: 60 * time.Second}
	cli.QR <- whatsmeow.QRChannelItem{Event: whatsmeow.QRChannelEventCode, Code: "2@second", Timeout: 20 * time.Second}
	r.waitState("pairing with the phone code", func(st channels.State) bool { return st.Phase == channels.Pairing && st.PairingCode == "ABCD-EFGH" })
	if p := cli.Paired(); len(p) != 1 || p[0] != "79130000001" {
		t.Errorf("PairPhone called for %v", p)
	}
	cli.Emit(&events.PairSuccess{ID: ownJID})
	cli.QR <- whatsmeow.QRChannelSuccess
	cli.SetLinked(ownJID)
	cli.Emit(&events.Connected{})
	r.waitState("live", phase(channels.Live))
	if err := r.stop(); err != nil {
		t.Fatalf("Run = %v", err)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, st := range r.states {
		if strings.HasPrefix(st.PairingCode, "2@") {
			t.Errorf("a QR code was shown while pairing by phone: %+v", st)
		}
	}
}

// live starts a linked account and waits until it is live.
func live(t *testing.T, settings string, s channels.Sink) (*whatsapptest.Client, *run) {
	t.Helper()
	cli := whatsapptest.New(ownJID, true)
	r := start(t, newAdapter(t, cli, settings), s)
	r.waitState("live", phase(channels.Live))
	if err := cli.WaitConnect(context.Background()); err != nil {
		t.Fatal(err)
	}
	return cli, r
}

func TestRunLoggedOutStopsReconnecting(t *testing.T) {
	cli, r := live(t, "", &sink{})
	cli.Emit(&events.LoggedOut{Reason: events.ConnectFailureLoggedOut})
	st := r.waitState("failing", phase(channels.Failing))
	if !strings.Contains(st.Error, "unlinked on the phone") || !strings.Contains(st.Error, "pair again") {
		t.Errorf("error = %q", st.Error)
	}
	select {
	case err := <-r.done:
		t.Fatalf("Run returned %v: the supervisor would reconnect a device unlinked on the phone", err)
	case <-time.After(100 * time.Millisecond):
	}
	if err := r.stop(); err != nil {
		t.Fatalf("Run = %v", err)
	}
	if n := cli.Connects(); n != 1 {
		t.Errorf("connected %d times", n)
	}
}

func TestRunStreamReplacedStops(t *testing.T) {
	cli, r := live(t, "", &sink{})
	cli.Emit(&events.StreamReplaced{})
	st := r.waitState("failing", phase(channels.Failing))
	if !strings.Contains(st.Error, "another client took the session") {
		t.Errorf("error = %q", st.Error)
	}
	select {
	case err := <-r.done:
		t.Fatalf("Run returned %v: it would connect again and fight the other client", err)
	case <-time.After(100 * time.Millisecond):
	}
	r.stop()
}

func TestRunTemporaryBanPausesSendingUntilItEnds(t *testing.T) {
	cli, r := live(t, "", &sink{})
	cli.Emit(&events.TemporaryBan{Code: events.TempBanSentToTooManyPeople, Expire: 300 * time.Millisecond})
	st := r.waitState("failing", phase(channels.Failing))
	if !strings.Contains(st.Error, "temporarily banned") || !strings.Contains(st.Error, "code 101: you sent too many messages") || st.RetryAt.IsZero() {
		t.Errorf("state = %+v", st)
	}
	_, err := r.a.Send(context.Background(), channels.Outbound{To: channels.Handle{Kind: "whatsapp", Value: "79131234567@s.whatsapp.net"}, Text: "hi", ReplyTo: "79131234567@s.whatsapp.net:X"})
	var ra *channels.RetryAfter
	if !errors.As(err, &ra) || ra.After <= 0 {
		t.Errorf("Send during the ban = %v, want RetryAfter", err)
	}
	select {
	case err := <-r.done:
		if err != nil {
			t.Errorf("Run after the ban = %v, want nil (the supervisor starts it again)", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return when the ban ended")
	}
}

func TestRunRetriesTheSinkUntilItStores(t *testing.T) {
	s := &sink{err: fmt.Errorf("database is locked")}
	cli, r := live(t, "", s)
	done := make(chan struct{})
	go func() {
		cli.Emit(textMessage("79131234567@s.whatsapp.net", "ID1", "Здравствуйте"))
		close(done)
	}()
	r.waitState("failing while the sink fails", func(st channels.State) bool {
		return st.Phase == channels.Failing && strings.Contains(st.Error, "database is locked")
	})
	s.mu.Lock()
	s.err = nil
	s.mu.Unlock()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("the message was never stored")
	}
	if got := s.all(); len(got) != 1 || got[0].Text != "Здравствуйте" {
		t.Errorf("stored %+v", got)
	}
	r.stop()
}

// receiptSink is a sink that records receipts too.
type receiptSink struct {
	sink
	receipts []channels.Receipt
}

func (s *receiptSink) Receipts(_ context.Context, rs []channels.Receipt) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.receipts = append(s.receipts, rs...)
	return nil
}

func TestRunReportsReceiptsOfOurMessages(t *testing.T) {
	s := &receiptSink{}
	cli, r := live(t, "", s)
	lid, pn := jid("123456789012345@lid"), jid(anna)
	src := types.MessageSource{Chat: lid, Sender: lid, SenderAlt: pn}
	cli.Emit(&events.Receipt{MessageSource: src, MessageIDs: []types.MessageID{"3EB0X"}, Type: types.ReceiptTypeDelivered})
	cli.Emit(&events.Receipt{MessageSource: src, MessageIDs: []types.MessageID{"3EB0X"}, Type: types.ReceiptTypeRead})
	cli.Emit(&events.Receipt{MessageSource: types.MessageSource{Chat: pn, Sender: ownJID, IsFromMe: true}, MessageIDs: []types.MessageID{"3EB0Y"}, Type: types.ReceiptTypeReadSelf})
	want := []channels.Receipt{
		{AccountID: 7, ExternalID: "123456789012345@lid:3EB0X", Status: "delivered"},
		{AccountID: 7, ExternalID: anna + ":3EB0X", Status: "delivered"},
		{AccountID: 7, ExternalID: "123456789012345@lid:3EB0X", Status: "read"},
		{AccountID: 7, ExternalID: anna + ":3EB0X", Status: "read"},
	}
	s.mu.Lock()
	got := s.receipts
	s.mu.Unlock()
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("receipts = %+v\nwant %+v", got, want)
	}
	r.stop()
}

func TestUnlinkLogsOutAndEndsRunToPairAgain(t *testing.T) {
	cli, r := live(t, "", &sink{})
	if err := r.a.Unlink(context.Background()); err != nil {
		t.Fatal(err)
	}
	if cli.IsLoggedIn() {
		t.Error("still logged in")
	}
	select {
	case err := <-r.done:
		if err != nil {
			t.Errorf("Run after Unlink = %v, want nil (started again, to pair)", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Run went on after Unlink")
	}
	if err := r.a.Unlink(context.Background()); err == nil {
		t.Error("a second Unlink of a stopped account succeeded")
	}
}

// statesNow are the states reported so far.
func (r *run) statesNow() []channels.State {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]channels.State(nil), r.states...)
}
