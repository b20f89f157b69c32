package server

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/switchboard/switchboard/channels"
	"github.com/switchboard/switchboard/channels/telegram"
	"github.com/switchboard/switchboard/channels/telegram/telegramtest"
	"github.com/switchboard/switchboard/crm"
)

const tgToken = "7000000001:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"

// tgSample reads a recorded update of the Telegram adapter's testdata.
func tgSample(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "channels", "telegram", "testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// tgAccount stores a Telegram account whose Bot API is fake.
func (ta *testApp) tgAccount(name string, fake *telegramtest.Server, extra string) crm.Account {
	ta.t.Helper()
	settings := fmt.Sprintf(`{"server_url":%q,"poll_timeout":"2s"%s}`, fake.URL, extra)
	token := fake.Token
	acc, err := crm.SaveAccount(ta.db, ta.box, 0, crm.AccountInput{Channel: "telegram", Name: &name, Settings: json.RawMessage(settings), Secret: &token})
	if err != nil {
		ta.t.Fatal(err)
	}
	return acc
}

// runTelegram runs the stored Telegram account's adapter with the app as sink.
func (ta *testApp) runTelegram(id int64) *accountRun { return ta.runAccount(id, telegram.New) }

func TestTelegramEndToEnd(t *testing.T) {
	ta := newTestApp(t)
	fake := telegramtest.NewServer(t, tgToken)
	acc := ta.tgAccount("Мебель НСК бот", fake, "")

	// A new user follows t.me/<bot>?start=yandex.
	if err := fake.Push(tgSample(t, "start_yandex.json")); err != nil {
		t.Fatal(err)
	}
	run := ta.runTelegram(acc.ID)
	fake.WaitOffset(t, 815400101, 0)

	ids, err := crm.FindIdentities(ta.db, []crm.Key{{Kind: crm.TelegramID, Value: "384729115"}})
	if err != nil || len(ids) != 1 {
		t.Fatalf("telegram identity: %v %+v", err, ids)
	}
	contactID := ids[0].ContactID
	c, err := crm.GetContact(ta.db, contactID)
	if err != nil || c.Name != "Анна Смирнова" {
		t.Errorf("contact = %+v, %v", c, err)
	}
	conv, err := crm.FindConversation(ta.db, contactID, acc.ID, "")
	if err != nil || conv.DealID == nil {
		t.Fatalf("conversation = %+v, %v", conv, err)
	}
	yandex, err := crm.AdSourceByName(ta.db, "yandex", false)
	if err != nil {
		t.Fatalf("the start code names no ad source: %v", err)
	}
	deal, err := crm.GetDeal(ta.db, *conv.DealID)
	if err != nil || deal.ContactID != contactID || deal.AdSourceID == nil || *deal.AdSourceID != yandex.ID {
		t.Errorf("deal = %+v, %v; want one from ad source yandex (%d)", deal, err, yandex.ID)
	}
	if n := ta.count("entry_points", "account_id = ? AND address = ?", acc.ID, "yandex"); n != 1 {
		t.Errorf("%d entry points 'yandex'", n)
	}

	// Later she shares her phone number: the same contact gains it.
	if err := fake.Push(tgSample(t, "contact.json")); err != nil {
		t.Fatal(err)
	}
	fake.WaitOffset(t, 815400109, 0)
	c, _ = crm.GetContact(ta.db, contactID)
	var handles []string
	for _, i := range c.Identities {
		handles = append(handles, i.Handle())
	}
	if !slices.Contains(handles, "phone:+79131234567") || !slices.Contains(handles, "telegram:384729115") {
		t.Errorf("identities = %v, want the shared phone on the same contact", handles)
	}
	if n := ta.count("contacts", ""); n != 1 {
		t.Errorf("%d contacts, want 1", n)
	}
	if n := ta.count("deals", ""); n != 1 {
		t.Errorf("%d deals, want 1", n)
	}
	run.stop(t)

	stored, _ := crm.GetAccount(ta.db, acc.ID)
	if stored.Cursor != "815400109" {
		t.Errorf("stored cursor = %q, want 815400109", stored.Cursor)
	}
	touches := ta.count("touches", "account_id = ?", acc.ID)
	if touches != 2 {
		t.Fatalf("%d touches, want 2", touches)
	}

	// A restart from the stored cursor re-delivers nothing…
	polls := len(fake.Offsets())
	run = ta.runTelegram(acc.ID)
	waitUntil(t, "a poll from the stored cursor", func() bool {
		offs := fake.Offsets()
		return len(offs) > polls && offs[polls] == 815400109
	})
	if n := ta.count("touches", "account_id = ?", acc.ID); n != touches {
		t.Errorf("the restart stored %d touches again", n-touches)
	}
	// …and picks up what is new: an edit, and a group message it skips.
	if err := fake.Push(tgSample(t, "edited.json"), tgSample(t, "group.json")); err != nil {
		t.Fatal(err)
	}
	fake.WaitOffset(t, 815400112, 0)
	run.stop(t)
	if n := ta.count("touches", "account_id = ?", acc.ID); n != touches+1 {
		t.Errorf("%d touches after the restart, want %d", n, touches+1)
	}
	if n := ta.count("touches", "account_id = ? AND external_id = ?", acc.ID, "384729115:211:edit:1732431845"); n != 1 {
		t.Error("the edit was not stored")
	}
	stored, _ = crm.GetAccount(ta.db, acc.ID)
	if stored.Cursor != "815400112" {
		t.Errorf("stored cursor = %q, want 815400112 (past the skipped group message)", stored.Cursor)
	}
}

// TestTelegramWebhookRoute: in webhook mode Telegram posts to
// /hooks/telegram/{account}; only the secret given to setWebhook opens it.
func TestTelegramWebhookRoute(t *testing.T) {
	ta := newTestApp(t)
	ta.useAdapters(map[channels.Kind]channels.Factory{channels.Telegram: telegram.New})
	fake := telegramtest.NewServer(t, tgToken)
	acc := ta.tgAccount("webhook bot", fake, fmt.Sprintf(`,"mode":"webhook","webhook_url":"%s/hooks/telegram/ID"`, ta.srv.URL))
	run := ta.runTelegram(acc.ID)
	waitUntil(t, "setWebhook", run.live)
	run.stop(t)
	secret := fake.Webhook()["secret_token"]
	if secret == "" {
		t.Fatal("setWebhook got no secret_token")
	}

	post := func(secret string, body []byte) int {
		req, _ := http.NewRequest(http.MethodPost, fmt.Sprintf("%s/hooks/telegram/%d", ta.srv.URL, acc.ID), strings.NewReader(string(body)))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set(telegram.SecretHeader, secret)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if st := post("wrong-secret", tgSample(t, "start_yandex.json")); st != http.StatusUnauthorized {
		t.Errorf("wrong secret: %d, want 401", st)
	}
	if n := ta.count("touches", ""); n != 0 {
		t.Fatalf("a refused update stored %d touches", n)
	}
	for range 2 { // Telegram's retry of the same update is one touch
		if st := post(secret, tgSample(t, "start_yandex.json")); st != http.StatusOK {
			t.Fatalf("right secret: %d, want 200", st)
		}
	}
	if n := ta.count("touches", "account_id = ? AND external_id = ?", acc.ID, "384729115:210"); n != 1 {
		t.Errorf("%d touches stored, want 1", n)
	}
	if _, err := crm.AdSourceByName(ta.db, "yandex", false); err != nil {
		t.Errorf("ad source: %v", err)
	}
}

func waitUntil(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
