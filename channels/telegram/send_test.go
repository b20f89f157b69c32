package telegram

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/switchboard/switchboard/channels"
	"github.com/switchboard/switchboard/channels/telegram/telegramtest"
)

func toAnna(text string) channels.Outbound {
	return channels.Outbound{AccountID: 7, TouchID: 41, To: channels.Handle{Kind: "telegram", Value: annaID}, Text: text}
}

func TestSendText(t *testing.T) {
	fake := telegramtest.NewServer(t, testToken)
	a := newAdapter(t, fake, "", "")
	out := toAnna("Добрый день! Доставка в Бердск — 1500 ₽, завтра с 10 до 14.")
	out.ReplyTo = annaID + ":211"
	id, err := a.Send(context.Background(), out)
	if err != nil {
		t.Fatal(err)
	}
	reqs := fake.Requests()
	if len(reqs) != 1 || reqs[0].Method != "sendMessage" || id != annaID+":1001" {
		t.Fatalf("id %q, requests %+v", id, reqs)
	}
	f := reqs[0].Fields
	if f["chat_id"] != annaID || f["text"] != out.Text {
		t.Errorf("fields = %v", f)
	}
	var rp struct {
		MessageID                int  `json:"message_id"`
		AllowSendingWithoutReply bool `json:"allow_sending_without_reply"`
	}
	if err := json.Unmarshal([]byte(f["reply_parameters"]), &rp); err != nil || rp.MessageID != 211 || !rp.AllowSendingWithoutReply {
		t.Errorf("reply_parameters = %q", f["reply_parameters"])
	}
}

// TestSendReplyTargetGone: a refusal over the reply target sends the
// message without it.
func TestSendReplyTargetGone(t *testing.T) {
	fake := telegramtest.NewServer(t, testToken)
	a := newAdapter(t, fake, "", "")
	fake.Fail("sendMessage", 400, "Bad Request: message to be replied not found", 0)
	out := toAnna("Ответ")
	out.ReplyTo = annaID + ":211:edit:1732431845"
	if _, err := a.Send(context.Background(), out); err != nil {
		t.Fatalf("Send = %v", err)
	}
	reqs := fake.Requests()
	if len(reqs) != 1 || reqs[0].Fields["reply_parameters"] != "" {
		t.Errorf("requests = %+v, want one without reply_parameters", reqs)
	}
}

func TestSendErrors(t *testing.T) {
	tests := []struct {
		name        string
		code        int
		description string
		retryAfter  int
		check       func(t *testing.T, err error)
	}{
		{"flood control waits retry_after", 429, "Too Many Requests: retry after 3", 3, func(t *testing.T, err error) {
			var ra *channels.RetryAfter
			if !errors.As(err, &ra) || ra.After != 3*time.Second {
				t.Errorf("err = %v, want *channels.RetryAfter of 3s", err)
			}
			if errors.Is(err, channels.ErrPermanent) {
				t.Error("429 must not be permanent")
			}
		}},
		{"server error is retried", 500, "Internal Server Error", 0, func(t *testing.T, err error) {
			var ra *channels.RetryAfter
			if err == nil || errors.Is(err, channels.ErrPermanent) || errors.As(err, &ra) {
				t.Errorf("err = %v, want a plain error", err)
			}
		}},
		{"blocked bot is permanent", 403, "Forbidden: bot was blocked by the user", 0, func(t *testing.T, err error) {
			if !errors.Is(err, channels.ErrPermanent) || !strings.Contains(err.Error(), "bot was blocked by the user") {
				t.Errorf("err = %v, want ErrPermanent with Telegram's description", err)
			}
		}},
		{"unknown chat is permanent", 400, "Bad Request: chat not found", 0, func(t *testing.T, err error) {
			if !errors.Is(err, channels.ErrPermanent) {
				t.Errorf("err = %v, want ErrPermanent", err)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake := telegramtest.NewServer(t, testToken)
			a := newAdapter(t, fake, "", "")
			fake.Fail("sendMessage", tt.code, tt.description, tt.retryAfter)
			_, err := a.Send(context.Background(), toAnna("Здравствуйте"))
			if err == nil {
				t.Fatal("Send succeeded")
			}
			if !strings.Contains(err.Error(), "telegram: ") || strings.Contains(err.Error(), testToken) {
				t.Errorf("err = %q: want the telegram: prefix and no token", err)
			}
			tt.check(t, err)
		})
	}
	t.Run("network error is retried", func(t *testing.T) {
		fake := telegramtest.NewServer(t, testToken)
		a := newAdapter(t, fake, `{"server_url":"http://127.0.0.1:1"}`, "")
		_, err := a.Send(context.Background(), toAnna("Здравствуйте"))
		if err == nil || errors.Is(err, channels.ErrPermanent) || strings.Contains(err.Error(), testToken) {
			t.Errorf("err = %v, want a plain error without the token", err)
		}
	})
	t.Run("bad recipient is permanent", func(t *testing.T) {
		fake := telegramtest.NewServer(t, testToken)
		a := newAdapter(t, fake, "", "")
		for _, to := range []channels.Handle{{Kind: "telegram", Value: "anna_smirnova"}, {Kind: "phone", Value: "+79131234567"}} {
			out := toAnna("x")
			out.To = to
			if _, err := a.Send(context.Background(), out); !errors.Is(err, channels.ErrPermanent) {
				t.Errorf("to %v: err = %v", to, err)
			}
		}
		if _, err := a.Send(context.Background(), toAnna("  ")); !errors.Is(err, channels.ErrPermanent) {
			t.Errorf("empty message: err = %v", err)
		}
	})
}

// TestSendDocument: a file goes as multipart with its bytes, the short
// text as its caption.
func TestSendDocument(t *testing.T) {
	fake := telegramtest.NewServer(t, testToken)
	a := newAdapter(t, fake, "", "")
	pdf := []byte("%PDF-1.7\nкоммерческое предложение\n%%EOF")
	out := toAnna("Коммерческое предложение во вложении")
	out.ReplyTo = annaID + ":213"
	out.Attachments = []channels.Attachment{{Name: "КП_шкаф.pdf", ContentType: "application/pdf", Data: pdf}}
	id, err := a.Send(context.Background(), out)
	if err != nil {
		t.Fatal(err)
	}
	reqs := fake.Requests()
	if len(reqs) != 1 || reqs[0].Method != "sendDocument" || id != annaID+":1001" {
		t.Fatalf("id %q, requests %+v", id, reqs)
	}
	r := reqs[0]
	if up := r.Files["document"]; up.Name != "КП_шкаф.pdf" || !bytes.Equal(up.Data, pdf) {
		t.Errorf("uploaded %q (%d bytes)", up.Name, len(up.Data))
	}
	if r.Fields["caption"] != out.Text || r.Fields["chat_id"] != annaID || !strings.Contains(r.Fields["reply_parameters"], `"message_id":213`) {
		t.Errorf("fields = %v", r.Fields)
	}
}

// TestSendPhotosAndLongText: images go as photos; a text too long for a
// caption is sent first, split at Telegram's limit; only the first message
// replies; the id is the last message's.
func TestSendPhotosAndLongText(t *testing.T) {
	fake := telegramtest.NewServer(t, testToken)
	a := newAdapter(t, fake, "", "")
	long := strings.Repeat("Шкаф-купе 180×60, ЛДСП, зеркало. ", 200) // 6600 characters
	out := toAnna(long)
	out.ReplyTo = annaID + ":212"
	out.Attachments = []channels.Attachment{
		{Name: "эскиз.jpg", ContentType: "image/jpeg", Data: []byte("\xff\xd8\xff\xe0 эскиз")},
		{Name: "смета.xlsx", ContentType: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", Data: []byte("PK\x03\x04")},
	}
	id, err := a.Send(context.Background(), out)
	if err != nil {
		t.Fatal(err)
	}
	reqs := fake.Requests()
	var methods []string
	for _, r := range reqs {
		methods = append(methods, r.Method)
	}
	if strings.Join(methods, ",") != "sendMessage,sendMessage,sendPhoto,sendDocument" {
		t.Fatalf("methods = %v", methods)
	}
	if id != annaID+":1004" {
		t.Errorf("id = %q, want the last message", id)
	}
	if reqs[0].Fields["reply_parameters"] == "" || reqs[1].Fields["reply_parameters"] != "" {
		t.Error("only the first message replies")
	}
	joined := reqs[0].Fields["text"] + " " + reqs[1].Fields["text"]
	if utf16Len(reqs[0].Fields["text"]) > maxMessage || strings.Join(strings.Fields(joined), " ") != strings.Join(strings.Fields(long), " ") {
		t.Error("the long text was not split cleanly")
	}
	if reqs[2].Files["photo"].Name != "эскиз.jpg" || reqs[2].Fields["caption"] != "" {
		t.Errorf("photo = %+v", reqs[2])
	}
}

// TestSendPhotoRefusedGoesAsDocument: an image Telegram will not take as a
// photo (dimensions) still arrives, as a document.
func TestSendPhotoRefusedGoesAsDocument(t *testing.T) {
	fake := telegramtest.NewServer(t, testToken)
	a := newAdapter(t, fake, "", "")
	fake.Fail("sendPhoto", 400, "Bad Request: PHOTO_INVALID_DIMENSIONS", 0)
	out := toAnna("Панорама")
	out.Attachments = []channels.Attachment{{Name: "панорама.png", ContentType: "image/png", Data: []byte("\x89PNG")}}
	if _, err := a.Send(context.Background(), out); err != nil {
		t.Fatal(err)
	}
	reqs := fake.Requests()
	if len(reqs) != 1 || reqs[0].Method != "sendDocument" || reqs[0].Fields["caption"] != "Панорама" {
		t.Errorf("requests = %+v", reqs)
	}
}

func TestSplitText(t *testing.T) {
	s := strings.Repeat("а", 5000) + "\n" + strings.Repeat("😀", 3000)
	parts := splitText(s, maxMessage)
	if len(parts) < 3 {
		t.Fatalf("%d parts", len(parts))
	}
	for _, p := range parts {
		if utf16Len(p) > maxMessage {
			t.Errorf("part of %d UTF-16 units", utf16Len(p))
		}
	}
	if strings.ReplaceAll(strings.Join(parts, ""), "\n", "") != strings.ReplaceAll(s, "\n", "") {
		t.Error("text lost or reordered")
	}
	if got := splitText("  short  ", maxMessage); len(got) != 1 || got[0] != "short" {
		t.Errorf("short = %q", got)
	}
}
