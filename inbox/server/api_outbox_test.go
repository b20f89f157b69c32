package server

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/netip"
	"strings"
	"sync"
	"testing"

	"github.com/switchboard/switchboard/channels"
	"github.com/switchboard/switchboard/channels/telegram"
	"github.com/switchboard/switchboard/crm"
)

func TestAWebhookForADisabledAccountIsRefusedSoTheSenderRetries(t *testing.T) {
	ta := newTestApp(t)
	ta.useAdapters(map[channels.Kind]channels.Factory{channels.Telegram: telegram.New})
	name, token, off := "bot", "123:TOKEN", false
	acc, err := crm.SaveAccount(ta.db, ta.box, 0, crm.AccountInput{Channel: "telegram", Name: &name, Secret: &token, Enabled: &off})
	if err != nil {
		t.Fatal(err)
	}
	st, body := ta.anon().raw("POST", fmt.Sprintf("/hooks/telegram/%d", acc.ID), `{"update_id":1}`)
	if st != 404 || !strings.Contains(string(body), `"code":"not_found"`) {
		t.Errorf("webhook for a disabled account: %d %s, want 404 so Telegram keeps the update", st, body)
	}
	if n := ta.count("touches", ""); n != 0 {
		t.Errorf("touches = %d", n)
	}
}

// A refused webhook push is logged with the client's address: behind a
// trusted proxy the one the proxy saw, not the proxy's.
func TestAWebhookRefusalLogsTheClientBehindATrustedProxy(t *testing.T) {
	ta := newTestApp(t)
	var logged syncBuffer
	ta.useAdapters(map[channels.Kind]channels.Factory{channels.Telegram: func(acc channels.Account, _ *slog.Logger) (channels.Adapter, error) {
		return telegram.New(acc, slog.New(slog.NewTextHandler(&logged, nil)))
	}})
	ta.opts.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("172.18.0.0/16")}
	name, token, on := "bot", "123:TOKEN", true
	mode := json.RawMessage(`{"mode":"webhook","webhook_url":"https://crm.example.ru/hooks/telegram/ID"}`)
	acc, err := crm.SaveAccount(ta.db, ta.box, 0, crm.AccountInput{Channel: "telegram", Name: &name, Secret: &token, Enabled: &on, Settings: mode})
	if err != nil {
		t.Fatal(err)
	}
	rec := serveAs(ta.Handler(nil), "172.18.0.2:41000", "POST", fmt.Sprintf("/hooks/telegram/%d", acc.ID), `{"update_id":1}`,
		telegram.SecretHeader, "forged", "X-Forwarded-For", "203.0.113.66")
	if rec.Code != 401 {
		t.Fatalf("forged secret: %d %s, want 401", rec.Code, rec.Body)
	}
	if got := logged.String(); !strings.Contains(got, "remote=203.0.113.66") || strings.Contains(got, "172.18.0.2") {
		t.Errorf("log %q: want the client 203.0.113.66, not the proxy", got)
	}
}

// syncBuffer is a bytes.Buffer safe for a logger and a test to share.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
