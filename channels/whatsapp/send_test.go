package whatsapp_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/switchboard/switchboard/channels"
)

func outbound(text, replyTo string, atts ...channels.Attachment) channels.Outbound {
	return channels.Outbound{To: channels.Handle{Kind: "whatsapp", Value: anna}, Text: text, ReplyTo: replyTo, Attachments: atts}
}

func TestSendTextQuotingTheAnsweredMessage(t *testing.T) {
	cli, r := live(t, `{"send_interval":"200ms"}`, &sink{})
	id, err := r.a.Send(context.Background(), outbound("Диван стоит 45 000 ₽", anna+":3A1"))
	if err != nil {
		t.Fatal(err)
	}
	sent := cli.Sent()
	if len(sent) != 1 || sent[0].To.String() != anna || id != anna+":"+sent[0].ID {
		t.Fatalf("id %q, sent %+v", id, sent)
	}
	m := sent[0].Msg.GetExtendedTextMessage()
	if m.GetText() != "Диван стоит 45 000 ₽" || m.GetContextInfo().GetStanzaID() != "3A1" || m.GetContextInfo().GetParticipant() != anna {
		t.Errorf("message = %v", sent[0].Msg)
	}
	r.stop()
}

func TestSendFilesImagesAsImagesOthersAsDocumentsAtOnePerInterval(t *testing.T) {
	cli, r := live(t, `{"send_interval":"200ms"}`, &sink{})
	begin := time.Now()
	_, err := r.a.Send(context.Background(), outbound("Смета и фото", anna+":3A1",
		channels.Attachment{Name: "photo.jpg", ContentType: "image/jpeg", Data: []byte("JPEG")},
		channels.Attachment{Name: "смета.pdf", ContentType: "application/pdf", Data: []byte("%PDF")}))
	if err != nil {
		t.Fatal(err)
	}
	sent := cli.Sent()
	if len(sent) != 3 {
		t.Fatalf("sent %d messages", len(sent))
	}
	if sent[0].Msg.GetExtendedTextMessage().GetText() != "Смета и фото" || sent[1].Msg.GetImageMessage().GetMimetype() != "image/jpeg" ||
		sent[2].Msg.GetDocumentMessage().GetFileName() != "смета.pdf" || sent[1].Msg.GetImageMessage().GetContextInfo() != nil {
		t.Errorf("sent %+v", sent)
	}
	if d := time.Since(begin); d < 400*time.Millisecond {
		t.Errorf("three messages in %s: faster than one per 200ms", d)
	}
	r.stop()
}

func TestSendRefusesAFirstMessageUnlessAllowed(t *testing.T) {
	cli, r := live(t, "", &sink{})
	_, err := r.a.Send(context.Background(), outbound("Здравствуйте, у нас акция", ""))
	if !errors.Is(err, channels.ErrPermanent) || !strings.Contains(err.Error(), "never wrote") {
		t.Errorf("Send = %v, want a permanent refusal", err)
	}
	if len(cli.Sent()) != 0 {
		t.Error("sent anyway")
	}
	// A chat that wrote since the start may be answered without a quote.
	cli.Emit(textMessage(anna, "W1", "привет"))
	if _, err := r.a.Send(context.Background(), outbound("Здравствуйте", "")); err != nil {
		t.Errorf("answer to a chat that wrote: %v", err)
	}
	r.stop()

	cli, r = live(t, `{"first_messages": true, "first_per_minute": 2, "send_interval": "200ms"}`, &sink{})
	for i, chat := range []string{"79131111111@s.whatsapp.net", "79132222222@s.whatsapp.net"} {
		out := outbound("Здравствуйте", "")
		out.To.Value = chat
		if _, err := r.a.Send(context.Background(), out); err != nil || len(cli.Sent()) != i+1 {
			t.Errorf("with first_messages, first message %d: %v", i+1, err)
		}
	}
	out := outbound("Здравствуйте", "")
	out.To.Value = "79133333333@s.whatsapp.net"
	_, err = r.a.Send(context.Background(), out)
	var ra *channels.RetryAfter
	if !errors.As(err, &ra) || ra.After <= 0 || ra.After > time.Minute || len(cli.Sent()) != 2 {
		t.Errorf("a third first message in a minute = %v, want a RetryAfter within the minute", err)
	}
	r.stop()
}

func TestSendErrors(t *testing.T) {
	cli, r := live(t, "", &sink{})
	tests := []struct {
		name      string
		out       channels.Outbound
		permanent bool
	}{
		{"a phone handle is not a chat", channels.Outbound{To: channels.Handle{Kind: "phone", Value: "+79131234567"}, Text: "x", ReplyTo: "a"}, true},
		{"a group is refused while groups are off", channels.Outbound{To: channels.Handle{Kind: "whatsapp", Value: "120363025246125888@g.us"}, Text: "x", ReplyTo: "a"}, true},
		{"nothing to send", outbound("  ", anna+":1"), true},
		{"an attachment without data", outbound("", anna+":1", channels.Attachment{Name: "x.pdf"}), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := r.a.Send(context.Background(), tt.out)
			if err == nil || errors.Is(err, channels.ErrPermanent) != tt.permanent {
				t.Errorf("Send = %v, permanent want %v", err, tt.permanent)
			}
		})
	}
	cli.SendErr = errors.New("websocket not connected")
	_, err := r.a.Send(context.Background(), outbound("x", anna+":1"))
	if err == nil || errors.Is(err, channels.ErrPermanent) {
		t.Errorf("a connection failure = %v, want a retry", err)
	}
	r.stop()
	// Never connected here (another replica runs the account): retried,
	// and no connection is opened for it.
	if _, err := r.a.Send(context.Background(), outbound("x", anna+":1")); err == nil || errors.Is(err, channels.ErrPermanent) {
		t.Errorf("Send when not running = %v, want a retry", err)
	}
}

func TestSendPartialKeepsDeliveredParts(t *testing.T) {
	cli, r := live(t, `{"send_interval":"200ms"}`, &sink{})
	out := outbound("текст", anna+":3A1", channels.Attachment{Name: "a.pdf", ContentType: "application/pdf", Data: []byte("A")})
	out.Delivered = 1 // the text went out on an earlier attempt
	if _, err := r.a.Send(context.Background(), out); err != nil {
		t.Fatal(err)
	}
	sent := cli.Sent()
	if len(sent) != 1 || sent[0].Msg.GetDocumentMessage() == nil {
		t.Errorf("sent %+v", sent)
	}
	r.stop()
}
