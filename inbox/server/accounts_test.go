package server

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"image/png"
	"log/slog"
	"net"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"gorm.io/gorm"
	"rsc.io/qr"

	"github.com/switchboard/switchboard/channels"
	"github.com/switchboard/switchboard/channels/email"
	"github.com/switchboard/switchboard/channels/email/emailtest"
	"github.com/switchboard/switchboard/channels/phone"
	"github.com/switchboard/switchboard/channels/phone/amitest"
	"github.com/switchboard/switchboard/crm"
	"github.com/switchboard/switchboard/crm/crmtest"
	"github.com/switchboard/switchboard/inbox"
)

// failing is a channel whose server refuses the login.
type failing struct{ runs *atomic.Int32 }

func (f failing) Run(ctx context.Context, sink channels.Sink, report func(channels.State)) error {
	f.runs.Add(1)
	return errors.New("AUTHENTICATIONFAILED Invalid credentials")
}

func (f failing) Send(context.Context, channels.Outbound) (string, error) {
	return "", errors.New("not connected")
}

func waitState(t *testing.T, a *testApp, id int64, phase channels.Phase) channels.State {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if st, ok := a.Supervisor().State(id); ok && st.Phase == phase {
			return st
		}
		time.Sleep(20 * time.Millisecond)
	}
	st, _ := a.Supervisor().State(id)
	t.Fatalf("account %d: state %+v, want %s", id, st, phase)
	return st
}

func TestAFailingAccountRetriesWithBackoffAndNeverStopsTheOthers(t *testing.T) {
	ta := newTestApp(t)
	runs := &atomic.Int32{}
	ok := &scripted{}
	ta.useAdapters(map[channels.Kind]channels.Factory{
		channels.Email:    func(channels.Account, *slog.Logger) (channels.Adapter, error) { return failing{runs}, nil },
		channels.WhatsApp: func(channels.Account, *slog.Logger) (channels.Adapter, error) { return ok, nil },
	})
	bad := ta.account("email", "mailbox")
	good := ta.account("whatsapp", "wa")
	web := ta.account("web", "site")
	ctx, cancel := context.WithCancel(context.Background())
	defer func() { cancel(); ta.Wait() }()
	if err := ta.Start(ctx); err != nil {
		t.Fatal(err)
	}
	st := waitState(t, ta, bad.ID, channels.Failing)
	if !strings.Contains(st.Error, "Invalid credentials") || st.RetryAt.IsZero() {
		t.Errorf("failing state = %+v: it must carry the server's error and when it retries", st)
	}
	waitState(t, ta, good.ID, channels.Live)
	waitState(t, ta, web.ID, channels.Hook) // hooks only, nothing to run
	time.Sleep(1500 * time.Millisecond)
	if n := runs.Load(); n < 2 || n > 3 {
		t.Errorf("failing account ran %d times in 1.5 s; want a retry after 1 s, then backoff", n)
	}
	if n := ta.count("events", "type = ?", crm.EventAccountState); n < 3 {
		t.Errorf("account state events = %d", n)
	}
	// Disabling the account stops it.
	off := false
	if _, err := crm.SaveAccount(ta.db, ta.box, good.ID, crm.AccountInput{Enabled: &off}); err != nil {
		t.Fatal(err)
	}
	ta.Supervisor().Reload(good.ID)
	waitState(t, ta, good.ID, channels.Stopped)
}

func TestOnPostgresOneReplicaConsumesAnAccountAndAnotherTakesOver(t *testing.T) {
	db, dsn, box, factories, acc := replicatedAccount(t)
	replica := func() (*testApp, context.CancelFunc) {
		return startReplica(t, dsn, box, factories, 100*time.Millisecond)
	}
	first, stopFirst := replica()
	waitState(t, first, acc.ID, channels.Live)
	second, _ := replica()
	waitState(t, second, acc.ID, channels.Standby)
	// Asked on either replica, the account is live: the standby one tells
	// the state the running one reported, and says nothing of its own.
	for i, app := range []*testApp{first, second} {
		states, err := app.Supervisor().States(context.Background(), []int64{acc.ID})
		if err != nil || states[acc.ID].Phase != channels.Live {
			t.Errorf("replica %d: states %+v, %v; want live", i+1, states, err)
		}
	}
	var standby int64
	db.Model(&crm.Event{}).Where("type = ? AND data LIKE ?", crm.EventAccountState, `%"standby"%`).Count(&standby)
	if standby != 0 {
		t.Errorf("%d standby events went to every screen, where they would hide the running replica's live", standby)
	}
	stopFirst()
	first.Wait()
	waitState(t, second, acc.ID, channels.Live)
	if states, err := second.Supervisor().States(context.Background(), []int64{acc.ID}); err != nil || states[acc.ID].Phase != channels.Live {
		t.Errorf("after the takeover: %+v, %v; want live", states, err)
	}
}

// replicatedAccount is a WhatsApp account on a fresh PostgreSQL database
// for replicas to share (the test skips on SQLite: one process there).
func replicatedAccount(t *testing.T) (*gorm.DB, string, *crm.SecretBox, map[channels.Kind]channels.Factory, crm.Account) {
	t.Helper()
	if !crmtest.Postgres() {
		t.Skip("advisory locks are PostgreSQL's; SQLite runs one process (set " + crmtest.EnvURL + ")")
	}
	db, dsn := crmtest.OpenDSN(t)
	box, _ := crm.NewSecretBox(testKey)
	wa := &scripted{}
	factories := map[channels.Kind]channels.Factory{
		channels.WhatsApp: func(channels.Account, *slog.Logger) (channels.Adapter, error) { return wa, nil },
	}
	name := "wa"
	acc, err := crm.SaveAccount(db, box, 0, crm.AccountInput{Channel: "whatsapp", Name: &name})
	if err != nil {
		t.Fatal(err)
	}
	return db, dsn, box, factories, acc
}

// startReplica runs one more replica of the application on the database
// at dsn, its standby accounts trying their locks every standbyEvery.
func startReplica(t *testing.T, dsn string, box *crm.SecretBox, factories map[channels.Kind]channels.Factory, standbyEvery time.Duration) (*testApp, context.CancelFunc) {
	t.Helper()
	rdb, err := crm.Open(dsn, "")
	if err != nil {
		t.Fatal(err)
	}
	app := wrap(t, New(rdb, testLogger(t), box, Options{Channels: testChannels(factories)}), box)
	app.Supervisor().StandbyEvery = standbyEvery
	ctx, cancel := context.WithCancel(context.Background())
	if err := app.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cancel()
		app.Wait()
		if s, err := rdb.DB(); err == nil {
			s.Close()
		}
	})
	return app, cancel
}

// A replica stopping (SIGTERM, an upgrade) releases its accounts' locks
// and says so: the replica on standby takes over at once, not at its next
// try, an hour away here (issue 17, item 2).
func TestOnPostgresAStoppingReplicaHandsItsAccountOverAtOnce(t *testing.T) {
	_, dsn, box, factories, acc := replicatedAccount(t)
	first, stopFirst := startReplica(t, dsn, box, factories, time.Hour)
	waitState(t, first, acc.ID, channels.Live)
	second, _ := startReplica(t, dsn, box, factories, time.Hour)
	waitState(t, second, acc.ID, channels.Standby)
	stopFirst()
	first.Wait()
	waitState(t, second, acc.ID, channels.Live)
}

// linking stands in for WhatsApp's servers during a multi-device login:
// each value sent on codes is a fresh QR payload (the servers rotate it
// about every 20 s); an empty one is the phone scanning the code, and the
// account goes live.
type linking struct{ codes chan string }

func newLinking() *linking { return &linking{codes: make(chan string, 4)} }

func (l *linking) Run(ctx context.Context, sink channels.Sink, report func(channels.State)) error {
	for {
		select {
		case code := <-l.codes:
			if code == "" {
				report(channels.State{Phase: channels.Live})
			} else {
				report(channels.State{Phase: channels.Pairing, PairingCode: code})
			}
		case <-ctx.Done():
			return nil
		}
	}
}

func (l *linking) Send(context.Context, channels.Outbound) (string, error) {
	return "", channels.Permanent(errors.New("not linked"))
}

// Two QR payloads as WhatsApp's multi-device login hands them out: a ref,
// then the noise key, identity key and ADV secret, base64.
const (
	codeA = "2@Xk3cPQm1wJ8rYzL0Tq5vBn7sD2fH4gK6aE9uI1oR3tW5yZ8xC0vB2nM4qS6dF8hJ,oJ3kN5pQ7rT9vX1zB3dF5hK7mP9sU1wY3aC5eG7iL9=,dE4fG6hJ8kL0nP2rT4vX6zB8cF0hK2mP4sU6wY8aC1=,qW2eR4tY6uI8oP0aS2dF4gH6jK8lZ0xC2vB4nM6qW8="
	codeB = "2@Lm8nB6vC4xZ2aS0dF8gH6jK4lQ2wE0rT8yU6iO4pA,aB1cD3eF5gH7iJ9kL1mN3oP5qR7sT9uV1wX3yZ5bC7=,zY9xW7vU5tS3rQ1pO9nM7lK5jI3hG1fE9dC7bA5zY3=,mN4bV6cX8zL0kJ2hG4fD6sA8pO0iU2yT4rE6wQ8eR0="
)

// waitPairing waits until the account shows code.
func waitPairing(t *testing.T, a *testApp, id int64, code string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if st, ok := a.Supervisor().State(id); ok && st.Phase == channels.Pairing && st.PairingCode == code {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	st, _ := a.Supervisor().State(id)
	t.Fatalf("account %d: state %s, want pairing with code %.10s…", id, st.Phase, code)
}

// checkQR checks a pairing.png reply: a PNG, not to be cached, that draws
// exactly the QR code of text (every module's pixel is dark where the
// code's module is).
func checkQR(t *testing.T, r reply, text string) {
	t.Helper()
	if r.status != 200 || r.header.Get("Content-Type") != "image/png" || r.header.Get("Cache-Control") != "no-store" {
		t.Fatalf("pairing.png: %d %q %q, want 200 image/png no-store", r.status, r.header.Get("Content-Type"), r.header.Get("Cache-Control"))
	}
	img, err := png.Decode(bytes.NewReader(r.body))
	if err != nil {
		t.Fatalf("pairing.png is not a PNG: %v", err)
	}
	checkQRImage(t, img, text)
}

// checkQRImage checks that img draws exactly the QR code of text.
func checkQRImage(t *testing.T, img image.Image, text string) {
	t.Helper()
	b := img.Bounds()
	if b.Dx() == 0 || b.Dx() != b.Dy() {
		t.Fatalf("pairing.png is %v", b)
	}
	want, err := qr.Encode(text, qr.L)
	if err != nil {
		t.Fatal(err)
	}
	scale := b.Dx() / (want.Size + 8) // a 4-module quiet zone each side
	if scale < 2 {
		t.Fatalf("pairing.png is %d px for %d modules: too small to scan", b.Dx(), want.Size)
	}
	for y := 0; y < want.Size; y++ {
		for x := 0; x < want.Size; x++ {
			r, _, _, _ := img.At(b.Min.X+(x+4)*scale+scale/2, b.Min.Y+(y+4)*scale+scale/2).RGBA()
			if dark := r < 0x8000; dark != want.Black(x, y) {
				t.Fatalf("pairing.png module (%d,%d) dark=%v: it is not the QR code of %.10s…", x, y, dark, text)
			}
		}
	}
}

func TestTheOwnerAloneGetsTheQRCodeOfAnAccountBeingLinked(t *testing.T) {
	tm := newTeam(t)
	phone := newLinking()
	tm.useAdapters(map[channels.Kind]channels.Factory{
		channels.WhatsApp: func(channels.Account, *slog.Logger) (channels.Adapter, error) { return phone, nil },
	})
	wa := tm.account("whatsapp", "WhatsApp +7 913 000-00-01")
	tm.startApp()
	qrPath := p("/api/v1/accounts/%d/pairing.png", wa.ID)
	waitState(t, tm.testApp, tm.site.ID, channels.Hook)

	phone.codes <- codeA
	waitPairing(t, tm.testApp, wa.ID, codeA)
	checkQR(t, send(t, tm.owner, "GET", qrPath, nil), codeA)
	// The state is in memory before its event is committed: wait for it.
	eventually(t, "the pairing event", func() bool {
		return tm.count("events", "type = ? AND data LIKE ?", crm.EventAccountState, `%"phase":"pairing"%`) >= 1
	})
	eventsAtA := tm.count("events", "type = ?", crm.EventAccountState)
	runScenarios(t, []scenario{
		{name: "a lead may not see the code", as: tm.lead, method: "GET", path: qrPath, status: 403, code: "forbidden"},
		{name: "a manager may not see the code", as: tm.a, method: "GET", path: qrPath, status: 403, code: "forbidden"},
		{name: "no session, no code", as: tm.anon(), method: "GET", path: qrPath, status: 401},
		{name: "the owner's states show pairing but never the code", as: tm.owner, method: "GET", path: "/api/v1/accounts/states", status: 200,
			want: []string{`"phase":"pairing"`}, absent: []string{codeA, "Xk3cPQm1"}},
		{name: "a manager's states never carry the code", as: tm.a, method: "GET", path: "/api/v1/accounts/states", status: 200,
			want: []string{`"phase":"pairing"`}, absent: []string{codeA, "Xk3cPQm1"}},
		{name: "a web account has no code to scan", as: tm.owner, method: "GET", path: p("/api/v1/accounts/%d/pairing.png", tm.site.ID), status: 404, code: "not_found",
			want: []string{"is not waiting to be linked (state: hook)"}},
		{name: "a missing account is 404", as: tm.owner, method: "GET", path: "/api/v1/accounts/999999/pairing.png", status: 404, code: "not_found"},
		{name: "a bad id is 404", as: tm.owner, method: "GET", path: "/api/v1/accounts/x/pairing.png", status: 404, code: "not_found"},
	})

	// The servers rotate the code: the image changes, and the page hears of it.
	phone.codes <- codeB
	waitPairing(t, tm.testApp, wa.ID, codeB)
	b := send(t, tm.owner, "GET", qrPath, nil)
	checkQR(t, b, codeB)
	if a := send(t, tm.owner, "GET", qrPath, nil); a.status != 200 || !bytes.Equal(a.body, b.body) {
		t.Fatalf("the same code drew a different image")
	}
	eventually(t, "the rotation's event", func() bool { return tm.count("events", "type = ?", crm.EventAccountState) >= eventsAtA+1 })
	time.Sleep(100 * time.Millisecond) // and no other
	if n := tm.count("events", "type = ?", crm.EventAccountState); n != eventsAtA+1 {
		t.Errorf("account state events after a rotation: %d, want %d", n, eventsAtA+1)
	}

	// The phone scans it: live, and no code any more.
	phone.codes <- ""
	waitState(t, tm.testApp, wa.ID, channels.Live)
	r := send(t, tm.owner, "GET", qrPath, nil)
	if r.status != 404 || !strings.Contains(string(r.body), "is not waiting to be linked (state: live)") {
		t.Errorf("a live account's QR: %s, want 404 saying it is live", r)
	}
	checkErrorBody(t, r, "not_found")
	var leaked int64
	tm.db.Model(&crm.Event{}).Where("data LIKE ? OR data LIKE ?", "%Xk3cPQm1%", "%Lm8nB6vC%").Count(&leaked)
	if leaked != 0 {
		t.Errorf("%d stored events (sent to every WebSocket) carry a pairing code", leaked)
	}
}

func TestAWebAccountReceivesThroughItsHookAndSaysWhen(t *testing.T) {
	ta := newTestApp(t)
	site := ta.account("web", "site")
	quiet := ta.account("web", "old site")
	off := ta.account("web", "switched off")
	pbx := ta.account("phone", "pbx")
	disabled := false
	if _, err := crm.SaveAccount(ta.db, ta.box, off.ID, crm.AccountInput{Enabled: &disabled}); err != nil {
		t.Fatal(err)
	}
	first := ingest(t, ta, inbound(site.ID, "f-1", "+7 913 555-06-01", "Анна", "Перезвоните", time.Now()))
	arrived, err := crm.GetTouch(ta.db, first)
	if err != nil {
		t.Fatal(err)
	}
	ta.startApp()

	st := waitState(t, ta, site.ID, channels.Hook)
	if !st.LastReceived.Equal(arrived.CreatedAt) || st.Error != "" {
		t.Errorf("web account state %+v: want hook, last received %v", st, arrived.CreatedAt)
	}
	if st := waitState(t, ta, quiet.ID, channels.Hook); !st.LastReceived.IsZero() {
		t.Errorf("a web account that received nothing: %+v", st)
	}
	waitState(t, ta, off.ID, channels.Stopped)
	if st := waitState(t, ta, pbx.ID, channels.Stopped); !strings.Contains(st.Error, "no adapter for this channel") {
		t.Errorf("a channel with no adapter: %+v", st)
	}

	// A form posted to the hook moves the time on; a retry of it does not.
	before := time.Now()
	body := []byte(`{"submission_id":"form-2","name":"Борис","phone":"+7 913 555-06-02","message":"Сколько стоит?"}`)
	if r := hook(t, ta, p("/hooks/web/%d", quiet.ID), body, "s3cret"); r.status != 200 {
		t.Fatalf("hook: %s", r)
	}
	now, _ := ta.Supervisor().State(quiet.ID)
	if now.Phase != channels.Hook || now.LastReceived.Before(before) {
		t.Errorf("after a form: %+v, want last received after %v", now, before)
	}
	time.Sleep(10 * time.Millisecond)
	if r := hook(t, ta, p("/hooks/web/%d", quiet.ID), body, "s3cret"); r.status != 200 {
		t.Fatalf("hook retry: %s", r)
	}
	if again, _ := ta.Supervisor().State(quiet.ID); !again.LastReceived.Equal(now.LastReceived) {
		t.Errorf("a duplicate moved last received from %v to %v", now.LastReceived, again.LastReceived)
	}
}

// A misspelled or missing setting is refused when the account is saved,
// naming the field, instead of failing for ever once it runs (issue 14,
// item 14).
func TestAccountSettingsAreCheckedWhenSaved(t *testing.T) {
	ta := newTestApp(t)
	ta.user("owner@example.ru", crm.Owner)
	owner := ta.login("owner@example.ru")
	for _, c := range []struct {
		channel, settings, want string
		status                  int
	}{
		{"email", `{"address":"sales@example.ru","imap_host":"imap.example.ru","smtp_hots":"smtp.example.ru"}`, "smtp_hots", 422},
		{"email", `{"address":"sales@example.ru","imap_host":"imap.example.ru"}`, "smtp_host", 422},
		{"telegram", `{"mode":"pull"}`, "mode", 422},
		{"phone", `{"provider":"asterix"}`, "asterix", 422},
		{"phone", `{"provider":"asterisk","host":"pbx.example.ru"}`, "host and user", 422},
		{"phone", `{"provider":"mango","api_kye":"x"}`, "api_kye", 422},
		{"phone", `{"provider":"mango","api_key":"x"}`, "", 200},
		{"email", `{"address":"sales@example.ru","imap_host":"imap.example.ru","smtp_host":"smtp.example.ru"}`, "", 200},
	} {
		body := fmt.Sprintf(`{"channel":%q,"name":%q,"settings":%s,"secret":"s"}`, c.channel, c.channel+c.settings, c.settings)
		r := send(t, owner, "POST", "/api/v1/accounts", body)
		if r.status != c.status || !strings.Contains(string(r.body), c.want) {
			t.Errorf("%s %s: %s, want %d naming %q", c.channel, c.settings, r, c.status, c.want)
		}
	}
	if n := ta.count("accounts", ""); n != 2 {
		t.Errorf("%d accounts stored, want the 2 valid ones", n)
	}
}

// "Test connection" logs in with what the form has, before saving: a wrong
// password shows the server's own error, a good one what was reached; a
// stored account is tested with its stored secret (issue 14, item 14).
func TestAccountTestConnection(t *testing.T) {
	ta := newTestAppWith(t, func(o *Options) {
		o.Channels = testChannels(map[channels.Kind]channels.Factory{channels.Email: email.New, channels.Phone: phone.New})
	})
	ta.user("owner@example.ru", crm.Owner)
	ta.user("m@example.ru", crm.Manager)
	owner := ta.login("owner@example.ru")
	imapSrv, smtpSrv := emailtest.NewIMAPServer(t), emailtest.NewSMTPServer(t)
	ih, ip, _ := net.SplitHostPort(imapSrv.Addr)
	sh, sp, _ := net.SplitHostPort(smtpSrv.Addr)
	mail := fmt.Sprintf(`{"address":%q,"imap_host":%q,"imap_port":%s,"imap_security":"plain","allow_plain":true,"smtp_host":%q,"smtp_port":%s,"smtp_security":"plain"}`,
		emailtest.User, ih, ip, sh, sp)
	pbx := amitest.New(t, amitest.Options{})
	ami := fmt.Sprintf(`{"provider":"asterisk","host":%q,"port":%d,"user":%q}`, pbx.Host(), pbx.Port(), pbx.User())
	test := func(c *client, body string) (int, inbox.AccountTestResult) {
		var out inbox.AccountTestResult
		r := send(t, c, "POST", "/api/v1/accounts/test", body)
		json.Unmarshal(r.body, &out)
		return r.status, out
	}
	for _, c := range []struct {
		body, want string
		ok         bool
	}{
		{fmt.Sprintf(`{"channel":"email","settings":%s,"secret":%q}`, mail, emailtest.Password), "logged in as " + emailtest.User, true},
		{fmt.Sprintf(`{"channel":"email","settings":%s,"secret":"wrong"}`, mail), "imap login", false},
		{fmt.Sprintf(`{"channel":"phone","settings":%s,"secret":%q}`, ami, pbx.Secret()), "logged in as " + pbx.User(), true},
		{fmt.Sprintf(`{"channel":"phone","settings":%s,"secret":"wrong"}`, ami), "Authentication failed", false},
		{`{"channel":"phone","settings":{"provider":"generic"},"secret":"s"}`, "webhook", true},
	} {
		st, out := test(owner, c.body)
		if st != 200 || out.OK != c.ok || !strings.Contains(out.Message, c.want) {
			t.Errorf("%s: %d %+v, want ok=%v with %q", c.body, st, out, c.ok, c.want)
		}
	}
	if st, _ := test(owner, `{"channel":"phone","settings":{"provider":"asterix"}}`); st != 422 {
		t.Errorf("bad settings: %d, want 422", st)
	}
	if st, _ := test(ta.login("m@example.ru"), `{"channel":"phone","settings":{"provider":"generic"}}`); st != 403 {
		t.Errorf("a manager tests accounts: %d, want 403", st)
	}
	// A stored account: its secret stays on the server.
	acc := ta.phoneAccount("pbx", ami, pbx.Secret())
	if st, out := test(owner, fmt.Sprintf(`{"id":%d}`, acc.ID)); st != 200 || !out.OK {
		t.Errorf("stored account: %d %+v", st, out)
	}
	if n := ta.count("accounts", ""); n != 1 {
		t.Errorf("testing stored %d accounts", n-1)
	}
}
