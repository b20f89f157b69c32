package whatsapp

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.mau.fi/whatsmeow"
	"go.mau.fi/whatsmeow/types"
	"go.mau.fi/whatsmeow/types/events"

	"github.com/switchboard/switchboard/channels"
)

// User-facing reasons of the Failing phase.
const (
	msgLoggedOut      = "unlinked on the phone (WhatsApp → Linked devices), pair again: disable and enable the account to show a new QR code"
	msgStreamReplaced = "another client took the session (the same device connected elsewhere); stopped so that the two do not drop each other: restart the account here only"
	msgQRTimeout      = "no one scanned the QR code in time"
	msgOutdated       = "WhatsApp refused this client as outdated: update Switchboard"
)

// stop is why a session ended: reported Failing; retry says whether Run
// returns an error (the supervisor retries) or waits for the owner (nil
// after ctx ends), and until, when set, how long to wait before
// returning nil (a temporary ban's end).
type stop struct {
	msg   string
	retry bool
	until time.Time
}

// Run links the device if needed, connects and consumes the account until
// ctx ends (channels.Adapter).
//
// A device not linked yet reports Pairing with each QR code in turn
// (GetQRChannel before Connect); with pair_phone set it reports Pairing
// with the code to type on that phone instead (PairPhone after Connect,
// once the first QR code showed the connection is up). Connected reports Live. Messages are converted and handed to
// the sink one by one inside whatsmeow's event handler, so WhatsApp is
// acknowledged only after the touch is stored; a sink failure is retried
// until it passes.
//
// LoggedOut (unlinked on the phone) and StreamReplaced (another client on
// the same session) report Failing and stop reconnecting: Run waits for
// ctx. A TemporaryBan reports Failing with its code and expiry, pauses
// sending, and returns when the ban ends (the supervisor starts again).
// An expired QR code returns an error for the supervisor to retry.
func (a *Adapter) Run(ctx context.Context, sink channels.Sink, report func(channels.State)) error {
	if report == nil {
		report = func(channels.State) {}
	}
	cli, err := a.open(ctx, a.account, a.log)
	if err != nil {
		report(channels.State{Phase: channels.Failing, Error: err.Error()})
		return err
	}
	a.loadPhoneSeen(ctx)
	watch, stopWatch := context.WithCancel(ctx)
	defer stopWatch()
	go a.watchPhone(watch, report)
	stops := make(chan stop, 1)
	end := func(s stop) {
		select {
		case stops <- s:
		default:
		}
	}
	cli.AddEventHandler(func(evt any) { a.handle(ctx, cli, sink, report, evt, end) })
	defer func() {
		a.mu.Lock()
		a.client, a.live = nil, false
		a.mu.Unlock()
		cli.Disconnect()
	}()
	a.mu.Lock()
	a.client = cli
	a.mu.Unlock()

	if !cli.IsLoggedIn() {
		if err := a.pair(ctx, cli, report); err != nil {
			if ctx.Err() != nil {
				return nil
			}
			report(channels.State{Phase: channels.Failing, Error: err.Error()})
			return err
		}
	} else if err := cli.Connect(); err != nil {
		err = fmt.Errorf("whatsapp: connect: %w", err)
		report(channels.State{Phase: channels.Failing, Error: err.Error()})
		return err
	}
	select {
	case <-ctx.Done():
		return nil
	case <-a.unlinked:
		return nil // the supervisor starts it again: a new device to link
	case s := <-stops:
		return a.stopped(ctx, cli, s, report)
	}
}

// stopped ends a session that WhatsApp ended.
func (a *Adapter) stopped(ctx context.Context, cli Client, s stop, report func(channels.State)) error {
	a.mu.Lock()
	a.live = false
	a.mu.Unlock()
	cli.Disconnect()
	report(channels.State{Phase: channels.Failing, Error: s.msg, RetryAt: s.until})
	a.log.Warn("whatsapp: session ended", "reason", s.msg)
	if s.retry {
		return errors.New("whatsapp: " + s.msg)
	}
	if !s.until.IsZero() {
		t := time.NewTimer(time.Until(s.until))
		defer t.Stop()
		select {
		case <-ctx.Done():
		case <-t.C:
		}
		return nil
	}
	<-ctx.Done()
	return nil
}

// pair links a new device: by QR codes, or by a code for pair_phone. It
// returns once the phone accepted the link (whatsmeow then reconnects and
// Connected reports Live), or with an error when the codes ran out.
//
// Both ways start alike: GetQRChannel before Connect. For a phone code,
// PairPhone is called once the first QR code arrived (the login
// connection is then fully up), and the QR codes that follow are only the
// clock: when they run out, so has the phone code.
func (a *Adapter) pair(ctx context.Context, cli Client, report func(channels.State)) error {
	qr, err := cli.GetQRChannel(ctx)
	if err != nil {
		return fmt.Errorf("whatsapp: pairing: %w", err)
	}
	if err := cli.Connect(); err != nil {
		return fmt.Errorf("whatsapp: connect: %w", err)
	}
	byPhone, phoneCode := a.settings.PairPhone != "", ""
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case item, ok := <-qr:
			if !ok {
				return errors.New("whatsapp: " + msgQRTimeout)
			}
			switch item.Event {
			case whatsmeow.QRChannelEventCode:
				if !byPhone {
					report(channels.State{Phase: channels.Pairing, PairingCode: item.Code, RetryAt: time.Now().Add(item.Timeout).UTC()})
					continue
				}
				if phoneCode != "" {
					continue
				}
				if phoneCode, err = cli.PairPhone(ctx, digits(a.settings.PairPhone)); err != nil {
					return fmt.Errorf("whatsapp: pair by phone number: %w", err)
				}
				report(channels.State{Phase: channels.Pairing, PairingCode: phoneCode})
				a.log.Info("whatsapp: waiting for the pairing code to be typed on the phone")
			case whatsmeow.QRChannelSuccess.Event:
				// Connected may have come first (it arrives on the event
				// handler's goroutine): never report back from Live.
				a.mu.Lock()
				live := a.live
				a.mu.Unlock()
				if !live {
					report(channels.State{Phase: channels.Connecting})
				}
				return nil
			case whatsmeow.QRChannelTimeout.Event:
				if byPhone {
					return errors.New("whatsapp: no one typed the pairing code on the phone in time")
				}
				return errors.New("whatsapp: " + msgQRTimeout)
			default:
				if item.Error != nil {
					return fmt.Errorf("whatsapp: pairing failed: %w", item.Error)
				}
				return fmt.Errorf("whatsapp: pairing failed: %s", item.Event)
			}
		}
	}
}

// handle is the event handler: whatsmeow calls it in order, and waits.
func (a *Adapter) handle(ctx context.Context, cli Client, sink channels.Sink, report func(channels.State), evt any, end func(stop)) {
	switch e := evt.(type) {
	case *events.Message:
		if e.Info.IsFromMe && fromPhone(e.Info.Sender) {
			a.phoneSeen(e.Info.Timestamp)
			a.checkPhone(report)
		}
		a.receive(ctx, cli, sink, report, e)
	case *events.Receipt:
		if e.IsFromMe && fromPhone(e.Sender) {
			a.phoneSeen(e.Timestamp)
			a.checkPhone(report)
		}
		a.receipts(ctx, sink, e)
	case *events.HistorySync:
		a.history(ctx, cli, sink, report, e)
		a.checkPhone(report)
	case *events.Connected:
		a.mu.Lock()
		a.live = true
		a.mu.Unlock()
		st := a.liveState()
		a.mu.Lock()
		a.warned = st.Warning != ""
		a.mu.Unlock()
		report(st)
	case *events.PairSuccess:
		a.log.Info("whatsapp: linked", "jid", e.ID.String())
		a.phoneSeen(time.Now())
		report(channels.State{Phase: channels.Connecting})
	case *events.Disconnected:
		a.mu.Lock()
		a.live = false
		a.mu.Unlock()
		report(channels.State{Phase: channels.Connecting}) // whatsmeow reconnects
	case *events.LoggedOut:
		end(stop{msg: msgLoggedOut})
	case *events.StreamReplaced:
		end(stop{msg: msgStreamReplaced})
	case *events.TemporaryBan:
		until := time.Now().Add(e.Expire).UTC()
		if e.Expire <= 0 {
			until = time.Now().Add(time.Hour).UTC()
		}
		a.mu.Lock()
		a.banUntil = until
		a.mu.Unlock()
		end(stop{msg: fmt.Sprintf("temporarily banned by WhatsApp (code %s) until %s; sending is paused", e.Code.String(), until.Format(time.RFC3339)), until: until})
	case *events.ClientOutdated:
		end(stop{msg: msgOutdated, retry: true})
	case *events.ConnectFailure:
		end(stop{msg: fmt.Sprintf("WhatsApp refused the connection: %s %s", e.Reason.String(), e.Message), retry: true})
	case *events.KeepAliveTimeout:
		if e.ErrorCount >= 3 {
			report(channels.State{Phase: channels.Connecting, Error: "the connection to WhatsApp stopped answering; reconnecting"})
		}
	case *events.KeepAliveRestored:
		report(a.liveState())
	}
}

// receive converts a message and stores it, retrying the sink until it
// takes it (or ctx ends).
func (a *Adapter) receive(ctx context.Context, cli Client, sink channels.Sink, report func(channels.State), e *events.Message) {
	in, ok := a.Inbound(ctx, cli, e)
	if !ok {
		return
	}
	if !e.Info.IsFromMe {
		a.markWrote(e.Info.Chat)
	}
	a.store(ctx, sink, report, []channels.Inbound{in})
}

// markWrote notes a chat whose client wrote to the account: replies to it
// are not first messages.
func (a *Adapter) markWrote(chat types.JID) {
	a.mu.Lock()
	a.chats[chat.ToNonAD().String()] = true
	a.mu.Unlock()
}

// store hands ins to the sink, retrying until it takes them (or ctx
// ends): WhatsApp is acknowledged only after they are stored. A message
// the sink refuses as invalid is logged and dropped, never the rest.
func (a *Adapter) store(ctx context.Context, sink channels.Sink, report func(channels.State), ins []channels.Inbound) {
	wait, failed := time.Second, false
	for {
		res, err := sink.Ingest(ctx, ins)
		if err == nil {
			var again []channels.Inbound
			for i, r := range res {
				switch {
				case r.Err == nil:
				case errors.Is(r.Err, channels.ErrInvalid):
					a.log.Warn("whatsapp: message refused", "id", ins[i].ExternalID, "err", r.Err)
				default:
					again, err = append(again, ins[i]), r.Err
				}
			}
			ins = again
		}
		if len(ins) == 0 {
			if failed && a.isLive() {
				report(a.liveState())
			}
			return
		}
		failed = true
		a.log.Warn("whatsapp: messages not stored; retrying", "n", len(ins), "first", ins[0].ExternalID, "err", err)
		report(channels.State{Phase: channels.Failing, Error: "storing a message: " + err.Error(), RetryAt: time.Now().Add(wait).UTC()})
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
		wait = min(wait*2, time.Minute)
	}
}

func (a *Adapter) isLive() bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.live
}

// receipts records a delivery or read receipt of messages we sent, when
// the sink records receipts. They are best effort: one that cannot be
// stored is logged, and the touch keeps its earlier status.
func (a *Adapter) receipts(ctx context.Context, sink channels.Sink, e *events.Receipt) {
	rs, ok := sink.(channels.ReceiptSink)
	if !ok || e.IsFromMe || e.IsGroup {
		return
	}
	var status string
	switch e.Type {
	case types.ReceiptTypeDelivered:
		status = channels.ReceiptDelivered
	case types.ReceiptTypeRead, types.ReceiptTypePlayed:
		status = channels.ReceiptRead
	default:
		return // our own devices' reads, retries, server acks
	}
	// The chat as we addressed it may be the other form of the client's
	// address (the LID or the phone number): a receipt names both.
	chats := []types.JID{e.Chat.ToNonAD()}
	if alt := e.SenderAlt.ToNonAD(); !alt.IsEmpty() && alt != chats[0] {
		chats = append(chats, alt)
	}
	var batch []channels.Receipt
	for _, id := range e.MessageIDs {
		for _, c := range chats {
			batch = append(batch, channels.Receipt{AccountID: a.account, ExternalID: c.String() + ":" + id, Status: status, At: e.Timestamp})
		}
	}
	if err := rs.Receipts(ctx, batch); err != nil {
		a.log.Warn("whatsapp: receipt not stored", "status", status, "ids", e.MessageIDs, "err", err)
	}
}
