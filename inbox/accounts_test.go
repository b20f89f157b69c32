package inbox

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/switchboard/switchboard/channels"
	"github.com/switchboard/switchboard/crm"
	"github.com/switchboard/switchboard/crm/crmtest"
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

func waitState(t *testing.T, a *App, id int64, phase channels.Phase) channels.State {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if st, ok := a.AccountState(id); ok && st.Phase == phase {
			return st
		}
		time.Sleep(20 * time.Millisecond)
	}
	st, _ := a.AccountState(id)
	t.Fatalf("account %d: state %+v, want %s", id, st, phase)
	return st
}

func TestAFailingAccountRetriesWithBackoffAndNeverStopsTheOthers(t *testing.T) {
	ta := newTestApp(t)
	runs := &atomic.Int32{}
	ok := &scripted{}
	ta.opts.Adapters = map[channels.Kind]channels.Factory{
		channels.Email:    func(channels.Account, *slog.Logger) (channels.Adapter, error) { return failing{runs}, nil },
		channels.WhatsApp: func(channels.Account, *slog.Logger) (channels.Adapter, error) { return ok, nil },
	}
	bad := ta.account("email", "mailbox")
	good := ta.account("whatsapp", "wa")
	web := ta.account("web", "site")
	ctx, cancel := context.WithCancel(context.Background())
	defer func() { cancel(); ta.Wait() }()
	if err := ta.Start(ctx); err != nil {
		t.Fatal(err)
	}
	st := waitState(t, ta.App, bad.ID, channels.Failing)
	if !strings.Contains(st.Error, "Invalid credentials") || st.RetryAt.IsZero() {
		t.Errorf("failing state = %+v: it must carry the server's error and when it retries", st)
	}
	waitState(t, ta.App, good.ID, channels.Live)
	waitState(t, ta.App, web.ID, channels.Stopped) // hooks only, nothing to run
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
	ta.ReloadAccount(good.ID)
	waitState(t, ta.App, good.ID, channels.Stopped)
}

func TestOnPostgresOneReplicaConsumesAnAccountAndAnotherTakesOver(t *testing.T) {
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
	replica := func() (*App, context.CancelFunc) {
		rdb, err := crm.Open(dsn, "")
		if err != nil {
			t.Fatal(err)
		}
		app := New(rdb, testLogger(t), box, Options{Adapters: factories})
		app.accts.standby = 100 * time.Millisecond
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
	first, stopFirst := replica()
	waitState(t, first, acc.ID, channels.Live)
	second, _ := replica()
	waitState(t, second, acc.ID, channels.Standby)
	stopFirst()
	first.Wait()
	waitState(t, second, acc.ID, channels.Live)
}
