package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/switchboard/switchboard/crm"
	"github.com/switchboard/switchboard/inbox/demo"
)

// stdoutOf runs fn and returns what it printed on standard output.
func stdoutOf(t *testing.T, fn func() error) (string, error) {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	saved := os.Stdout
	os.Stdout = w
	done := make(chan string)
	go func() {
		var b bytes.Buffer
		io.Copy(&b, r)
		done <- b.String()
	}()
	err = fn()
	os.Stdout = saved
	w.Close()
	return <-done, err
}

func demoCount(t *testing.T, db *gorm.DB, table, where string, args ...any) int64 {
	t.Helper()
	var n int64
	q := db.Table(table)
	if where != "" {
		q = q.Where(where, args...)
	}
	if err := q.Count(&n).Error; err != nil {
		t.Fatalf("count %s where %s: %v", table, where, err)
	}
	return n
}

func TestDemoFillsAnEmptyDatabaseOnce(t *testing.T) {
	dataEnv(t)
	t.Setenv("SWITCHBOARD_LOG_LEVEL", "error")
	ctx := context.Background()
	const password = "kitchens-2026"
	began := time.Now()
	out, err := stdoutOf(t, func() error { return run(ctx, []string{"demo", "--password", password}) })
	if err != nil {
		t.Fatalf("demo: %v\n%s", err, out)
	}
	t.Logf("demo took %s\n%s", time.Since(began).Round(time.Millisecond), out)
	for _, want := range []string{"s.kuznetsov@sibkuhni.example", "o.smirnova@sibkuhni.example", "a.volkova@sibkuhni.example",
		"d.orlov@sibkuhni.example", "e.belova@sibkuhni.example", "password: " + password, "switchboard serve", "disabled",
		"mail: 3 conversations with a client's colleague as a participant; 3 unreadable (owner → Unreadable); contacts with a foreign phone: 2"} {
		if !strings.Contains(out, want) {
			t.Errorf("the output does not say %q", want)
		}
	}

	db, err := crm.Open(os.Getenv("DATABASE_URL"), os.Getenv("SWITCHBOARD_DATA"))
	if err != nil {
		t.Fatal(err)
	}
	defer closeDB(db)
	now := time.Now().UTC()

	// Users, accounts, sources.
	if n := demoCount(t, db, "users", ""); n != 5 {
		t.Errorf("users = %d, want an owner, a lead and three managers", n)
	}
	for role, want := range map[string]int64{"owner": 1, "lead": 1, "manager": 3} {
		if n := demoCount(t, db, "users", "role = ?", role); n != want {
			t.Errorf("%s users = %d, want %d", role, n, want)
		}
	}
	var accs []crm.Account
	db.Order("id").Find(&accs)
	enabled := map[string]bool{}
	for _, a := range accs {
		enabled[a.Channel] = a.Enabled
		if a.Channel == "web" && a.Secret == "" {
			t.Error("the web account has no signing secret")
		}
	}
	if len(accs) != 5 || !enabled["phone"] || enabled["email"] || enabled["telegram"] || enabled["whatsapp"] || !enabled["web"] {
		t.Errorf("accounts %d, enabled %v: want phone and web enabled, email, telegram and whatsapp disabled", len(accs), enabled)
	}
	var sources []crm.AdSource
	db.Order("id").Find(&sources)
	if len(sources) != 5 {
		t.Fatalf("ad sources = %d, want 5", len(sources))
	}
	for _, s := range sources {
		var spend []crm.Spend
		db.Where("ad_source_id = ?", s.ID).Order("period_start").Find(&spend)
		if len(spend) != 3 {
			t.Errorf("%s: %d spend records, want one for each of 3 months", s.Name, len(spend))
		}
		for i, sp := range spend {
			if sp.Amount < 500000 || sp.Amount > 50000000 || sp.Currency != "RUB" {
				t.Errorf("%s: spend %d %s", s.Name, sp.Amount, sp.Currency)
			}
			if i > 0 && !sp.PeriodStart.After(spend[i-1].PeriodEnd) {
				t.Errorf("%s: spend periods overlap", s.Name)
			}
		}
		if len(spend) == 3 && (now.Sub(spend[0].PeriodStart) < 89*24*time.Hour || now.Sub(spend[2].PeriodEnd) > 48*time.Hour) {
			t.Errorf("%s: spend from %s to %s does not cover the 90 days", s.Name, spend[0].PeriodStart, spend[2].PeriodEnd)
		}
		var channels []string
		db.Raw(`SELECT DISTINCT a.channel FROM entry_points e JOIN accounts a ON a.id = e.account_id
			JOIN entry_point_bindings b ON b.entry_point_id = e.id WHERE b.ad_source_id = ? ORDER BY a.channel`, s.ID).Scan(&channels)
		if strings.Join(channels, ",") != "email,phone,telegram,web" {
			t.Errorf("%s has entry points on %v, want phone, email, telegram and web", s.Name, channels)
		}
	}

	// Touches on every channel, over the 90 days.
	total := demoCount(t, db, "touches", "")
	if total < 2300 || total > 4000 {
		t.Errorf("touches = %d, want about 3 000", total)
	}
	for _, ch := range []string{"phone", "email", "telegram", "whatsapp", "web"} {
		if n := demoCount(t, db, "touches", "channel = ? AND direction = 'in'", ch); n < 50 {
			t.Errorf("%s: %d inbound touches", ch, n)
		}
	}
	for _, ch := range []string{"email", "telegram", "whatsapp"} {
		if n := demoCount(t, db, "touches", "channel = ? AND direction = 'out'", ch); n < 50 {
			t.Errorf("%s: %d replies", ch, n)
		}
	}
	if n := demoCount(t, db, "touches", "occurred_at < ? OR occurred_at > ?", now.Add(-90*24*time.Hour-time.Hour), now); n > 0 {
		t.Errorf("%d touches outside the last 90 days", n)
	}
	if n := demoCount(t, db, "touches", "occurred_at < ?", now.Add(-80*24*time.Hour)); n < 100 {
		t.Errorf("only %d touches in the first ten days", n)
	}
	missed := demoCount(t, db, "touches", "channel = 'phone' AND meta LIKE ?", `%"call_answered":"false"%`)
	calls := demoCount(t, db, "touches", "channel = 'phone'")
	if missed == 0 || missed > calls/2 {
		t.Errorf("missed calls %d of %d", missed, calls)
	}
	replies := demoCount(t, db, "touches", "direction = 'out'")
	if n := demoCount(t, db, "touches", "direction = 'out' AND delivery_status = 'sent' AND author_id IS NOT NULL"); n != replies {
		t.Errorf("%d of %d replies are sent with an author", n, replies)
	}
	if n := demoCount(t, db, "outbox", "status = 'sent'"); n != replies {
		t.Errorf("outbox: %d sent jobs for %d replies", n, replies)
	}

	// Contacts: a good share come back.
	contacts := demoCount(t, db, "contacts", "")
	var ins []crm.Touch
	db.Select("contact_id", "occurred_at").Where("direction = 'in'").Find(&ins)
	days := map[int64]map[string]bool{}
	for _, x := range ins {
		if days[x.ContactID] == nil {
			days[x.ContactID] = map[string]bool{}
		}
		days[x.ContactID][x.OccurredAt.Add(7*time.Hour).Format(time.DateOnly)] = true
	}
	repeat := 0
	for _, d := range days {
		if len(d) > 1 {
			repeat++
		}
	}
	if contacts < 500 || repeat*4 < int(contacts) || repeat*2 > int(contacts) {
		t.Errorf("contacts %d, %d of them came back on another day: want about a third", contacts, repeat)
	}

	// Conversations: assigned, some not; some waiting.
	if n := demoCount(t, db, "conversations", "assignee_id IS NULL"); n == 0 {
		t.Error("no unassigned conversations")
	}
	for _, m := range []string{"a.volkova@sibkuhni.example", "d.orlov@sibkuhni.example", "e.belova@sibkuhni.example"} {
		u, _ := crm.UserByEmail(db, m)
		if n := demoCount(t, db, "conversations", "assignee_id = ?", u.ID); n < 50 {
			t.Errorf("%s has %d conversations", m, n)
		}
	}
	if n := demoCount(t, db, "conversations", "status = 'open' AND waiting_since IS NOT NULL AND channel IN ('email', 'telegram', 'whatsapp')"); n == 0 {
		t.Error("no chat or email conversation is waiting for a reply")
	}

	// Deals at every stage; won with amounts, lost with reasons.
	stages, _ := crm.Stages(db)
	for _, s := range stages {
		if n := demoCount(t, db, "deals", "stage_id = ?", s.ID); n == 0 {
			t.Errorf("no deal at stage %s", s.Name)
		}
	}
	if n := demoCount(t, db, "deals", "status = 'won'"); n < 30 {
		t.Errorf("%d won deals", n)
	}
	if n := demoCount(t, db, "deals", "status = 'won' AND (amount < 9000000 OR amount > 45000000 OR closed_at IS NULL)"); n > 0 {
		t.Errorf("%d won deals outside 90 000–450 000 ₽ or without a closing time", n)
	}
	var reasons []string
	db.Table("deals").Where("status = 'lost'").Distinct("lost_reason").Order("lost_reason").Pluck("lost_reason", &reasons)
	if strings.Join(reasons, ",") != "выбрали конкурента,дорого,не дозвонились,передумали" {
		t.Errorf("lost reasons %q", reasons)
	}
	if n := demoCount(t, db, "deals", "created_at < ?", now.Add(-60*24*time.Hour)); n < 100 {
		t.Errorf("%d deals were opened in the first month", n)
	}

	// Unlinked touches, two open deals, "not a sale".
	if n := demoCount(t, db, "touches", crm.UnlinkedTouch); n == 0 {
		t.Error("no unlinked touches")
	}
	var two int64
	db.Raw(`SELECT COUNT(*) FROM (SELECT contact_id FROM deals WHERE status = 'open' GROUP BY contact_id HAVING COUNT(*) > 1) x`).Scan(&two)
	if two == 0 {
		t.Error("no contact has two open deals")
	}
	for _, r := range []string{"спам", "поставщик"} {
		if n := demoCount(t, db, "touches", "not_a_sale = ?", r); n == 0 {
			t.Errorf("no touch marked not a sale: %s", r)
		}
	}

	// The audit trail holds.
	if err := run(ctx, []string{"audit", "verify"}); err != nil {
		t.Fatalf("audit verify: %v", err)
	}
	if n := demoCount(t, db, "audit_log", ""); n < 1000 {
		t.Errorf("audit rows = %d: the team's work is not audited", n)
	}

	// A second run refuses and changes nothing.
	err = run(ctx, []string{"demo"})
	if err == nil || !errors.Is(err, demo.ErrNotEmpty) || !strings.Contains(err.Error(), "not empty") {
		t.Fatalf("second demo: %v, want a refusal", err)
	}
	if n := demoCount(t, db, "touches", ""); n != total {
		t.Errorf("the refused run changed the touches: %d, then %d", total, n)
	}

	// Everyone logs in with the demo password.
	cfg := Config{DataDir: os.Getenv("SWITCHBOARD_DATA"), SecretKey: os.Getenv("SWITCHBOARD_SECRET_KEY"), Region: "RU", Currency: "RUB", LogLevel: "error"}
	srv, err := newServer(&cfg, db, cfg.logger())
	if err != nil {
		t.Fatal(err)
	}
	app := srv.App
	for _, email := range []string{"s.kuznetsov@sibkuhni.example", "o.smirnova@sibkuhni.example", "e.belova@sibkuhni.example"} {
		if _, _, u, err := app.Login(ctx, email, password, "127.0.0.1"); err != nil || u.Email != email {
			t.Errorf("login %s: %v", email, err)
		}
	}
	if _, _, _, err := app.Login(ctx, "a.volkova@sibkuhni.example", demo.DefaultPassword, "127.0.0.1"); err == nil {
		t.Error("the default password works although --password chose another")
	}
}

// TestDemoRefusalExitCode runs the binary's main on a database with data:
// it must exit with status 1 and say why.
func TestDemoRefusalExitCode(t *testing.T) {
	if os.Getenv("SWITCHBOARD_DEMO_MAIN") == "1" {
		os.Args = []string{"switchboard", "demo"}
		main()
		return
	}
	dataEnv(t)
	t.Setenv("SWITCHBOARD_LOG_LEVEL", "error")
	ctx := context.Background()
	if err := run(ctx, []string{"user", "add", "--email", "lead@example.ru", "--role", "lead", "--password", "long-enough"}); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestDemoRefusalExitCode$")
	cmd.Env = append(os.Environ(), "SWITCHBOARD_DEMO_MAIN=1")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	err := cmd.Run()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 1 {
		t.Fatalf("demo on a database with a user: %v, want exit status 1; stderr:\n%s", err, stderr.String())
	}
	if !strings.Contains(stderr.String(), "not empty") || !strings.Contains(stderr.String(), "1 user") {
		t.Errorf("stderr does not say why:\n%s", stderr.String())
	}
}

func TestDemoHelp(t *testing.T) {
	err := run(context.Background(), []string{"demo", "--help"})
	if err == nil || !strings.Contains(err.Error(), "help requested") {
		t.Errorf("demo --help: %v", err)
	}
}
