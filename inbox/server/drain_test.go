package server

import (
	"context"
	"testing"
	"time"

	"github.com/switchboard/switchboard/channels"
	"github.com/switchboard/switchboard/crm"
	"github.com/switchboard/switchboard/inbox"
)

// A graceful stop (SIGTERM: StopSending before the accounts stop) lets a
// reply being sent finish and records it sent, and claims no more: cut
// off, it could reach the client and be sent again by another replica
// (issue 17, item 2).
func TestStoppingFinishesTheSendUnderWay(t *testing.T) {
	ta := newTestApp(t)
	wa := ta.useGated()
	m := ta.user("maria@example.ru", crm.Manager)
	acc := ta.account("whatsapp", "WhatsApp sales")
	_, conv := ta.touchConv(in(acc.ID, "wa-1", "whatsapp", "79131234567@s.whatsapp.net", "Иван", "Доставка в Томск?"))
	ta.assignTo(conv, m, &m)
	ctx, stopApp := context.WithCancel(context.Background())
	if err := ta.s.Start(ctx); err != nil {
		t.Fatal(err)
	}
	released := false
	defer func() {
		if !released { // never leave a send hanging: the stop waits for it
			select {
			case wa.next <- nil:
			case <-time.After(time.Second):
			}
		}
		stopApp()
		ta.s.Wait()
	}()
	eventually(t, "the account live", func() bool { st, _ := ta.Supervisor().State(acc.ID); return st.Phase == channels.Live })

	first, err := ta.Reply(context.Background(), m, conv, inbox.ReplyRequest{Text: "Да, 1 500 ₽"})
	if err != nil {
		t.Fatal(err)
	}
	// The send is under way (the gate holds it) when the stop begins.
	eventually(t, "the send claimed", func() bool {
		return ta.count("outbox", "touch_id = ? AND claims > 0", first.ID) == 1
	})
	second, err := ta.Reply(context.Background(), m, conv, inbox.ReplyRequest{Text: "И ещё: доставка завтра"})
	if err != nil {
		t.Fatal(err)
	}
	stopped := make(chan struct{})
	go func() {
		sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		ta.s.StopSending(sctx)
		close(stopped)
	}()
	select {
	case <-stopped:
		t.Fatal("StopSending returned while a send was under way")
	case <-time.After(300 * time.Millisecond):
	}
	wa.next <- nil // the channel accepts it
	released = true
	<-stopped
	if got, _ := crm.GetTouch(ta.db, first.ID); got.DeliveryStatus != crm.Sent {
		t.Errorf("the reply under way ended %q, want sent", got.DeliveryStatus)
	}
	if got, _ := crm.GetTouch(ta.db, second.ID); got.DeliveryStatus != crm.Queued {
		t.Errorf("the reply after the stop began is %q, want still queued for whoever runs the account next", got.DeliveryStatus)
	}
}
