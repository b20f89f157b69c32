package telegram

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/switchboard/switchboard/channels"
)

func hook(t *testing.T, a *Adapter, sink channels.Sink, secret string, body []byte) *httptest.ResponseRecorder {
	t.Helper()
	r := httptest.NewRequest(http.MethodPost, "/hooks/telegram/7", bytes.NewReader(body))
	r.Header.Set("Content-Type", "application/json")
	if secret != "" {
		r.Header.Set(SecretHeader, secret)
	}
	w := httptest.NewRecorder()
	a.ServeWebhook(w, r, sink)
	return w
}

func TestWebhook(t *testing.T) {
	fake := fakeWithFiles(t)
	a := newAdapter(t, fake, `{"mode":"webhook","webhook_url":"https://crm.example.ru/hooks/telegram/7"}`, "")
	right := webhookSecret(testToken)

	t.Run("wrong secret is refused and stores nothing", func(t *testing.T) {
		sink := newSink()
		for _, secret := range []string{"", "0123456789abcdef0123456789abcdef", right + "x", webhookSecret("7000000001:another-token")} {
			w := hook(t, a, sink, secret, sample(t, "start_yandex.json"))
			var body struct {
				Error struct{ Code, Message string }
			}
			json.Unmarshal(w.Body.Bytes(), &body)
			if w.Code != http.StatusUnauthorized || body.Error.Code != "unauthorized" {
				t.Errorf("secret %q: %d %s", secret, w.Code, w.Body)
			}
		}
		if sink.callCount() != 0 {
			t.Error("a refused update reached the sink")
		}
	})
	t.Run("right secret stores, once", func(t *testing.T) {
		sink := newSink()
		for i := range 2 { // Telegram repeats an update it got no answer for
			w := hook(t, a, sink, right, sample(t, "photo_caption.json"))
			if w.Code != http.StatusOK {
				t.Fatalf("attempt %d: %d %s", i, w.Code, w.Body)
			}
		}
		in, ok := sink.get(annaID + ":212")
		if !ok || sink.count() != 1 || len(in.Attachments) != 1 || in.Attachments[0].Data == nil {
			t.Errorf("stored %d: %+v", sink.count(), in)
		}
		if in.Cursor != "" {
			t.Errorf("a webhook update carries cursor %q; pushes have no position", in.Cursor)
		}
	})
	t.Run("skipped update is 200 and stores nothing", func(t *testing.T) {
		sink := newSink()
		if w := hook(t, a, sink, right, sample(t, "group.json")); w.Code != http.StatusOK || sink.callCount() != 0 {
			t.Errorf("%d, sink called %d times", w.Code, sink.callCount())
		}
	})
	t.Run("sink failure is 500 so Telegram retries", func(t *testing.T) {
		sink := newSink()
		sink.failNext = 1
		if w := hook(t, a, sink, right, sample(t, "text.json")); w.Code != http.StatusInternalServerError || strings.Contains(w.Body.String(), "database") {
			t.Errorf("%d %s", w.Code, w.Body)
		}
		if w := hook(t, a, sink, right, sample(t, "text.json")); w.Code != http.StatusOK || sink.count() != 1 {
			t.Errorf("retry: %d, stored %d", w.Code, sink.count())
		}
	})
	t.Run("oversized or malformed body", func(t *testing.T) {
		sink := newSink()
		big := []byte(`{"update_id":1,"message":{"text":"` + strings.Repeat("x", MaxWebhookBody) + `"}}`)
		if w := hook(t, a, sink, right, big); w.Code != http.StatusRequestEntityTooLarge {
			t.Errorf("big: %d", w.Code)
		}
		if w := hook(t, a, sink, right, []byte("not json")); w.Code != http.StatusBadRequest {
			t.Errorf("garbage: %d", w.Code)
		}
		if sink.callCount() != 0 {
			t.Error("the sink was called")
		}
	})
}

func TestNewRefusesBadSettings(t *testing.T) {
	for _, tc := range []struct {
		name, settings, secret, cursor, want string
	}{
		{"no token", `{}`, "", "", "no bot token"},
		{"unknown mode", `{"mode":"push"}`, testToken, "", "mode"},
		{"webhook without url", `{"mode":"webhook"}`, testToken, "", "webhook_url"},
		{"webhook url not http", `{"mode":"webhook","webhook_url":"crm.example.ru/hooks"}`, testToken, "", "webhook_url"},
		{"poll timeout", `{"poll_timeout":"90s"}`, testToken, "", "poll_timeout"},
		{"poll timeout not a duration", `{"poll_timeout":"30"}`, testToken, "", "poll_timeout"},
		{"negative limit", `{"download_limit":-1}`, testToken, "", "download_limit"},
		{"typo in a field", `{"webhookurl":"https://x"}`, testToken, "", "webhookurl"},
		{"cursor", `{}`, testToken, "uid:12", "cursor"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := New(channels.Account{ID: 7, Channel: channels.Telegram, Settings: json.RawMessage(tc.settings), Secret: tc.secret, Cursor: tc.cursor}, nil)
			if err == nil || !strings.HasPrefix(err.Error(), "telegram: ") || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("New = %v, want a telegram: error about %s", err, tc.want)
			}
		})
	}
	a, err := NewAdapter(channels.Account{ID: 7, Settings: json.RawMessage(`{}`), Secret: testToken, Cursor: "815400103"}, nil)
	if err != nil || a.Mode() != Polling || a.Offset() != 815400103 || a.pollTimeout != DefaultPollTimeout || a.limit != DefaultDownloadLimit || a.serverURL != DefaultServerURL {
		t.Errorf("defaults: %v %+v", err, a)
	}
}
